//===- DenseBaseline.h - the dense kernels `mobagen bench` compares with ------===//
//
// The vs_dense column's kernel is the compiler's dense flash-attention template
// (templates/FlashAttentionFwd), either one PTX file (--dense-ptx, launched as
// --dense-block-m / --dense-warps say) or, with --dense-tune, every variant of its
// tuning space (compiler/Conversion/MobaToTile/DenseTuningSpace.h, narrowed by
// --dense-space) generated in this process and loaded on the bench's device. bench
// times each candidate on its first shape and compares every shape with the fastest
// (DESIGN.md section 4: the baseline is the best tuned tensor-core dense kernel).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/Conversion/MobaToTile/DenseTuningSpace.h"
#include "runtime/bundle/Bundle.h"
#include "runtime/device/Device.h"
#include "runtime/emulator/Emulator.h"
#include "runtime/support/Status.h"

namespace mobagen::cli {

/// One dense kernel bench may time.
struct DenseCandidate {
  std::string id; ///< the variant id (m64n32w4s1), or the --dense-ptx path
  compiler::DenseTuning tuning; ///< with --dense-ptx: block_m and warps as given, the rest unknown (0)
  device::ModuleId module = 0;
  uint32_t dynamicSharedBytes = 0;
  std::string rejected; ///< why it left the space (then it is never timed)
  /// After timing on the first shape: its median and, on the emulator, the CTAs run.
  std::optional<double> time;
  std::string timeUnit; ///< "model-us" on the emulator, "ms" on a GPU
  std::optional<emu::CtaTally> ctas;
};

/// The space `--dense-space` leaves: "" keeps the whole space; else
/// `knob=v[,v...]` clauses separated by ';' (knobs block_m, block_n, num_warps,
/// num_stages), each keeping only the listed values, which must be in the space.
Expected<compiler::DenseTuningSpace> parseDenseSpace(const std::string &limits);

/// Every variant of `space` for `config`, generated in this process (with the
/// compiler; an error in a compiler-free build) and, unless rejected, loaded on
/// `device`. `seconds`: the generation's wall time.
Expected<std::vector<DenseCandidate>> tunedDenseCandidates(const bundle::BundleConfig &config,
                                                          const compiler::DenseTuningSpace &space,
                                                          device::Device &device, double &seconds);

/// The useful FLOPs of dense attention over `cuSeqlensQ` / `cuSeqlensK`: 4 * D per key
/// each query row sees (causal: bottom-right aligned, up to its position), per head.
double denseUsefulFlops(const bundle::BundleConfig &config, const std::vector<int32_t> &cuSeqlensQ,
                        const std::vector<int32_t> &cuSeqlensK);

} // namespace mobagen::cli
