//===- AtomicAddToNVVM.h - tile.atomic_add to LLVM atomicrmw -----------------===//
//
// One element of a tile.atomic_add: `old = *ptr; *ptr = old + value`, atomic with
// respect to every thread of the device (LLVM `atomicrmw ... syncscope("device")
// monotonic`, which NVPTX emits as `atom.global.add`: without `.sem` and a
// scope an atom is `.relaxed` at `.gpu` scope, PTX ISA 9.7.13.5). A
// relaxed add orders nothing else: a routing kernel hands out list slots with it,
// and the kernel that reads the lists runs in a later launch.
//
// A masked-off element accesses nothing and yields 0. Elements are owned once on
// the round-robin layout (TileLayout.h), so each add happens exactly once; the
// caller masks the empty slots of that layout.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mobagen::compiler {

/// Emits the guarded atomic add of one i32 or f32 element and returns the value
/// `*ptr` held before it (0 where `mask` is false; `mask` may be null).
mlir::Value emitGuardedAtomicAdd(mlir::ImplicitLocOpBuilder &b, mlir::Value ptr,
                                 mlir::Value value, mlir::Value mask);

} // namespace mobagen::compiler
