#include "tools/mobagen/MobaInputs.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/support/Npy.h"

namespace mobagen::cli {
namespace {

template <typename T> T loadScalar(const uint8_t *p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

/// Converts a q/k/v array to doubles representable in `dtype`.
Expected<std::vector<double>> toDTypeValues(const NpyArray &a, const std::string &path,
                                            const char *operand, DType dtype) {
  const int64_t count = a.elementCount();
  std::vector<double> values(static_cast<size_t>(count));
  const uint8_t *p = a.data.data();
  if (a.descr == "<u2") {
    for (int64_t i = 0; i < count; ++i)
      values[i] = decodeDType(loadScalar<uint16_t>(p + 2 * i), dtype);
    return values;
  }
  for (int64_t i = 0; i < count; ++i) {
    double x;
    if (a.descr == "<f4")
      x = loadScalar<float>(p + 4 * i);
    else if (a.descr == "<f8")
      x = loadScalar<double>(p + 8 * i);
    else if (a.descr == "<f2")
      x = decodeDType(loadScalar<uint16_t>(p + 2 * i), DType::F16);
    else
      return Status::errorf("{}: {} has dtype '{}'; expected float16, float32, float64, or "
                            "uint16 bit patterns of {}",
                            path, operand, a.descr, dtypeName(dtype));
    const double rounded = roundToDType(x, dtype);
    if (std::isfinite(x) && !std::isfinite(rounded))
      return Status::errorf("{}: {} element {} = {} overflows {}", path, operand, i, x,
                            dtypeName(dtype));
    values[i] = rounded;
  }
  return values;
}

Expected<NpyArray> loadTensor3(const std::string &path, const char *operand) {
  auto array = readNpy(path);
  if (!array)
    return array.status();
  if (array->shape.size() != 3)
    return Status::errorf("{}: {} must have rank 3 [rows, heads, head_dim], got rank {}", path,
                          operand, array->shape.size());
  return array;
}

Expected<std::vector<int32_t>> loadCuSeqlens(const std::string &path, const char *operand) {
  auto array = readNpy(path);
  if (!array)
    return array.status();
  if (array->shape.size() != 1)
    return Status::errorf("{}: {} must have rank 1 [B+1], got rank {}", path, operand,
                          array->shape.size());
  std::vector<int32_t> values(static_cast<size_t>(array->elementCount()));
  const uint8_t *p = array->data.data();
  if (array->descr == "<i4") {
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = loadScalar<int32_t>(p + 4 * i);
  } else if (array->descr == "<i8") {
    for (size_t i = 0; i < values.size(); ++i) {
      const int64_t v = loadScalar<int64_t>(p + 8 * i);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        return Status::errorf("{}: {}[{}] = {} does not fit int32", path, operand, i, v);
      values[i] = static_cast<int32_t>(v);
    }
  } else {
    return Status::errorf("{}: {} has dtype '{}'; expected int32 or int64", path, operand,
                          array->descr);
  }
  return values;
}

} // namespace

Expected<MobaInputs> loadMobaInputs(const InputPaths &paths, DType dtype) {
  auto q = loadTensor3(paths.q, "q");
  if (!q)
    return q.status();
  auto k = loadTensor3(paths.k, "k");
  if (!k)
    return k.status();
  auto v = loadTensor3(paths.v, "v");
  if (!v)
    return v.status();

  const auto &qs = q->shape, &ks = k->shape, &vs = v->shape;
  if (ks != vs)
    return Status::errorf("k has shape [{}, {}, {}] but v has [{}, {}, {}]: they must match",
                          ks[0], ks[1], ks[2], vs[0], vs[1], vs[2]);
  if (qs[2] != ks[2])
    return Status::errorf("head_dim differs: q has D = {}, k and v have D = {}", qs[2], ks[2]);

  MobaInputs inputs;
  inputs.shape = {.totalQ = qs[0], .totalK = ks[0], .numQHeads = qs[1], .numKvHeads = ks[1],
                  .headDim = qs[2]};

  if (paths.cuSeqlensQ.has_value() != paths.cuSeqlensK.has_value())
    return Status::error("give both --cu-seqlens-q and --cu-seqlens-k, or neither (one "
                         "sequence of all rows)");
  if (paths.cuSeqlensQ) {
    auto cuQ = loadCuSeqlens(*paths.cuSeqlensQ, "cu_seqlens_q");
    if (!cuQ)
      return cuQ.status();
    auto cuK = loadCuSeqlens(*paths.cuSeqlensK, "cu_seqlens_k");
    if (!cuK)
      return cuK.status();
    inputs.cuSeqlensQ = std::move(*cuQ);
    inputs.cuSeqlensK = std::move(*cuK);
  } else {
    if (qs[0] > std::numeric_limits<int32_t>::max() || ks[0] > std::numeric_limits<int32_t>::max())
      return Status::errorf("total_q ({}) or total_k ({}) exceeds the int32 row range", qs[0],
                            ks[0]);
    inputs.cuSeqlensQ = {0, static_cast<int32_t>(qs[0])};
    inputs.cuSeqlensK = {0, static_cast<int32_t>(ks[0])};
  }

  auto qv = toDTypeValues(*q, paths.q, "q", dtype);
  if (!qv)
    return qv.status();
  auto kv = toDTypeValues(*k, paths.k, "k", dtype);
  if (!kv)
    return kv.status();
  auto vv = toDTypeValues(*v, paths.v, "v", dtype);
  if (!vv)
    return vv.status();
  inputs.q = std::move(*qv);
  inputs.k = std::move(*kv);
  inputs.v = std::move(*vv);
  return inputs;
}

} // namespace mobagen::cli
