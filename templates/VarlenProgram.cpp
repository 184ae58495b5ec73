#include "templates/VarlenProgram.h"

#include <algorithm>

#include "llvm/Support/MathExtras.h"

using namespace mobagen::templates;
using mobagen::tile::ProgramAxis;

QueryBlockProgram mobagen::templates::queryBlockProgram(KernelBuilder &kb, moba::ConfigAttr config,
                                                        const Tile &cuQ, const Tile &cuK,
                                                        int64_t blockM) {
  const int64_t headDim = config.getHeadDim();
  Tile mBlock = kb.programId(ProgramAxis::x);
  Tile head = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile qStart = kb.load(cuQ + seq), qLen = kb.load(cuQ + (seq + 1)) - qStart;
  Tile kStart = kb.load(cuK + seq), kLen = kb.load(cuK + (seq + 1)) - kStart;
  Tile kvHead = head / config.getGroupSize();
  Tile rows = mBlock * blockM + kb.arange(0, blockM);
  Tile dims = kb.arange(0, headDim);
  Tile qRowBase = (qStart + rows) * (config.getNumQHeads() * headDim) + head * headDim;
  return {mBlock,
          head,
          seq,
          qStart,
          qLen,
          kStart,
          kLen,
          kvHead,
          rows,
          rows < qLen,
          dims,
          qRowBase.expandDims(1) + dims.expandDims(0),
          kLen - qLen + rows};
}

Tile mobagen::templates::blockCount(const Tile &len, int64_t blockSize) {
  return (len + (blockSize - 1)) / blockSize;
}

Tile mobagen::templates::blocksBefore(KernelBuilder &kb, const Tile &cuK, const Tile &seq,
                                      int64_t blockSize) {
  mlir::Type i32 = kb.i32();
  return kb.forLoop(kb.constant(0, i32), seq, kb.constant(1, i32), {kb.constant(0, i32)},
                    [&](Tile b, llvm::ArrayRef<Tile> carried) -> llvm::SmallVector<Tile> {
                      Tile len = kb.load(cuK + (b + 1)) - kb.load(cuK + b);
                      return {carried[0] + blockCount(len, blockSize)};
                    })[0];
}

int64_t mobagen::templates::keyTileFor(int64_t blockSize, int64_t most) {
  // blockSize & -blockSize: the lowest set bit, the largest power of two dividing it.
  return std::min(most, blockSize & -blockSize);
}

mlir::LogicalResult mobagen::templates::checkTileExtent(mlir::ModuleOp module, llvm::StringRef name,
                                                        int64_t value, int64_t least,
                                                        int64_t most) {
  if (value >= least && value <= most && llvm::isPowerOf2_64(value))
    return mlir::success();
  return mlir::emitError(module.getLoc()) << name << " = " << value
                                          << " is invalid: must be a power of two in [" << least
                                          << ", " << most << "]";
}

mlir::LogicalResult mobagen::templates::checkAttentionTiles(mlir::ModuleOp module, int64_t blockM,
                                                            int64_t blockN, int64_t numWarps) {
  if (failed(checkTileExtent(module, "block_m", blockM, 16, 128)) ||
      failed(checkTileExtent(module, "block_n", blockN, 16, 128)))
    return mlir::failure();
  return tile::verifyNumWarps(numWarps, [&] { return mlir::emitError(module.getLoc()); });
}

void mobagen::templates::setNumStages(mlir::scf::ForOp loop, int64_t numStages) {
  loop->setAttr("tile.num_stages", mlir::IntegerAttr::get(
                                       mlir::IntegerType::get(loop.getContext(), 32),
                                       static_cast<int32_t>(numStages)));
}

mlir::func::FuncOp mobagen::templates::finishKernel(KernelBuilder &kb, moba::ConfigAttr config,
                                                    int64_t numWarps) {
  kb.finish();
  mlir::func::FuncOp func = kb.function();
  func->setAttr("moba.config", config);
  func->setAttr("tile.num_warps",
                kb.opBuilder().getI32IntegerAttr(static_cast<int32_t>(numWarps)));
  return func;
}
