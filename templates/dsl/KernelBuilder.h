//===- KernelBuilder.h - a C++ embedded DSL for tile-dialect kernels --------===//
//
// Kernel templates are C++ functions that build tile-dialect IR through this
// API, so that they read like Triton kernels:
//
//   KernelBuilder kb(module, "copy", {{"src", f16Ptr}, {"dst", f16Ptr}, {"n", i32}});
//   Tile offs = kb.programId(ProgramAxis::x) * 128 + kb.arange(0, 128);
//   Tile ok = offs < kb.arg(2);
//   kb.store(kb.arg(1) + offs, kb.load(kb.arg(0) + offs, ok, 0.0), ok);
//   kb.finish();
//
// A `Tile` is a scalar or a tile SSA value; its operators emit arith ops (and
// tile.addptr for pointer + offset). Operands of a binary op are broadcast
// NumPy-style: a scalar is splatted, and size-1 dimensions are repeated
// (tile.broadcast); ranks must already agree, as in Triton, so `x[:, None]` is
// written `x.expandDims(1)`. Literals take the other operand's element type.
// Mistakes in a template (incompatible shapes, wrong types) are not checked
// here: they produce IR that the tile verifiers reject with a precise message
// when the module is verified.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/tile/IR/TileDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include <utility>

namespace mobagen::templates {

class KernelBuilder;

/// A scalar or tile value of the kernel being built.
class Tile {
public:
  Tile(KernelBuilder &builder, mlir::Value value) : kb(&builder), v(value) {}

  mlir::Value value() const { return v; }
  mlir::Type type() const { return v.getType(); }
  mlir::Type elementType() const;
  llvm::ArrayRef<int64_t> shape() const; ///< empty for a scalar
  bool isTile() const { return mlir::isa<mlir::RankedTensorType>(type()); }

  /// Inserts a size-1 dimension at `axis` (`x[:, None]` is `x.expandDims(1)`).
  Tile expandDims(int32_t axis) const;
  /// Splats a scalar, or repeats size-1 dimensions, up to `shape`.
  Tile broadcastTo(llvm::ArrayRef<int64_t> shape) const;
  /// Converts the elements: float <-> float, int -> float, float -> int (signed,
  /// rounding toward zero), int <-> int.
  Tile to(mlir::Type elementType) const;

  KernelBuilder &builder() const { return *kb; }

private:
  KernelBuilder *kb;
  mlir::Value v;
};

/// A number written in a kernel (`x * 2`, `s - 1.0`, `kb.full(shape, -inf, f32)`):
/// it takes the element type of the value it meets. Integers are exact up to 2^53.
class Literal {
public:
  Literal(double value) : v(value) {}
  Literal(int value) : v(value) {}
  Literal(int64_t value) : v(static_cast<double>(value)) {}
  double value() const { return v; }

private:
  double v;
};

// Arithmetic: floats use addf/subf/mulf/divf, integers addi/subi/muli/divsi;
// pointer + integer is tile.addptr.
Tile operator+(const Tile &a, const Tile &b);
Tile operator-(const Tile &a, const Tile &b);
Tile operator*(const Tile &a, const Tile &b);
Tile operator/(const Tile &a, const Tile &b);
Tile operator+(const Tile &a, Literal b);
Tile operator-(const Tile &a, Literal b);
Tile operator*(const Tile &a, Literal b);
Tile operator/(const Tile &a, Literal b);
// Comparisons (signed for integers, ordered for floats) give i1.
Tile operator<(const Tile &a, const Tile &b);
Tile operator<=(const Tile &a, const Tile &b);
Tile operator<(const Tile &a, Literal b);
Tile operator==(const Tile &a, const Tile &b);
Tile operator==(const Tile &a, Literal b);
Tile operator&(const Tile &a, const Tile &b);

/// Builds one kernel: a func.func whose arguments are pointers and scalars.
class KernelBuilder {
public:
  struct Argument {
    llvm::StringRef name;
    mlir::Type type;
  };

  /// Starts `name(arguments...)` at the end of `module`. Each argument's name
  /// becomes its location (a NameLoc), so diagnostics and
  /// `--mlir-print-debuginfo` name it.
  KernelBuilder(mlir::ModuleOp module, llvm::StringRef name,
                llvm::ArrayRef<Argument> arguments);

  mlir::MLIRContext *context() { return b.getContext(); }
  mlir::ImplicitLocOpBuilder &opBuilder() { return b; }
  mlir::func::FuncOp function() { return func; }

  // Types.
  mlir::Type f32() { return b.getF32Type(); }
  mlir::Type i32() { return b.getI32Type(); }
  mlir::Type ptr(mlir::Type pointee) { return tile::PointerType::get(pointee); }

  Tile arg(unsigned index);
  Tile programId(tile::ProgramAxis axis);
  Tile numPrograms(tile::ProgramAxis axis);
  /// The i32 tile start, ..., end - 1.
  Tile arange(int32_t start, int32_t end);
  /// A scalar constant of `type` (integer or float).
  Tile constant(Literal value, mlir::Type type);
  /// A tile of `shape` with every element `value`.
  Tile full(llvm::ArrayRef<int64_t> shape, Literal value, mlir::Type elementType);

  /// Masked load; `mask` and `other` are broadcast to the pointers' shape (a
  /// scalar pointer takes a scalar mask and gives a scalar).
  Tile load(const Tile &ptr, std::optional<Tile> mask = std::nullopt,
            std::optional<Literal> other = std::nullopt);
  void store(const Tile &ptr, const Tile &value,
             std::optional<Tile> mask = std::nullopt);

  /// Atomically adds `value` (broadcast to the pointers' shape) at `ptr` where
  /// `mask` holds, and returns the values held before (0 where masked off).
  Tile atomicAdd(const Tile &ptr, const Tile &value, std::optional<Tile> mask = std::nullopt);

  /// Waits for every thread of the program; memory accesses before it are
  /// visible to all after it (tile.barrier). Needed between storing a tile and
  /// loading it back elsewhere in the program.
  void barrier();

  /// acc + a * b on tensor cores.
  Tile dot(const Tile &a, const Tile &b, const Tile &acc);
  Tile exp2(const Tile &x);
  Tile log2(const Tile &x);
  /// Elementwise maximum / minimum of two values (broadcast).
  Tile maximum(const Tile &a, const Tile &b);
  Tile minimum(const Tile &a, const Tile &b);
  /// Reductions over `axis`.
  Tile max(const Tile &x, int32_t axis);
  Tile min(const Tile &x, int32_t axis);
  Tile sum(const Tile &x, int32_t axis);
  /// The largest element along `axis` and its i32 index, ties to the lowest index.
  std::pair<Tile, Tile> argmax(const Tile &x, int32_t axis);
  /// `cond ? a : b`, elementwise, all three broadcast to one shape (on three
  /// scalars, a scalar arith.select).
  Tile where(const Tile &cond, const Tile &a, const Tile &b);
  Tile where(const Tile &cond, const Tile &a, Literal b);
  Tile where(const Tile &cond, Literal a, const Tile &b);

  /// `for (iv = lower; iv < upper; iv += step)` carrying `init`; `body` returns
  /// the next values of the carried tiles. Returns their final values. `init`
  /// may be empty (an scf.for without iter_args; `body` returns `{}`).
  llvm::SmallVector<Tile>
  forLoop(const Tile &lower, const Tile &upper, const Tile &step,
          llvm::ArrayRef<Tile> init,
          llvm::function_ref<llvm::SmallVector<Tile>(Tile iv, llvm::ArrayRef<Tile>)>
              body,
          mlir::scf::ForOp *loop = nullptr);

  /// Ends the kernel with func.return.
  void finish();

  /// Both operands brought to one shape (scalar splat, size-1 broadcast).
  std::pair<Tile, Tile> broadcastPair(const Tile &a, const Tile &b);
  /// A literal as a value of `like`'s element type and shape.
  Tile literalLike(Literal value, const Tile &like);

private:
  mlir::TypedAttr literalAttr(Literal value, mlir::Type type);

  mlir::ImplicitLocOpBuilder b;
  mlir::func::FuncOp func;
};

} // namespace mobagen::templates
