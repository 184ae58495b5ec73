//===- MobaOps.cpp - shape and type rules of the moba ops -------------------===//
//
// ODS checks ranks and element-type families; these verifiers check every
// operand against the op's #moba.config (heads, head_dim, dtype, top_k) and the
// operands against each other (token counts, batch sizes). Dynamic dimensions
// are accepted and checked by the kernels at run time. Diagnostics name the
// operand, the dimension, both values and where the expected one comes from:
//   'moba.forward' op k dim 1 (kv heads) is 2, but the config has num_kv_heads = 1
//
//===----------------------------------------------------------------------===//

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <string>

using namespace mlir;
using namespace mobagen::moba;

namespace {

std::string dimToString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

/// Checks operands of one op against its config; `name`s are the ODS operand
/// names so that a diagnostic points at the operand as written in the docs.
class ConfigChecker {
public:
  ConfigChecker(Operation *op, ConfigAttr config) : op(op), config(config) {}

  /// q / out ([total_q, Hq, D]) or k / v ([total_k, Hkv, D]) in the config's dtype.
  LogicalResult tokens(Value value, StringRef name, bool queryHeads) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getElementType() != config.getDtype())
      return op->emitOpError() << name << " has element type "
                               << type.getElementType()
                               << ", but the config has dtype = " << config.getDtype();
    if (queryHeads)
      return heads(type, name, "query heads", "num_q_heads", config.getNumQHeads());
    return heads(type, name, "kv heads", "num_kv_heads", config.getNumKvHeads());
  }

  /// pooled_keys: [num_blocks, Hkv, D] f32 (the f32 is checked by ODS).
  LogicalResult pooled(Value value, StringRef name) {
    return heads(cast<RankedTensorType>(value.getType()), name, "kv heads",
                 "num_kv_heads", config.getNumKvHeads());
  }

  /// selected: [total_q, Hq, top_k].
  LogicalResult selected(Value value, StringRef name) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(value.getType()).getShape();
    if (failed(dimEquals(shape[1], name, 1, "query heads", "num_q_heads",
                         config.getNumQHeads())))
      return failure();
    return dimEquals(shape[2], name, 2, "slots", "top_k", config.getTopK());
  }

  /// lse: [Hq, total_q].
  LogicalResult lse(Value value, StringRef name) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(value.getType()).getShape();
    return dimEquals(shape[0], name, 0, "query heads", "num_q_heads",
                     config.getNumQHeads());
  }

  /// cu_seqlens: [B + 1] with B >= 0.
  LogicalResult seqLens(Value value, StringRef name) {
    int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(0);
    if (size == 0)
      return op->emitOpError() << name << " has 0 elements, but it holds B + 1 >= 1 "
                                          "offsets";
    return success();
  }

  /// Two dimensions that name the same count (e.g. total_q of q and of out)
  /// must agree when both are static.
  LogicalResult sameDim(Value a, StringRef aName, unsigned aDim, Value b,
                        StringRef bName, unsigned bDim, StringRef what) {
    int64_t x = cast<RankedTensorType>(a.getType()).getDimSize(aDim);
    int64_t y = cast<RankedTensorType>(b.getType()).getDimSize(bDim);
    if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
      return success();
    return op->emitOpError() << aName << " dim " << aDim << " (" << what << ") is "
                             << x << ", but " << bName << " dim " << bDim << " is "
                             << y;
  }

private:
  LogicalResult heads(RankedTensorType type, StringRef name, StringRef headsWhat,
                      StringRef headsField, int64_t numHeads) {
    if (failed(dimEquals(type.getDimSize(1), name, 1, headsWhat, headsField,
                         numHeads)))
      return failure();
    return dimEquals(type.getDimSize(2), name, 2, "head_dim", "head_dim",
                     config.getHeadDim());
  }

  /// Dimensions the config fixes must be static and equal to the config's value.
  LogicalResult dimEquals(int64_t dim, StringRef name, unsigned index,
                          StringRef what, StringRef field, int64_t expected) {
    if (dim == expected)
      return success();
    return op->emitOpError() << name << " dim " << index << " (" << what << ") is "
                             << dimToString(dim) << ", but the config has " << field
                             << " = " << expected;
  }

  Operation *op;
  ConfigAttr config;
};

} // namespace

LogicalResult PoolKeysOp::verify() {
  ConfigChecker check(*this, getConfig());
  if (failed(check.tokens(getK(), "k", false)) ||
      failed(check.seqLens(getCuSeqlensK(), "cu_seqlens_k")) ||
      failed(check.pooled(getPooledKeys(), "pooled_keys")))
    return failure();

  // Every split of total_k keys into B sequences makes between
  // ceil(total_k / Bs) blocks (all in one sequence) and
  // (total_k + B * (Bs - 1)) / Bs blocks (every sequence ends in a 1-key block).
  int64_t totalK = getK().getType().getDimSize(0);
  int64_t offsets = getCuSeqlensK().getType().getDimSize(0);
  int64_t numBlocks = getPooledKeys().getType().getDimSize(0);
  if (ShapedType::isDynamic(totalK) || ShapedType::isDynamic(numBlocks) ||
      ShapedType::isDynamic(offsets))
    return success();
  int64_t batch = offsets - 1;
  int64_t blockSize = getConfig().getBlockSize();
  int64_t least = (totalK + blockSize - 1) / blockSize;
  int64_t most = (totalK + batch * (blockSize - 1)) / blockSize;
  if (numBlocks < least || numBlocks > most)
    return emitOpError() << "pooled_keys dim 0 (blocks) is " << numBlocks
                         << ", but " << totalK << " keys in " << batch
                         << " sequences make between " << least << " and " << most
                         << " blocks at block_size = " << blockSize;
  return success();
}

LogicalResult GateTopKOp::verify() {
  ConfigChecker check(*this, getConfig());
  return success(
      succeeded(check.tokens(getQ(), "q", true)) &&
      succeeded(check.pooled(getPooledKeys(), "pooled_keys")) &&
      succeeded(check.seqLens(getCuSeqlensQ(), "cu_seqlens_q")) &&
      succeeded(check.sameDim(getCuSeqlensQ(), "cu_seqlens_q", 0, getCuSeqlensK(),
                              "cu_seqlens_k", 0, "B + 1")) &&
      succeeded(check.selected(getSelected(), "selected")) &&
      succeeded(check.sameDim(getQ(), "q", 0, getSelected(), "selected", 0,
                              "total_q")));
}

/// The operands and results sparse_attention_fwd and forward share.
static LogicalResult verifyAttention(ConfigChecker &check, Value q, Value k,
                                     Value v, Value cuQ, Value cuK, Value out,
                                     Value lse) {
  return success(
      succeeded(check.tokens(q, "q", true)) &&
      succeeded(check.tokens(k, "k", false)) &&
      succeeded(check.tokens(v, "v", false)) &&
      succeeded(check.sameDim(k, "k", 0, v, "v", 0, "total_k")) &&
      succeeded(check.seqLens(cuQ, "cu_seqlens_q")) &&
      succeeded(check.sameDim(cuQ, "cu_seqlens_q", 0, cuK, "cu_seqlens_k", 0,
                              "B + 1")) &&
      succeeded(check.tokens(out, "out", true)) &&
      succeeded(check.sameDim(q, "q", 0, out, "out", 0, "total_q")) &&
      succeeded(check.lse(lse, "lse")) &&
      succeeded(check.sameDim(q, "q", 0, lse, "lse", 1, "total_q")));
}

LogicalResult SparseAttentionFwdOp::verify() {
  ConfigChecker check(*this, getConfig());
  return success(
      succeeded(verifyAttention(check, getQ(), getK(), getV(), getCuSeqlensQ(),
                                getCuSeqlensK(), getOut(), getLse())) &&
      succeeded(check.selected(getSelected(), "selected")) &&
      succeeded(check.sameDim(getQ(), "q", 0, getSelected(), "selected", 0,
                              "total_q")));
}

LogicalResult ForwardOp::verify() {
  ConfigChecker check(*this, getConfig());
  return verifyAttention(check, getQ(), getK(), getV(), getCuSeqlensQ(),
                         getCuSeqlensK(), getOut(), getLse());
}

#define GET_OP_CLASSES
#include "dialect/moba/IR/MobaOps.cpp.inc"
