//===- AxisInfo.h - What is provable about integer and pointer tiles ---------===//
//
// A forward analysis over one tile kernel that says, for each integer or
// pointer value and each dimension d of its shape, three facts that hold for
// every launch:
//
//   contiguity[d] = c: dimension d splits into aligned runs of c elements
//     (indices [j c, j c + c)), and along a run the values grow by exactly 1
//     (integers) or by one pointee element (pointers);
//   divisibility[d] = v (a power of two): the first element of every such run
//     is a multiple of v. Integers count in units of 1; POINTERS COUNT IN BYTES
//     (an address divisible by 16 starts a 16-byte cp.async);
//   constancy[d] = c: dimension d splits into aligned runs of c equal values.
//
//   e.g. offsets = rows[:, None] * 128 + make_range(0, 64)[None, :], 64 x 64 i32,
//        rows loaded from memory:
//     contiguity   = [1, 64]   (along a row: +1 per element)
//     divisibility = [1, 128]  (a row's first offset is a multiple of 128; rows
//                               themselves, taken down a column, prove nothing)
//     constancy    = [1, 1]
//
// A scalar is a tile of rank 0 with one entry (contiguity and constancy 1).
// Facts start from kernel arguments (pointers to bf16 / f16 are 16-byte
// aligned: the runtime refuses misaligned q, k, v and out, and the workspace,
// with an error naming the buffer, its offset past a 16-byte boundary and why,
// see checkPointer in runtime/api/Context.cpp; other pointers are aligned to
// their element; integers prove nothing), constants, make_range, splat, broadcast, expand_dims,
// addptr, arith.addi / subi / muli and scf.for induction variables; anything
// else proves nothing (1) except that an elementwise result is constant where
// all its operands are. The transfer functions follow the ones Triton's
// AxisInfo uses for its coalescing and vectorization decisions.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace mobagen::compiler {

struct AxisInfo {
  /// The divisibility of 0 (and the cap of every other).
  static constexpr int64_t kMaxDivisibility = int64_t(1) << 32;
  /// The alignment the runtime guarantees for kernel arguments that point to
  /// bf16 / f16 (runtime/api/Context.cpp refuses anything else).
  static constexpr int64_t kHalfPointerArgumentAlignment = 16;

  llvm::SmallVector<int64_t> contiguity, divisibility, constancy;

  /// Nothing known about a value of `rank` dimensions (rank 0: a scalar).
  static AxisInfo unknown(int64_t rank);
  int64_t rank() const { return static_cast<int64_t>(contiguity.size()); }
  bool operator==(const AxisInfo &other) const = default;
};

/// The facts of every integer and pointer value of one kernel, computed once.
class AxisInfoAnalysis {
public:
  explicit AxisInfoAnalysis(mlir::func::FuncOp kernel);

  /// The facts about `value` (`unknown` for a value the kernel does not define,
  /// or one of another type).
  AxisInfo lookup(mlir::Value value) const;

private:
  void visit(mlir::Operation *op);
  void set(mlir::Value value, AxisInfo info) { infos_[value] = std::move(info); }

  llvm::DenseMap<mlir::Value, AxisInfo> infos_;
};

} // namespace mobagen::compiler
