//===- ValueLayout.h - Which layout each tile value of a kernel lives in ----===//
//
// A tile value lives in one of three layouts:
//
//   roundRobin  element e (row-major) on thread e mod T, slot e div T (TileLayout.h);
//               the default, and the layout of loads, ranges and splats.
//   mmaAcc      an [M, N] tile in the registers of mma.sync m16n8k16 accumulators:
//               the result of a tile.dot on tensor cores, kept where the
//               instruction left it. The 16 x 8 tiles form an mTiles x nTiles
//               grid over a warpsM x warpsN warp grid (DotLayout.h); warp
//               (wm, wn) holds tiles (wm + i warpsM, wn + j warpsN), and in each
//               lane g = lane / 4, t = lane % 4 holds
//                 slot 4 (i nPerWarp + j) + r:  row 16 (wm + i warpsM) + g + 8 (r / 2)
//                                               col  8 (wn + j warpsN) + 2 t + r % 2
//   mmaRows     an [M] or [M, 1] tile over the rows of such a grid: what a row
//               reduction of an mmaAcc tile leaves. Slot 2 i + h holds
//               row 16 (wm + i warpsM) + g + 8 h, in the 4 lanes of the row's
//               quad and in every warp of the grid's row.
//
//   e.g. S = q . k^T of [64, 64] on 4 warps (a 4 x 1 grid): warp w holds rows
//        16 w .. 16 w + 15, lane (g, t) columns 2t, 2t + 1 of each of the 8 n
//        tiles in rows g and g + 8 (32 slots); max(S, axis 1) is 4 shuffles
//        in each quad, and its mmaRows result broadcasts back for free.
//
// An element-wise op takes the layout its operands share; operands that can be
// recomputed at any coordinates (ranges, splats, constants, pointers and masks
// built from them: `recomputable` below) adapt to the others. An op that mixes
// layouts, and every op without a rule here, works in roundRobin: the others are
// converted through shared memory. A loop-carried tile takes the layout its
// yield settles on (a fixed point over the loop body).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Conversion/TileToNVVM/DotLayout.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mobagen::compiler {

struct ValueLayout {
  enum class Kind : uint8_t { roundRobin, mmaAcc, mmaRows };
  Kind kind = Kind::roundRobin;
  /// mmaAcc / mmaRows: the [m, n] accumulator's warp grid.
  int64_t m = 0, n = 0, warpsM = 0, warpsN = 0;

  static ValueLayout roundRobin() { return {}; }
  /// The accumulator layout of an mma.sync dot's result, or roundRobin when
  /// its warps do not all hold the same number of tiles.
  static ValueLayout accumulatorOf(const MmaSyncDotLayout &dot);
  /// The rows of this accumulator's grid: they depend on M and warpsM alone.
  ValueLayout rows() const { return {Kind::mmaRows, m, 0, warpsM, 0}; }

  bool isRoundRobin() const { return kind == Kind::roundRobin; }
  int64_t mPerWarp() const { return m / MmaSyncDotLayout::tileM / warpsM; }
  int64_t nPerWarp() const { return n / MmaSyncDotLayout::tileN / warpsN; }
  /// mmaAcc: the slot of m tile i, n tile j, fragment register r (0..3).
  int64_t accSlot(int64_t i, int64_t j, int64_t r) const { return 4 * (i * nPerWarp() + j) + r; }
  /// mmaAcc: the mmaRows slot holding the row of accumulator slot `slot`.
  int64_t rowsSlotOf(int64_t slot) const { return 2 * (slot / 4 / nPerWarp()) + slot % 4 / 2; }
  /// mmaAcc / mmaRows: `slot`'s (row, column) less the lane's (16 wm + g, 8 wn + 2 t).
  std::pair<int64_t, int64_t> slotOffset(int64_t slot) const;
  /// Slots per thread (mmaAcc / mmaRows; roundRobin depends on the shape).
  int64_t slots() const { return kind == Kind::mmaAcc ? mPerWarp() * nPerWarp() * 4 : mPerWarp() * 2; }
  /// Whether a tile of `shape` can live in this layout.
  bool fits(llvm::ArrayRef<int64_t> shape) const;

  friend bool operator==(const ValueLayout &a, const ValueLayout &c) {
    return a.kind == c.kind && a.m == c.m && a.n == c.n && a.warpsM == c.warpsM &&
           a.warpsN == c.warpsN;
  }
  friend bool operator!=(const ValueLayout &a, const ValueLayout &c) { return !(a == c); }
};

/// Whether every element of `v` can be computed anywhere from its definition
/// (KernelEmitter::elementAt): ranges, splats, splat constants, expand_dims,
/// broadcast, addptr and integer / comparison / select ops of such values, and
/// scalars. Such values never decide a layout: they are recomputed in the one
/// their users chose.
bool recomputable(mlir::Value v);
/// The ops elementAt recomputes element-wise from their operands' elements.
bool isRecomputableIntegerOp(mlir::Operation *op);

/// The layout of every tile value of a kernel (roundRobin where absent).
class LayoutAnalysis {
public:
  /// With `mmaDots` (the `dot=mma` lowering), dots that qualify for mma.sync
  /// leave their results in accumulator registers.
  LayoutAnalysis(mlir::func::FuncOp kernel, int64_t numWarps, bool mmaDots);
  ValueLayout layoutOf(mlir::Value v) const;
  /// The layout an element-wise op (or tile.store) works in: the one its tile
  /// operands share, recomputable and unsettled ones aside; roundRobin when
  /// they disagree or none decides.
  ValueLayout commonLayout(mlir::ValueRange operands) const;

private:
  void analyze(mlir::Block &block);
  void analyze(mlir::Operation *op);

  int64_t numWarps;
  bool mmaDots;
  llvm::DenseMap<mlir::Value, ValueLayout> layouts;
  /// Loop-carried tiles whose layout the current fixed-point round has not
  /// settled yet: element-wise users ignore them, as they ignore recomputable values.
  llvm::DenseSet<mlir::Value> unsettled;
};

} // namespace mobagen::compiler
