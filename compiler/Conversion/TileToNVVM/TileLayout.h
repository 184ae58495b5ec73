//===- TileLayout.h - Where each element of a tile lives (baseline layout) ---===//
//
// The baseline layout distributes a tile's elements round-robin over the T threads
// of a program, in row-major order:
//
//   element e (row-major linear index) -> thread e mod T, slot e div T
//
//   e.g. a 4x8 tile on T = 16 threads:      thread 0 holds e = 0, 16
//        e:  0  1  2 ...  7                 thread 5 holds e = 5, 21
//            8  9 10 ... 15                 slot 0 of every thread covers row 0-1,
//           16 17 18 ... 23                 slot 1 covers rows 2-3
//           24 25 26 ... 31
//
// A thread keeps ceil(E / T) slots; when T does not divide E, the last slot of the
// higher threads is empty (its `valid` predicate is false). Because the layout
// depends only on the linear index, reshape and expand_dims move no data.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mobagen::compiler {

class TileLayout {
public:
  TileLayout(mlir::RankedTensorType type, int64_t threads)
      : shape_(type.getShape()), elements_(type.getNumElements()), threads_(threads) {}

  int64_t elements() const { return elements_; }
  int64_t slots() const { return (elements_ + threads_ - 1) / threads_; }
  llvm::ArrayRef<int64_t> shape() const { return shape_; }

  /// The i32 linear index of `slot` for the thread `tid`: tid + slot * T.
  mlir::Value linearIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value tid, int64_t slot) const;
  /// Whether `slot` holds an element, or null when it does for every thread.
  mlir::Value validity(mlir::ImplicitLocOpBuilder &b, mlir::Value tid, int64_t slot) const;
  /// linearIndex, or 0 where the slot holds no element: an index that stays in
  /// bounds for reads or addresses whose use is guarded.
  mlir::Value clampedLinearIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value tid,
                                 int64_t slot) const;

  /// Splits an i32 linear index into one i32 index per dimension.
  llvm::SmallVector<mlir::Value> delinearize(mlir::ImplicitLocOpBuilder &b,
                                             mlir::Value linear) const;
  /// Row-major linear index of a multi-index in `shape`.
  static mlir::Value linearize(mlir::ImplicitLocOpBuilder &b, llvm::ArrayRef<mlir::Value> index,
                               llvm::ArrayRef<int64_t> shape);

private:
  llvm::SmallVector<int64_t> shape_;
  int64_t elements_;
  int64_t threads_;
};

mlir::Value constantI32(mlir::ImplicitLocOpBuilder &b, int64_t value);

/// The i32 element index of (row, col) in a staged row-major copy with rows of
/// `stride` elements: row * stride + col, or with `swizzled` the XOR-swizzled
/// offset of DotLayout.h's swizzledOffset (the same formula, on values).
/// With `chunkStart`, `col` is known to be a multiple of 8 (a 16-byte chunk's
/// first element: ldmatrix rows, cp.async runs), which saves its in-chunk part.
mlir::Value stagedIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value row, mlir::Value col,
                        int64_t stride, bool swizzled, bool chunkStart = false);

} // namespace mobagen::compiler
