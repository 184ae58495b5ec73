//===- DenseBaseline.cpp - the dense kernels `mobagen bench` compares with ----===//
#include "tools/mobagen/DenseBaseline.h"

#include <algorithm>
#include <chrono>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#ifdef MOBAGEN_HAVE_COMPILER
#include "compiler/Pipeline/DenseAttentionKernels.h"
#endif

namespace mobagen::cli {

Expected<compiler::DenseTuningSpace> parseDenseSpace(const std::string &limits) {
  compiler::DenseTuningSpace space;
  std::stringstream clauses(limits);
  std::string clause;
  while (std::getline(clauses, clause, ';')) {
    if (clause.empty())
      continue;
    const size_t eq = clause.find('=');
    const std::string knob = clause.substr(0, eq);
    std::vector<int64_t> *values = knob == "block_m"      ? &space.blockM
                                   : knob == "block_n"    ? &space.blockN
                                   : knob == "num_warps"  ? &space.numWarps
                                   : knob == "num_stages" ? &space.numStages
                                                          : nullptr;
    if (eq == std::string::npos || !values)
      return Status::errorf("--dense-space '{}': '{}' is not knob=value[,value...] with a knob of block_m, "
                            "block_n, num_warps, num_stages",
                            limits, clause);
    std::vector<int64_t> kept;
    std::stringstream list(clause.substr(eq + 1));
    std::string item;
    while (std::getline(list, item, ',')) {
      int64_t value = 0;
      size_t used = 0;
      try {
        value = std::stoll(item, &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != item.size())
        return Status::errorf("--dense-space '{}': {} value '{}' is not an integer", limits, knob, item);
      if (std::find(values->begin(), values->end(), value) == values->end())
        return Status::errorf("--dense-space '{}': {} = {} is not in the dense tuning space ({})", limits, knob,
                              value, fmt::join(*values, ", "));
      if (std::find(kept.begin(), kept.end(), value) == kept.end())
        kept.push_back(value);
    }
    if (kept.empty())
      return Status::errorf("--dense-space '{}': {} keeps no value", limits, knob);
    *values = std::move(kept);
  }
  return space;
}

Expected<std::vector<DenseCandidate>> tunedDenseCandidates(const bundle::BundleConfig &config,
                                                          const compiler::DenseTuningSpace &space,
                                                          device::Device &device, double &seconds) {
#ifdef MOBAGEN_HAVE_COMPILER
  const auto start = std::chrono::steady_clock::now();
  const compiler::MobaKernelConfig c{.blockSize = config.blockSize,
                                     .topK = config.topK,
                                     .headDim = config.headDim,
                                     .numQHeads = config.numQHeads,
                                     .numKvHeads = config.numKvHeads,
                                     .causal = config.causal,
                                     .dtype = config.dtype,
                                     .target = config.target,
                                     .scale = config.scale};
  auto variants = compiler::generateDenseAttentionVariants(c, space);
  if (!variants)
    return variants.status().withContext("--dense-tune: cannot generate the dense kernel: ");
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<DenseCandidate> candidates;
  for (compiler::DenseAttentionVariant &v : *variants) {
    DenseCandidate d;
    d.id = v.tuning.id();
    d.tuning = v.tuning;
    d.dynamicSharedBytes = v.dynamicSharedBytes;
    d.rejected = v.rejected;
    if (d.rejected.empty()) {
      auto module = device.loadModule(v.ptx, "flash_attention_fwd." + d.id);
      if (!module)
        d.rejected = "the device cannot load it: " + module.status().message();
      else
        d.module = *module;
    }
    candidates.push_back(std::move(d));
  }
  return candidates;
#else
  (void)config, (void)space, (void)device, (void)seconds;
  return Status::error("--dense-tune generates the dense kernel in process, but this mobagen is built without "
                       "the compiler (MOBAGEN_BUILD_COMPILER=OFF); give --dense-ptx FILE instead");
#endif
}

double denseUsefulFlops(const bundle::BundleConfig &c, const std::vector<int32_t> &cuQ,
                        const std::vector<int32_t> &cuK) {
  double keys = 0;
  for (size_t s = 0; s + 1 < cuQ.size(); ++s) {
    const int64_t lq = cuQ[s + 1] - cuQ[s], lk = cuK[s + 1] - cuK[s];
    for (int64_t i = 0; i < lq; ++i)
      keys += double(c.causal ? std::min(lk, lk - lq + i + 1) : lk);
  }
  return 4.0 * double(c.headDim) * double(c.numQHeads) * keys;
}

} // namespace mobagen::cli
