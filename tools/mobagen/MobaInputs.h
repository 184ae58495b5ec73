//===- MobaInputs.h - q, k, v and cu_seqlens from .npy files ----------------===//
//
// How the CLI accepts tensors (also in `mobagen run --help`):
//   q [total_q, Hq, D], k and v [total_k, Hkv, D] as
//     float32 / float64 / float16 arrays, rounded to --dtype (bf16 or fp16) on load
//     (round to nearest even, as a cast on the GPU would), or
//     uint16 arrays holding the raw bit patterns of --dtype;
//   cu_seqlens_q / cu_seqlens_k [B+1] as int32 or int64 (values must fit int32).
//   Without cu_seqlens files the batch is one sequence of all rows.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/reference/MobaReference.h"
#include "runtime/support/FloatFormats.h"
#include "runtime/support/Status.h"

namespace mobagen::cli {

struct InputPaths {
  std::string q, k, v;
  std::optional<std::string> cuSeqlensQ, cuSeqlensK;
};

/// Owns the loaded inputs, already rounded to the configuration's dtype.
struct MobaInputs {
  reference::AttentionShape shape;
  std::vector<double> q, k, v;
  std::vector<int32_t> cuSeqlensQ, cuSeqlensK;

  reference::AttentionInputs view() const {
    return {shape, q, k, v, cuSeqlensQ, cuSeqlensK};
  }
};

/// Loads and checks shapes and dtypes; the batch-level rules (cu_seqlens values,
/// GQA, Lq vs Lk) are reference::validateInputs's.
Expected<MobaInputs> loadMobaInputs(const InputPaths &paths, DType dtype);

} // namespace mobagen::cli
