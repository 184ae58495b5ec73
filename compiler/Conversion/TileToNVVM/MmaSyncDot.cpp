#include "compiler/Conversion/TileToNVVM/MmaSyncDot.h"

#include "compiler/Conversion/TileToNVVM/TileLayout.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mobagen::compiler {

using namespace mlir;

namespace {

/// Element (row, col) of a row-major shared-memory copy with row stride `stride`.
Value elementAddress(ImplicitLocOpBuilder &b, Value buffer, Type element, Value row, Value col,
                     int64_t stride) {
  Value index = arith::AddIOp::create(
      b, arith::MulIOp::create(b, row, constantI32(b, stride)), col);
  return LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
}

/// One operand register: the two 16-bit elements at (row, col) and (row, col + 1),
/// as mma.sync takes them (i32 for bf16, vector<2xf16> for f16).
Value loadOperandPair(ImplicitLocOpBuilder &b, Value buffer, Type element, Value row, Value col,
                      int64_t stride) {
  Type pair = element.isF16() ? Type(VectorType::get({2}, element)) : Type(b.getI32Type());
  return LLVM::LoadOp::create(b, pair, elementAddress(b, buffer, element, row, col, stride),
                              /*alignment=*/4);
}

} // namespace

void emitMmaSyncDot(ImplicitLocOpBuilder &b, const MmaSyncDotLayout &l, Value tid,
                    const MmaSyncDotOperands &ops) {
  Type f32 = b.getF32Type();
  Value warp = arith::DivUIOp::create(b, tid, constantI32(b, 32));
  Value lane = arith::RemUIOp::create(b, tid, constantI32(b, 32));
  Value group = arith::DivUIOp::create(b, lane, constantI32(b, 4));   // g
  Value inGroup = arith::RemUIOp::create(b, lane, constantI32(b, 4)); // t
  Value pairCol = arith::MulIOp::create(b, inGroup, constantI32(b, 2)); // 2t
  Value warpM = arith::RemUIOp::create(b, warp, constantI32(b, l.warpsM));
  Value warpN = arith::DivUIOp::create(b, warp, constantI32(b, l.warpsM));

  // The n tiles of this warp: ni = warpN + j * warpsN, j < nTilesPerWarp.
  SmallVector<Value> accCol, bRow; // C/D column 2t and B (as [N,K]) row g of tile j
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
    Value ni = arith::AddIOp::create(b, warpN, constantI32(b, j * l.warpsN));
    Value base = arith::MulIOp::create(b, ni, constantI32(b, l.tileN));
    accCol.push_back(arith::AddIOp::create(b, base, pairCol));
    bRow.push_back(arith::AddIOp::create(b, base, group));
  }

  // Every trip count depends on the warp only, so a warp's lanes stay converged
  // through mma.sync (it requires all 32).
  auto mLoop = scf::ForOp::create(b, warpM, constantI32(b, l.mTiles), constantI32(b, l.warpsM));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(mLoop.getBody()->getTerminator());
  Value row0 = arith::AddIOp::create(
      b, arith::MulIOp::create(b, mLoop.getInductionVar(), constantI32(b, l.tileM)), group);
  Value row1 = arith::AddIOp::create(b, row0, constantI32(b, 8));
  Value one = constantI32(b, 1);

  // C fragments: c0 c1 at (row0, col, col+1), c2 c3 at (row1, col, col+1).
  auto fragmentAddresses = [&](int64_t j) {
    Value col1 = arith::AddIOp::create(b, accCol[j], one);
    return std::array<Value, 4>{
        elementAddress(b, ops.cBuffer, f32, row0, accCol[j], l.cStride),
        elementAddress(b, ops.cBuffer, f32, row0, col1, l.cStride),
        elementAddress(b, ops.cBuffer, f32, row1, accCol[j], l.cStride),
        elementAddress(b, ops.cBuffer, f32, row1, col1, l.cStride)};
  };
  SmallVector<Value> acc;
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
    if (ops.uniformAcc) {
      acc.append(4, ops.uniformAcc);
      continue;
    }
    for (Value addr : fragmentAddresses(j))
      acc.push_back(LLVM::LoadOp::create(b, f32, addr));
  }

  auto kLoop = scf::ForOp::create(b, constantI32(b, 0), constantI32(b, l.kSteps), one, acc);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k0 = arith::AddIOp::create(
        b, arith::MulIOp::create(b, kLoop.getInductionVar(), constantI32(b, l.tileK)), pairCol);
    Value k8 = arith::AddIOp::create(b, k0, constantI32(b, 8));
    Type element = ops.operandType;
    // a0a1 (g, 2t) a2a3 (g+8, 2t) a4a5 (g, 2t+8) a6a7 (g+8, 2t+8)
    SmallVector<Value> a{loadOperandPair(b, ops.aBuffer, element, row0, k0, l.aStride),
                         loadOperandPair(b, ops.aBuffer, element, row1, k0, l.aStride),
                         loadOperandPair(b, ops.aBuffer, element, row0, k8, l.aStride),
                         loadOperandPair(b, ops.aBuffer, element, row1, k8, l.aStride)};
    const NVVM::MMATypes ptxType = element.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    auto resultType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    SmallVector<Value> next;
    for (int64_t j = 0; j < l.nTilesPerWarp; ++j) {
      // b0b1 (k = 2t, n = g) b2b3 (k = 2t+8, n = g): rows of B staged as [N,K].
      SmallVector<Value> bFrag{loadOperandPair(b, ops.bBuffer, element, bRow[j], k0, l.bStride),
                               loadOperandPair(b, ops.bBuffer, element, bRow[j], k8, l.bStride)};
      ValueRange c = kLoop.getRegionIterArgs().slice(4 * j, 4);
      auto mma = NVVM::MmaOp::create(
          b, resultType, a, bFrag, c, ArrayRef<int64_t>{l.tileM, l.tileN, l.tileK},
          /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
          std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
      for (int64_t i = 0; i < 4; ++i)
        next.push_back(LLVM::ExtractValueOp::create(b, mma.getResult(), ArrayRef<int64_t>{i}));
    }
    scf::YieldOp::create(b, next);
  }

  // D fragments over C: each element has exactly one owning lane in one warp.
  for (int64_t j = 0; j < l.nTilesPerWarp; ++j)
    for (auto [i, addr] : llvm::enumerate(fragmentAddresses(j)))
      LLVM::StoreOp::create(b, kLoop.getResult(4 * j + i), addr);
}

} // namespace mobagen::compiler
