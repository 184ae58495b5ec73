//===- DotLayout.h - How a tile.dot is mapped onto warps and tensor cores ---===//
//
// The layout analysis of tile.dot: which lowering a dot gets and, for mma.sync,
// which warp owns which 16 x 8 piece of the result and where the operands sit in
// shared memory. Values flowing into and out of the dot keep the round-robin
// layout of TileLayout.h; the dot converts at its boundary through shared memory:
//
//   round-robin A [M,K] --store--> smem A, row-major, padded rows
//   round-robin B [K,N] --store--> smem B, row-major, padded rows
//   (or A / B straight from global memory by cp.async, AsyncCopy.h; such a B
//    contiguous along K is staged [N,K] and read with non-transposed ldmatrix)
//   round-robin C [M,N] --store--> smem C (f32), row-major, padded rows
//   each warp: for its (mi, ni) tiles, for each k step: ldmatrix.x4 of A,
//              ldmatrix.x2.trans of B, nvvm.mma.sync m16n8k16; D over C
//   smem C --load--> round-robin result
//
// The mma.sync m16n8k16 fragments (PTX ISA 9.7.14.5.8), g = lane / 4, t = lane % 4:
//
//   A 16x16 (row):  a0a1 (g,   2t..2t+1)   a2a3 (g+8, 2t..2t+1)
//                   a4a5 (g, 2t+8..2t+9)   a6a7 (g+8, 2t+8..2t+9)
//   B 16x8  (col):  b0b1 (k = 2t..2t+1, n = g)   b2b3 (k = 2t+8..2t+9, n = g)
//   C/D 16x8 f32:   c0c1 (g, 2t..2t+1)     c2c3 (g+8, 2t..2t+1)
//
// ldmatrix (PTX ISA 9.7.14.5.15) delivers exactly these registers: .x4 over the
// four 8x8 quarters of A's 16x16 piece gives a0a1 .. a6a7; .x2 .trans over the
// two 8x8 halves (k 0-7, k 8-15) of B's 16x8 piece, stored [K,N], gives the
// column-major pairs b0b1, b2b3. Rows whose length is a multiple of 16 elements
// get 8 elements of padding, so that the 8 rows of one ldmatrix matrix (and the
// rows of one phase of 8-byte accumulator accesses) fall on distinct banks.
//
// The result's 16 x 8 tiles form an mTiles x nTiles grid; warp w sits at
// (w mod warpsM, w div warpsM) of a warpsM x warpsN warp grid and owns the tiles
// (mi, ni) with mi = w mod warpsM (mod warpsM) and ni = w div warpsM (mod warpsN):
//
//   e.g. M = 64, N = 64, 4 warps -> warpsM = 4, warpsN = 1:
//        warp 0: rows 0-15, all 8 n tiles; warp 1: rows 16-31; ...
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/tile/IR/TileDialect.h"

#include <optional>
#include <string>

namespace mobagen::compiler {

/// Which instructions a tile.dot becomes (the pass option `dot`). A third choice
/// (wgmma on sm_90a) slots in here.
enum class DotLowering {
  fma, ///< the baseline: a K loop of FMAs per owned result element
  mma, ///< nvvm.mma.sync m16n8k16; a dot that does not qualify is an error
};

/// Parses the option's spelling ("fma" or "mma").
std::optional<DotLowering> parseDotLowering(llvm::StringRef name);
llvm::StringRef stringifyDotLowering(DotLowering lowering);

/// Where one tile.dot's operands and tiles go under the mma.sync lowering.
struct MmaSyncDotLayout {
  static constexpr int64_t tileM = 16, tileN = 8, tileK = 16;
  /// Elements of padding after a row whose length is a multiple of 16.
  static constexpr int64_t pad = 8;

  int64_t m, n, k;
  int64_t mTiles, nTiles, kSteps;
  int64_t warpsM, warpsN;
  /// Tiles of one warp along N, statically unrolled (nTiles / warpsN).
  int64_t nTilesPerWarp;
  /// B is staged as its transpose, [N, K] row-major (its memory order when it
  /// comes by cp.async from a [K, N] tile contiguous along K, such as K^T in
  /// q . k^T), and read with non-transposed ldmatrix.
  bool bTransposed;
  /// Row strides in elements of the shared-memory copies (all row-major).
  int64_t aStride, bStride, cStride;
  /// Whether A's and B's copies are swizzled (swizzlesRows) rather than padded:
  /// copies that cp.async writes, 16 bytes at a time. Operands stored from
  /// registers element by element, and C, keep padded rows (the swizzle's XOR
  /// per row would take a register per row residue in every store sequence).
  bool aSwizzled, bSwizzled;
  /// Byte offsets into the staging buffer, and its extent.
  int64_t aOffset, bOffset, cOffset, bytes;
  /// Which operands take room in the staging buffer (all, until
  /// withoutStagedOperands says which sit elsewhere).
  bool aStaged = true, bStaged = true, cStaged = true;
};

/// Whether a staged copy of 2-byte elements with rows of `rowElements` is
/// swizzled rather than padded: its rows are a power-of-two number of 16-byte
/// chunks (8, 16, 32, 64, 128, ... elements), so the XOR of swizzledOffset keeps
/// every chunk in its row's 128-byte line (or its line's rows).
bool swizzlesRows(int64_t rowElements);

/// The element offset of (row, col) in such a swizzled copy with rows of
/// `rowElements`: its 16-byte chunks are permuted within each 128-byte line by
/// XOR-ing the chunk's 3 bits with the row (rows of 8 chunks or more) or the
/// line (shorter rows), so that the 8 rows of an ldmatrix phase, the chunks of
/// one cp.async phase and the fragment stores of a warp fall on distinct banks
/// with no padding (docs/design/mma-layout.md). A bijection on the copy.
int64_t swizzledOffset(int64_t row, int64_t col, int64_t rowElements);

/// Shared memory a static allocation can use (the sm_80 / sm_90 48 KB limit).
constexpr int64_t kStaticSharedMemoryBytes = 48 * 1024;

/// The llvm.func attribute (i64) holding the dynamic shared memory a kernel
/// launches with, where its buffers pass the static limit (absent: none).
constexpr llvm::StringLiteral kDynamicSharedAttr = "mobagen.dynamic_shared_bytes";
/// A unit attribute on a tile kernel (func.func): its resident cp.async copies
/// may pass the 48 KB of static shared memory and take dynamic shared memory up
/// to the pass's `shared-limit`, as pipelined copies always may. Without it, a
/// kernel whose resident copies do not fit statically keeps them in registers.
constexpr llvm::StringLiteral kDynamicSharedOptIn = "tile.dynamic_shared";

/// The mma.sync layout of `dot` on `numWarps` warps, or the reason it does not
/// qualify (operand types other than bf16/f16 with an f32 accumulator, or a shape
/// that is not a multiple of 16 x 8 x 16). `bytes` is what staging all of A, B
/// and C would take; operands that sit elsewhere leave it (withoutStagedOperands),
/// and only what is left is held to the shared-memory limit
/// (mmaSyncStagingOverLimit): judging the dot by A + B + C would refuse dots
/// whose accumulators live in registers, such as D = 128 flash attention's.
/// With `bTransposed`, B is staged [N, K] (see MmaSyncDotLayout::bTransposed).
/// `aCopied` / `bCopied`: the operand arrives by cp.async (its rows may be swizzled).
std::optional<MmaSyncDotLayout> chooseMmaSyncLayout(tile::DotOp dot, int64_t numWarps,
                                                    std::string *whyNot = nullptr,
                                                    bool bTransposed = false, bool aCopied = false,
                                                    bool bCopied = false);

/// Why `layout` (after withoutStagedOperands) cannot be staged: its bytes are
/// over `sharedLimit`, the most shared memory the kernel may use (static up to
/// 48 KB, dynamic past it). The message names the shape, the warp grid, each
/// staged operand's rows x stride x element bytes and the limit.
std::optional<std::string> mmaSyncStagingOverLimit(const MmaSyncDotLayout &layout,
                                                   int64_t sharedLimit);

/// Fails with a diagnostic on `kernel` when its shared memory (`bytes`: staging,
/// resident and pipelined copies) is over `sharedLimit`.
mlir::LogicalResult checkSharedMemory(mlir::Operation *kernel, int64_t bytes, int64_t sharedLimit);

/// `layout` with the operands that sit elsewhere (resident or pipelined cp.async
/// copies, A's fragments or C and D in registers) taking no room in the staging
/// buffer: the others keep their order, packed from offset 0.
MmaSyncDotLayout withoutStagedOperands(MmaSyncDotLayout layout, bool aElsewhere, bool bElsewhere,
                                       bool cElsewhere = false);

} // namespace mobagen::compiler
