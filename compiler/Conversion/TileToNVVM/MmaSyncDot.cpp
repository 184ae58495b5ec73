#include "compiler/Conversion/TileToNVVM/MmaSyncDot.h"

#include "compiler/Conversion/TileToNVVM/TileLayout.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mobagen::compiler {

using namespace mlir;

namespace {

/// Element (row, col) of a row-major shared-memory copy with row stride `stride`,
/// XOR-swizzled or not (stagedIndex).
/// (ldmatrix addresses: `col` starts a 16-byte chunk.)
Value elementAddress(ImplicitLocOpBuilder &b, Value buffer, Type element, Value row, Value col,
                     int64_t stride, bool swizzled = false) {
  Value index = stagedIndex(b, row, col, stride, swizzled, /*chunkStart=*/swizzled);
  return LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
}

/// `count` (2 or 4) 8x8 matrices of 16-bit elements; this lane's address is the
/// start of row `lane mod 8` of matrix `lane div 8`. Returns one i32 register per
/// matrix, as mma.sync takes them for bf16, or as vector<2xf16> for f16.
SmallVector<Value> loadMatrices(ImplicitLocOpBuilder &b, Value address, int count, bool trans,
                                Type element) {
  Type i32 = b.getI32Type();
  SmallVector<Type> fields(count, i32);
  auto type = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
  auto load = NVVM::LdMatrixOp::create(
      b, type, address, b.getI32IntegerAttr(count),
      NVVM::MMALayoutAttr::get(b.getContext(), trans ? NVVM::MMALayout::col : NVVM::MMALayout::row),
      NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
      NVVM::LdStMatrixEltTypeAttr::get(b.getContext(), NVVM::LdStMatrixEltType::B16));
  SmallVector<Value> registers;
  for (int i = 0; i < count; ++i) {
    Value r = LLVM::ExtractValueOp::create(b, load.getResult(), ArrayRef<int64_t>{i});
    if (element.isF16())
      r = LLVM::BitcastOp::create(b, VectorType::get({2}, element), r);
    registers.push_back(r);
  }
  return registers;
}

/// One mma.sync m16n8k16 of `element` operands: D = A B + C.
SmallVector<Value> mmaSync(ImplicitLocOpBuilder &b, Type element, ValueRange a, ValueRange bFrag,
                           ValueRange c) {
  Type f32 = b.getF32Type();
  const NVVM::MMATypes ptxType = element.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
  auto resultType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  auto mma = NVVM::MmaOp::create(
      b, resultType, a, bFrag, c,
      ArrayRef<int64_t>{MmaSyncDotLayout::tileM, MmaSyncDotLayout::tileN, MmaSyncDotLayout::tileK},
      /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
      std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
  SmallVector<Value> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, mma.getResult(), ArrayRef<int64_t>{i}));
  return d;
}

/// The per-lane values of a warp's ldmatrix addresses and tiles.
struct LaneFrame {
  Value lane, warpM, warpN;
  // Lane l names row l mod 16 of a 16-row piece, and for A's x4 the right 8
  // columns when l >= 16 (matrices: rows 0-7 | 8-15, k 0-7 | 8-15).
  Value matrixRow, matrixCol;
  // For B staged [N, K]: row lane mod 8 of matrix (lane div 8) mod 2.
  Value bMatrixRow, bMatrixCol;
};

LaneFrame laneFrame(ImplicitLocOpBuilder &b, const MmaSyncDotLayout &l, Value tid) {
  LaneFrame f;
  Value warp = arith::DivUIOp::create(b, tid, constantI32(b, 32));
  f.lane = arith::RemUIOp::create(b, tid, constantI32(b, 32));
  f.warpM = arith::RemUIOp::create(b, warp, constantI32(b, l.warpsM));
  f.warpN = arith::DivUIOp::create(b, warp, constantI32(b, l.warpsM));
  f.matrixRow = arith::RemUIOp::create(b, f.lane, constantI32(b, 16));
  f.matrixCol = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, f.lane, constantI32(b, 16)), constantI32(b, 8));
  if (l.bTransposed) {
    f.bMatrixRow = arith::RemUIOp::create(b, f.lane, constantI32(b, 8));
    f.bMatrixCol = arith::MulIOp::create(
        b, arith::RemUIOp::create(b, arith::DivUIOp::create(b, f.lane, constantI32(b, 8)),
                                  constantI32(b, 2)),
        constantI32(b, 8));
  }
  return f;
}

/// b0b1 | b2b3 of the n tile whose first column is `tileCol`, at k step `k`: the
/// k 0-7 and k 8-15 halves of B[k.., tileCol..]. Staged [K, N], each half is
/// transposed by ldmatrix; staged [N, K], lane l names row n = l mod 8 of half
/// l div 8 (lanes 16-31 unused by .x2), and the plain ldmatrix map (row l / 4,
/// columns 2 (l % 4) + {0, 1}) is already (n = g, k = 2t + {0, 1}).
SmallVector<Value> loadBFragments(ImplicitLocOpBuilder &b, const MmaSyncDotLayout &l,
                                  const MmaSyncDotOperands &ops, const LaneFrame &f, Value k,
                                  Value tileCol) {
  Type element = ops.operandType;
  Value address =
      l.bTransposed
          ? elementAddress(b, ops.bBuffer, element, arith::AddIOp::create(b, tileCol, f.bMatrixRow),
                           arith::AddIOp::create(b, k, f.bMatrixCol), l.bStride, l.bSwizzled)
          : elementAddress(b, ops.bBuffer, element, arith::AddIOp::create(b, k, f.matrixRow),
                           tileCol, l.bStride, l.bSwizzled);
  return loadMatrices(b, address, 2, /*trans=*/!l.bTransposed, element);
}

} // namespace

SmallVector<Value> emitMmaSyncDotInRegisters(ImplicitLocOpBuilder &b, const MmaSyncDotLayout &l,
                                             Value tid, const MmaSyncDotOperands &ops,
                                             ValueRange acc) {
  const int64_t mPerWarp = l.mTiles / l.warpsM;
  assert(l.mTiles % l.warpsM == 0 && static_cast<int64_t>(acc.size()) ==
                                          mPerWarp * l.nTilesPerWarp * 4 &&
         "the accumulator layout of ValueLayout.h");
  const LaneFrame f = laneFrame(b, l, tid);
  // Row of A's ldmatrix address for the warp's m tile i, and first column of its n tile j.
  Value aRow0 = arith::AddIOp::create(
      b, arith::MulIOp::create(b, f.warpM, constantI32(b, l.tileM)), f.matrixRow);
  Value tileCol0 = arith::MulIOp::create(b, f.warpN, constantI32(b, l.tileN));
  auto nTileCol = [&](int64_t j) -> Value {
    return arith::AddIOp::create(b, tileCol0, constantI32(b, j * l.warpsN * l.tileN));
  };

  Type element = ops.operandType;
  if (!ops.aSlots.empty()) {
    // A from registers: the C/D fragment of n tile j of A's grid holds (g, 2t..2t+1)
    // and (g + 8, 2t..2t+1) of columns 8 j..8 j + 7, which is the A fragment's
    // a0a1, a2a3 for k step j / 2 (j even) or a4a5, a6a7 (j odd). The k loop is
    // unrolled: each step takes its registers by a constant index.
    const int64_t aTiles = l.kSteps * 2; // A's n tiles per warp (warpsN = 1)
    auto pack = [&](Value lo, Value hi) -> Value {
      auto pairType = VectorType::get({2}, element);
      Value pair = LLVM::PoisonOp::create(b, pairType);
      pair = LLVM::InsertElementOp::create(b, pair, lo, constantI32(b, 0));
      pair = LLVM::InsertElementOp::create(b, pair, hi, constantI32(b, 1));
      if (element.isF16())
        return pair;
      return LLVM::BitcastOp::create(b, b.getI32Type(), pair);
    };
    SmallVector<Value> current(acc.begin(), acc.end());
    for (int64_t step = 0; step < l.kSteps; ++step) {
      Value k = constantI32(b, step * l.tileK);
      SmallVector<SmallVector<Value>> bFrags;
      for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
        bFrags.push_back(loadBFragments(b, l, ops, f, k, nTileCol(j)));
      SmallVector<Value> next;
      for (int64_t i = 0; i < mPerWarp; ++i) {
        auto slot = [&](int64_t tile, int64_t r) {
          return ops.aSlots[4 * (i * aTiles + tile) + r];
        };
        const Value a[] = {pack(slot(2 * step, 0), slot(2 * step, 1)),
                           pack(slot(2 * step, 2), slot(2 * step, 3)),
                           pack(slot(2 * step + 1, 0), slot(2 * step + 1, 1)),
                           pack(slot(2 * step + 1, 2), slot(2 * step + 1, 3))};
        for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
          llvm::append_range(next,
                             mmaSync(b, element, a, bFrags[j],
                                     ArrayRef(current).slice(4 * (i * l.nTilesPerWarp + j), 4)));
      }
      current = std::move(next);
    }
    return current;
  }

  auto kLoop = scf::ForOp::create(b, constantI32(b, 0), constantI32(b, l.kSteps),
                                  constantI32(b, 1), acc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(kLoop.getBody());
  Value k = arith::MulIOp::create(b, kLoop.getInductionVar(), constantI32(b, l.tileK));
  // B's fragments of each n tile, shared by the warp's m tiles.
  SmallVector<SmallVector<Value>> bFrags;
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
    bFrags.push_back(loadBFragments(b, l, ops, f, k, nTileCol(j)));
  SmallVector<Value> next;
  Value aCol = arith::AddIOp::create(b, k, f.matrixCol);
  for (int64_t i = 0; i < mPerWarp; ++i) {
    Value aRow = arith::AddIOp::create(b, aRow0, constantI32(b, i * l.warpsM * l.tileM));
    SmallVector<Value> a = loadMatrices(
        b, elementAddress(b, ops.aBuffer, element, aRow, aCol, l.aStride, l.aSwizzled), 4,
        /*trans=*/false, element);
    for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
      llvm::append_range(next, mmaSync(b, element, a, bFrags[j],
                                       kLoop.getRegionIterArgs().slice(
                                           4 * (i * l.nTilesPerWarp + j), 4)));
  }
  scf::YieldOp::create(b, next);
  return SmallVector<Value>(kLoop.getResults());
}

void emitMmaSyncDot(ImplicitLocOpBuilder &b, const MmaSyncDotLayout &l, Value tid,
                    const MmaSyncDotOperands &ops) {
  Type f32 = b.getF32Type();
  auto pairType = VectorType::get({2}, f32);
  const LaneFrame f = laneFrame(b, l, tid);
  Value group = arith::DivUIOp::create(b, f.lane, constantI32(b, 4));   // g
  Value inGroup = arith::RemUIOp::create(b, f.lane, constantI32(b, 4)); // t
  Value pairCol = arith::MulIOp::create(b, inGroup, constantI32(b, 2)); // 2t

  // The n tiles of this warp: ni = warpN + j * warpsN, j < nTilesPerWarp.
  SmallVector<Value> tileCol, accCol; // first column of tile j, and C/D column 2t in it
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
    Value ni = arith::AddIOp::create(b, f.warpN, constantI32(b, j * l.warpsN));
    tileCol.push_back(arith::MulIOp::create(b, ni, constantI32(b, l.tileN)));
    accCol.push_back(arith::AddIOp::create(b, tileCol.back(), pairCol));
  }

  // Every trip count depends on the warp only, so a warp's lanes stay converged
  // through ldmatrix and mma.sync (they require all 32).
  auto mLoop = scf::ForOp::create(b, f.warpM, constantI32(b, l.mTiles), constantI32(b, l.warpsM));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(mLoop.getBody()->getTerminator());
  Value tileRow = arith::MulIOp::create(b, mLoop.getInductionVar(), constantI32(b, l.tileM));
  Value row0 = arith::AddIOp::create(b, tileRow, group);
  Value row1 = arith::AddIOp::create(b, row0, constantI32(b, 8));
  Value aRow = arith::AddIOp::create(b, tileRow, f.matrixRow);

  // C/D fragments as two 8-byte pairs: c0c1 at (g, 2t), c2c3 at (g + 8, 2t).
  auto pairAddresses = [&](int64_t j) {
    return std::array<Value, 2>{elementAddress(b, ops.cBuffer, f32, row0, accCol[j], l.cStride),
                                elementAddress(b, ops.cBuffer, f32, row1, accCol[j], l.cStride)};
  };
  SmallVector<Value> acc;
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
    if (ops.uniformAcc) {
      acc.append(4, ops.uniformAcc);
      continue;
    }
    for (Value addr : pairAddresses(j)) {
      Value pair = LLVM::LoadOp::create(b, pairType, addr, /*alignment=*/8);
      for (int64_t i = 0; i < 2; ++i)
        acc.push_back(LLVM::ExtractElementOp::create(b, pair, constantI32(b, i)));
    }
  }

  Value one = constantI32(b, 1);
  auto kLoop = scf::ForOp::create(b, constantI32(b, 0), constantI32(b, l.kSteps), one, acc);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k = arith::MulIOp::create(b, kLoop.getInductionVar(), constantI32(b, l.tileK));
    Type element = ops.operandType;
    // a0a1 | a2a3 | a4a5 | a6a7 from the four 8x8 quarters of A[tileRow.., k..].
    SmallVector<Value> a = loadMatrices(
        b,
        elementAddress(b, ops.aBuffer, element, aRow, arith::AddIOp::create(b, k, f.matrixCol),
                       l.aStride, l.aSwizzled),
        4, /*trans=*/false, element);
    SmallVector<Value> next;
    for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
      SmallVector<Value> bFrag = loadBFragments(b, l, ops, f, k, tileCol[j]);
      llvm::append_range(next,
                         mmaSync(b, element, a, bFrag, kLoop.getRegionIterArgs().slice(4 * j, 4)));
    }
    scf::YieldOp::create(b, next);
  }

  // D fragments over C: each element has exactly one owning lane in one warp.
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
    for (auto [half, addr] : llvm::enumerate(pairAddresses(j))) {
      Value pair = LLVM::PoisonOp::create(b, pairType);
      for (int64_t i = 0; i < 2; ++i)
        pair = LLVM::InsertElementOp::create(b, pair, kLoop.getResult(4 * j + 2 * half + i),
                                             constantI32(b, i));
      LLVM::StoreOp::create(b, pair, addr, /*alignment=*/8);
    }
}

} // namespace mobagen::compiler
