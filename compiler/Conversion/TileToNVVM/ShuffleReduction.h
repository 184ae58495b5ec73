//===- ShuffleReduction.h - row reductions with warp shuffles ---------------===//
//
// tile.reduce / tile.argmax along the last axis of a [.., N] tile (R rows of N
// elements), N a power of two, on the round-robin layout of TileLayout.h
// (element e on thread e mod T, slot e div T). With c0 = t mod min(N, T):
//
//   N >= T (e.g. N = 256, T = 128):   row r sits in slots r*N/T .. (r+1)*N/T - 1
//     thread t  slot r*N/T + k  ->  (row r, column k*T + c0)
//   N <  T (e.g. N = 64,  T = 128):   slot s holds rows s*T/N .. (s+1)*T/N - 1
//     thread t  slot s          ->  (row s*T/N + t div N, column c0)
//
//   N = 16, T = 32, slot s:    | row 2s: lanes 0-15 | row 2s+1: lanes 16-31 |
//   N = 64, T = 128, slot s:   warps 0,1 hold row 2s (columns 0-31 | 32-63),
//                              warps 2,3 row 2s+1
//
// So the 32 lanes of a warp hold min(N, 32) consecutive columns of one row per
// slot (segments of N lanes when N < 32). Each thread first combines its own slots
// of a row (N > T: k = 0, 1, ..), then a butterfly `shfl.sync.bfly` with xor
// offsets min(N,32)/2 .. 1 combines each segment (the partner of a lane stays in
// its aligned segment); a thread's groups (slots of different rows) go through
// one transposed butterfly together, up to min(N,32) of them (emitButterfly).
// Afterwards one lane per segment and group holds the partial of its warp's
// piece of the row: the min(N,T)/32 warps of a row (1 when N <= 32) write
// R x warpsPerRow partials to shared memory (part-major, so owners read
// consecutive words), and the owner of each result element (round-robin over R)
// combines the parts in order 0, 1, ... The order of every step is fixed, so sums
// are deterministic (docs/accuracy.md).
//
// argmax carries (value, column) pairs. Its baseline semantics, a serial scan
// from (-inf, 0) that takes strictly greater values, are kept exactly: an
// element that is not greater than -inf (NaN, -inf) enters as (-inf, 0), and two
// pairs combine to the greater value, or on equal values to the lower column.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/tile/IR/TileDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <optional>
#include <string>

namespace mobagen::compiler {

/// How a row reduction maps onto threads, slots and lanes (see above).
struct ShuffleReductionPlan {
  int64_t rowLength;     ///< N, a power of two
  int64_t rows;          ///< R, the product of the leading dimensions
  int64_t threads;       ///< T
  int64_t slotsPerRow;   ///< slots of one thread in one row: max(N / T, 1)
  int64_t rowsPerSlot;   ///< rows covered by one slot of all threads: max(T / N, 1)
  int64_t shuffleWidth;  ///< lanes that hold one row's piece: min(N, 32)
  int64_t warpsPerRow;   ///< warps that hold one row: max(min(N, T) / 32, 1)
  int64_t groups;        ///< (row, slots) groups of one thread: slots / slotsPerRow

  /// Words between the partials of two parts: R plus one word of padding after
  /// every 32 rows. Owners read 32 consecutive rows (one bank each); the leaders
  /// of one warp write rows rowsPerSlot apart, which without the padding would
  /// meet in one bank every 32 / rowsPerSlot groups.
  int64_t partStride() const { return rows + (rows - 1) / 32; }
  /// Bytes of the partials (one array; argmax adds the same for the columns).
  int64_t partialBytes() const { return partStride() * warpsPerRow * 4; }
};

/// The one place that decides between warp shuffles and the staged reduction
/// (every thread loops over the axis in a shared-memory copy). Shuffles need the
/// reduced axis to be the last one of a tile of rank >= 2 (a 1-D reduction's
/// scalar result is held by every thread), a power-of-two length (so rows align
/// with segments of lanes and with warps), and 32-bit f32 / i32 elements
/// (shfl.sync moves 32 bits; i1 and i64 keep the staged path). Returns the
/// reason in `whyNot` otherwise.
std::optional<ShuffleReductionPlan> chooseShuffleReduction(mlir::RankedTensorType source,
                                                           int64_t axis, int64_t threads,
                                                           std::string *whyNot = nullptr);

/// The identity of a reduction (sum 0, max -inf / INT_MIN, min +inf / INT_MAX).
mlir::Value reductionInit(mlir::ImplicitLocOpBuilder &b, mlir::Type type, tile::ReduceKind kind);
/// One combining step (arith.addf / maximumf / minimumf, or the integer ones).
mlir::Value reductionStep(mlir::ImplicitLocOpBuilder &b, tile::ReduceKind kind, mlir::Value acc,
                          mlir::Value x);

/// A partial result: the reduced value and, for argmax, its column (i32).
struct ReductionPartial {
  mlir::Value value, column;
};

/// Combines two partials: `kind`, or argmax (greater value, on ties the lower
/// column) when `withIndex`. Symmetric, so both lanes of a butterfly agree.
ReductionPartial combinePartials(mlir::ImplicitLocOpBuilder &b, tile::ReduceKind kind,
                                 bool withIndex, ReductionPartial a, ReductionPartial c);

/// The partial of one element `x` at `column` (argmax maps NaN and -inf to (-inf, 0)).
ReductionPartial elementPartial(mlir::ImplicitLocOpBuilder &b, bool withIndex, mlir::Value x,
                                mlir::Value column);

/// Reduces the partials of `groups.size()` groups (a power of two, at most
/// shuffleWidth) over each segment of shuffleWidth lanes at once, a transposed
/// butterfly: at xor offset shuffleWidth/2 each lane keeps half of the groups
/// and sends the other half to its partner, so the live groups halve per level
/// (G - 1 shuffles for G groups instead of G log2(shuffleWidth)); a plain
/// butterfly finishes the lane bits left. The lane ends with the whole segment's
/// partial of group `laneInSegment >> (log2(shuffleWidth) - log2(G))`, shared by
/// the (shuffleWidth / G) lanes with equal high bits. All 32 lanes of the warp
/// must execute it; `tid` is the i32 thread index.
ReductionPartial emitButterfly(mlir::ImplicitLocOpBuilder &b, const ShuffleReductionPlan &plan,
                               tile::ReduceKind kind, bool withIndex,
                               llvm::ArrayRef<ReductionPartial> groups, mlir::Value tid);

/// The groups one emitButterfly takes from `remaining` ones: the largest power of
/// two that is at most both.
int64_t chunkSize(const ShuffleReductionPlan &plan, int64_t remaining);

} // namespace mobagen::compiler
