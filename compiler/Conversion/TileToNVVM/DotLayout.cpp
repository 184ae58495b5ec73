#include "compiler/Conversion/TileToNVVM/DotLayout.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

namespace mobagen::compiler {

using namespace mlir;

std::optional<DotLowering> parseDotLowering(llvm::StringRef name) {
  if (name == "fma")
    return DotLowering::fma;
  if (name == "mma")
    return DotLowering::mma;
  return std::nullopt;
}

llvm::StringRef stringifyDotLowering(DotLowering lowering) {
  switch (lowering) {
  case DotLowering::fma:
    return "fma";
  case DotLowering::mma:
    return "mma";
  }
  llvm_unreachable("unknown dot lowering");
}

namespace {

/// The warp grid: among warpsM x warpsN = numWarps with warpsN dividing nTiles
/// (so every warp unrolls the same number of n tiles), the one with the most
/// warps holding work; ties go to the taller grid, whose warps each own whole
/// rows (what a row reduction of the result will want).
std::pair<int64_t, int64_t> chooseWarpGrid(int64_t numWarps, int64_t mTiles, int64_t nTiles) {
  int64_t bestM = numWarps, bestActive = -1;
  for (int64_t warpsM = numWarps; warpsM >= 1; warpsM /= 2) {
    const int64_t warpsN = numWarps / warpsM;
    if (nTiles % warpsN != 0)
      continue;
    const int64_t active = std::min(warpsM, mTiles) * warpsN;
    if (active > bestActive) {
      bestActive = active;
      bestM = warpsM;
    }
  }
  return {bestM, numWarps / bestM};
}

/// Row stride, in elements, of a shared-memory copy with rows of `n` (a multiple
/// of 8) elements. Fragment accesses touch several rows at once: ldmatrix reads 8
/// rows of 16 bytes per matrix; the f32 accumulator pairs (8 bytes a lane, 16
/// lanes a phase) cover 4 rows of 32 bytes. A stride of 8 (mod 16) elements puts
/// them on disjoint banks: for halves row r starts at word 4 r x odd (mod 32), for
/// floats at word 8 r x odd (mod 32).
int64_t paddedStride(int64_t n) { return n % 16 == 0 ? n + MmaSyncDotLayout::pad : n; }

} // namespace

bool swizzlesRows(int64_t rowElements) {
  return rowElements % 8 == 0 && llvm::isPowerOf2_64(rowElements / 8);
}

int64_t swizzledOffset(int64_t row, int64_t col, int64_t rowElements) {
  const int64_t chunks = rowElements / 8, chunk = col / 8, within = col % 8;
  if (chunks >= 8)
    return row * rowElements + (chunk ^ (row & 7)) * 8 + within;
  const int64_t linear = row * chunks + chunk;
  return (linear ^ ((linear >> 3) & 7)) * 8 + within;
}

std::optional<MmaSyncDotLayout> chooseMmaSyncLayout(tile::DotOp dot, int64_t numWarps,
                                                    std::string *whyNot, bool bTransposed,
                                                    bool aCopied, bool bCopied) {
  auto fail = [&](std::string reason) -> std::optional<MmaSyncDotLayout> {
    if (whyNot)
      *whyNot = std::move(reason);
    return std::nullopt;
  };
  auto aType = cast<RankedTensorType>(dot.getA().getType());
  auto bType = cast<RankedTensorType>(dot.getB().getType());
  auto cType = cast<RankedTensorType>(dot.getType());
  Type operand = aType.getElementType();
  if (!(operand.isBF16() || operand.isF16()) || bType.getElementType() != operand)
    return fail(llvm::formatv("operands are {0} * {1}; mma.sync m16n8k16 takes bf16 or f16",
                              aType.getElementType(), bType.getElementType()));
  if (!cType.getElementType().isF32())
    return fail(llvm::formatv("the accumulator is {0}; mma.sync lowers f32 accumulators",
                              cType.getElementType()));

  MmaSyncDotLayout l{};
  l.m = aType.getDimSize(0);
  l.k = aType.getDimSize(1);
  l.n = bType.getDimSize(1);
  if (l.m % l.tileM || l.n % l.tileN || l.k % l.tileK)
    return fail(llvm::formatv("shape M x N x K = {0} x {1} x {2} is not a multiple of 16 x 8 x 16",
                              l.m, l.n, l.k));
  l.mTiles = l.m / l.tileM;
  l.nTiles = l.n / l.tileN;
  l.kSteps = l.k / l.tileK;
  std::tie(l.warpsM, l.warpsN) = chooseWarpGrid(numWarps, l.mTiles, l.nTiles);
  l.nTilesPerWarp = l.nTiles / l.warpsN;

  l.aSwizzled = aCopied && swizzlesRows(l.k);
  l.aStride = l.aSwizzled ? l.k : paddedStride(l.k);
  l.bTransposed = bTransposed;
  const int64_t bRow = bTransposed ? l.k : l.n;
  l.bSwizzled = bCopied && swizzlesRows(bRow);
  l.bStride = l.bSwizzled ? bRow : paddedStride(bRow);
  l.cStride = paddedStride(l.n);
  l.aOffset = 0;
  l.bOffset = llvm::alignTo(l.m * l.aStride * 2, 16);
  l.cOffset = llvm::alignTo(l.bOffset + (bTransposed ? l.n : l.k) * l.bStride * 2, 16);
  l.bytes = l.cOffset + l.m * l.cStride * 4;
  return l;
}

std::optional<std::string> mmaSyncStagingOverLimit(const MmaSyncDotLayout &l,
                                                   int64_t sharedLimit) {
  if (l.bytes <= sharedLimit)
    return std::nullopt;
  std::string parts;
  auto add = [&](bool staged, llvm::StringRef name, int64_t rows, int64_t stride, int64_t size) {
    if (staged)
      parts += llvm::formatv("{0}{1} {2} x {3} x {4}", parts.empty() ? "" : ", ", name, rows,
                             stride, size);
  };
  add(l.aStaged, "A", l.m, l.aStride, 2);
  add(l.bStaged, "B", l.bTransposed ? l.n : l.k, l.bStride, 2);
  add(l.cStaged, "C", l.m, l.cStride, 4);
  return llvm::formatv("M x N x K = {0} x {1} x {2} on a {3} x {4} warp grid stages {5} "
                       "bytes of shared memory ({6}), over the shared-limit of {7} bytes",
                       l.m, l.n, l.k, l.warpsM, l.warpsN, l.bytes, parts, sharedLimit)
      .str();
}

LogicalResult checkSharedMemory(Operation *kernel, int64_t bytes, int64_t sharedLimit) {
  if (bytes <= sharedLimit)
    return success();
  return kernel->emitError() << "takes " << bytes
                             << " bytes of shared memory, over the shared-limit of " << sharedLimit
                             << " bytes";
}

MmaSyncDotLayout withoutStagedOperands(MmaSyncDotLayout l, bool aElsewhere, bool bElsewhere,
                                       bool cElsewhere) {
  l.aStaged = !aElsewhere;
  l.bStaged = !bElsewhere;
  l.cStaged = !cElsewhere;
  int64_t offset = 0;
  if (!aElsewhere) {
    l.aOffset = 0;
    offset = llvm::alignTo(l.m * l.aStride * 2, 16);
  }
  if (!bElsewhere) {
    l.bOffset = offset;
    offset = llvm::alignTo(offset + (l.bTransposed ? l.n : l.k) * l.bStride * 2, 16);
  }
  l.cOffset = offset;
  l.bytes = cElsewhere ? offset : offset + l.m * l.cStride * 4;
  return l;
}

} // namespace mobagen::compiler
