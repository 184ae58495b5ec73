//===- AsyncCopy.h - Which mma.sync dot operands come by cp.async ------------===//
//
// An operand A or B of an mma.sync tile.dot that is a tile.load used by that
// dot alone can skip the round-robin registers: its 16-byte runs go from
// global memory straight into the padded staging copy with
// `cp.async.cg.shared.global` (PTX ISA 9.7.9.25), a masked-off run zero-filled
// with src-size 0. The load qualifies when AxisInfo.h proves, along the axis
// that is contiguous in the staged copy:
//
//   - the pointers run in aligned groups of 8 consecutive elements (16 bytes of
//     bf16 / f16): contiguity >= 8;
//   - the first pointer of each group is 16-byte aligned: divisibility >= 16 B;
//   - the mask, if any, is constant over each group: constancy >= 8;
//   - `other` is absent or +0.0 (what zero-fill writes);
//
// and when no tile.store comes between the load and the dot. In the dot's
// block, the copy is issued at the dot into the staging buffer. In an
// enclosing block (q, loaded once per query tile and multiplied in every
// iteration of the key loop), the copy is issued where the load stands, into
// a region of its own that outlives the loop, and every run of the dot reads
// it from there: the operand is copied once instead of staged per iteration.
// A is contiguous along K (axis 1, staged [M, K]); B along N (axis 1, staged
// [K, N] as today) or along K (axis 0: K^T in q . k^T, staged [N, K] and read
// with non-transposed ldmatrix). Anything else keeps the register path.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Conversion/TileToNVVM/AxisInfo.h"
#include "dialect/tile/IR/TileDialect.h"

#include <optional>
#include <string>

namespace mobagen::compiler {

/// Elements of one 16-byte cp.async of a 16-bit element type.
constexpr int64_t kAsyncCopyElements = 8;
constexpr int64_t kAsyncCopyBytes = 16;

/// How one dot operand is copied: the load it comes from and the axis of that
/// load's tile along which each 16-byte copy runs.
struct AsyncOperandCopy {
  tile::LoadOp load;
  int64_t axis;
  /// The load sits in a block enclosing the dot's: the copy is resident.
  bool resident = false;
};

/// The cp.async plan of one mma.sync dot: A and / or B, where provable.
struct AsyncDotPlan {
  std::optional<AsyncOperandCopy> a, b;
  /// B is staged [N, K] (its copy runs along K).
  bool bTransposed() const { return b && b->axis == 0; }
};

/// Whether `operand` (0 for A, 1 for B) of `dot` can come by cp.async and along
/// which axis, or why not.
std::optional<AsyncOperandCopy> planAsyncOperand(tile::DotOp dot, unsigned operand,
                                                 const AxisInfoAnalysis &axisInfo,
                                                 std::string *whyNot = nullptr);

} // namespace mobagen::compiler
