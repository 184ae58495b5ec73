//===- MobaTiming.cpp - Times a bundle's MoBA forward at long contexts -------===//
//
// mobagen-gpu-timing loads a kernel bundle with the runtime's loader, fills
// random q, k, v once at the largest size, and for each sequence length times the
// launches of one prefill forward (the runtime's MobaLauncher, one stream), and
// each kernel alone, with Device::measure: CUDA events on a GPU, the cost model
// on the emulator. It prints one JSON object per size; tools/gpu-check/summary.py
// tabulates them.
//
// Correctness is not its job (`mobagen run --check` proves the kernels); it
// only checks that the launches succeed and that the output was written.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/bundle/Bundle.h"
#include "runtime/device/OpenDevice.h"
#include "runtime/moba/MobaLauncher.h"
#include "runtime/support/FloatFormats.h"

namespace mobagen::gpucheck {
namespace {

using device::DevicePtr;
using json = nlohmann::json;

struct Options {
  std::string bundle;
  std::string device = "cuda";
  std::vector<int64_t> seqlens{8192, 16384, 32768, 65536, 131072};
  int64_t batch = 1;
  int warmup = 1;
  int repetitions = 5;
  uint64_t seed = 0;
  std::vector<std::string> variants; // kernel=id
  std::string jsonPath;
  /// Seconds; sizes not started by then are reported as skipped (0 = no limit).
  double budgetSeconds = 0;
  /// A checked forward slower than this (host clock) is measured with fewer runs
  /// and without the per-kernel breakdown, to stay inside the budget.
  double slowForwardSeconds = 1.0;
};

/// The variant of each kernel that --variant asks for (KERNEL=ID), else the first.
Expected<launch::VariantChoice> chooseVariants(const bundle::Bundle &b, const std::vector<std::string> &wanted) {
  launch::VariantChoice choice{};
  for (const std::string &w : wanted) {
    const size_t eq = w.find('=');
    const std::string kernel = w.substr(0, eq), id = eq == std::string::npos ? "" : w.substr(eq + 1);
    auto k = std::find(bundle::kKernelNames.begin(), bundle::kKernelNames.end(), kernel);
    if (eq == std::string::npos || k == bundle::kKernelNames.end())
      return Status::errorf("--variant '{}' is not KERNEL=ID with KERNEL one of {}", w, bundle::kernelNameList());
    const size_t index = size_t(k - bundle::kKernelNames.begin());
    auto v = b.kernels()[index].findVariant(id);
    if (!v)
      return Status::errorf("{}: kernel {} has no variant '{}'", b.origin(), kernel, id);
    choice[index] = *v;
  }
  return choice;
}

/// "w2/m16w2/...": the chosen variant of each kernel, in launch order.
std::string variantIds(const bundle::Bundle &b, const launch::VariantChoice &choice) {
  std::string ids;
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    ids += fmt::format("{}{}", k ? "/" : "", b.kernels()[k].variants[choice[k]].id);
  return ids;
}

/// Random dtype values in [-1, 1), filled on every hardware thread.
std::vector<uint16_t> randomTensor(size_t count, DType dtype, uint64_t seed) {
  std::vector<uint16_t> data(count);
  const unsigned workers = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(seed * 1000003 + w);
      std::uniform_real_distribution<double> uniform(-1.0, 1.0);
      for (size_t i = w * count / workers, end = (w + 1) * count / workers; i < end; ++i)
        data[i] = encodeDType(uniform(rng), dtype);
    });
  for (auto &t : threads)
    t.join();
  return data;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Useful attention FLOPs of one prefill sequence of length n (DESIGN.md section 4:
/// 4 * D per attended key, per row and head). Exact when causal; non-causal counts
/// top_k full blocks.
double usefulFlops(const bundle::BundleConfig &b, int64_t n) {
  double keys = 0;
  const int64_t blocks = (n + b.blockSize - 1) / b.blockSize;
  for (int64_t p = 0; p < n; ++p) {
    if (b.causal) {
      const int64_t current = p / b.blockSize;
      keys += double(p - current * b.blockSize + 1) + double(b.blockSize) * std::min(b.topK - 1, current);
    } else {
      keys += double(std::min(b.topK, blocks) * b.blockSize);
    }
  }
  return 4.0 * double(b.headDim) * keys * double(b.numQHeads);
}

int run(const Options &o) {
  auto fail = [](const Status &s) {
    fmt::print(stderr, "mobagen-gpu-timing: error: {}\n", s.message());
    return 1;
  };
  auto deviceChoice = device::parseDeviceChoice(o.device);
  if (!deviceChoice)
    return fail(deviceChoice.status());
  auto opened = device::openDevice(*deviceChoice);
  if (!opened)
    return fail(opened.status());
  device::Device &dev = **opened;
  auto loaded = bundle::Bundle::fromDirectory(o.bundle);
  if (!loaded)
    return fail(loaded.status());
  const bundle::Bundle &theBundle = *loaded;
  const bundle::BundleConfig &b = theBundle.config();
  auto chosen = chooseVariants(theBundle, o.variants);
  if (!chosen)
    return fail(chosen.status());
  const launch::VariantChoice choice = *chosen;
  launch::MobaLauncher launcher(dev, theBundle);
  if (o.seqlens.empty() || o.batch < 1 || o.repetitions < 1 || o.warmup < 0)
    return fail(Status::error("need at least one --seqlen, --batch >= 1, --repetitions >= 1, --warmup >= 0"));
  const int64_t maxN = *std::max_element(o.seqlens.begin(), o.seqlens.end());
  if (*std::min_element(o.seqlens.begin(), o.seqlens.end()) < 1)
    return fail(Status::error("every --seqlen must be at least 1"));
  const int64_t maxTotal = maxN * o.batch;
  if (maxTotal * std::max(b.numQHeads, b.numKvHeads) * b.headDim >= (int64_t(1) << 31))
    return fail(Status::errorf("{} tokens x {} heads x {} exceeds the kernels' 2^31-element limit per tensor",
                               maxTotal, std::max(b.numQHeads, b.numKvHeads), b.headDim));

  const size_t qCount = size_t(maxTotal * b.numQHeads * b.headDim);
  const size_t kvCount = size_t(maxTotal * b.numKvHeads * b.headDim);
  auto maxLayout = launch::workspaceLayout(
      b, {.batch = o.batch, .totalQ = maxTotal, .totalK = maxTotal, .maxSeqlenQ = maxN, .maxSeqlenK = maxN});
  if (!maxLayout)
    return fail(maxLayout.status());
  std::vector<DevicePtr> owned;
  auto allocate = [&](size_t bytes) -> Expected<DevicePtr> {
    auto p = dev.allocate(bytes);
    if (p)
      owned.push_back(*p);
    return p;
  };
  auto release = [&] {
    for (DevicePtr p : owned)
      (void)dev.free(p);
  };
  auto upload = [&](const std::vector<uint16_t> &host) -> Expected<DevicePtr> {
    auto p = allocate(host.size() * 2);
    if (p)
      MOBAGEN_RETURN_IF_ERROR(dev.copyToDevice(*p, host.data(), host.size() * 2));
    return p;
  };
  auto q = upload(randomTensor(qCount, b.dtype, o.seed * 3 + 0));
  auto k = upload(randomTensor(kvCount, b.dtype, o.seed * 3 + 1));
  auto v = upload(randomTensor(kvCount, b.dtype, o.seed * 3 + 2));
  auto out = allocate(qCount * 2);
  auto lse = allocate(size_t(maxTotal * b.numQHeads) * 4);
  auto workspace = allocate(size_t(maxLayout->totalBytes));
  auto cu = allocate(size_t(o.batch + 1) * 4);
  for (const auto *p : {&q, &k, &v, &out, &lse, &workspace, &cu})
    if (!*p) {
      release();
      return fail(p->status());
    }

  std::ofstream jsonOut;
  if (!o.jsonPath.empty()) {
    jsonOut.open(o.jsonPath, std::ios::app);
    if (!jsonOut) {
      release();
      return fail(Status::errorf("cannot write {}", o.jsonPath));
    }
  }
  const device::DeviceProperties props = dev.properties();
  int status = 0;
  const auto began = std::chrono::steady_clock::now();
  auto secondsSince = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  for (int64_t n : o.seqlens) {
    if (o.budgetSeconds > 0 && secondsSince(began) > o.budgetSeconds) {
      const std::string line =
          json{{"impl", "mobagen"}, {"seqlen", n}, {"error", "skipped: time budget spent"}}.dump();
      fmt::print("{}\n", line);
      if (jsonOut)
        jsonOut << line << '\n';
      continue;
    }
    const int64_t total = n * o.batch;
    std::vector<int32_t> cuHost(size_t(o.batch + 1));
    for (int64_t i = 0; i <= o.batch; ++i)
      cuHost[size_t(i)] = int32_t(i * n);
    Status s = dev.copyToDevice(*cu, cuHost.data(), cuHost.size() * 4);
    const launch::VarlenShape shape{
        .batch = o.batch, .totalQ = total, .totalK = total, .maxSeqlenQ = n, .maxSeqlenK = n};
    auto layout = launch::workspaceLayout(b, shape);
    if (s && !layout)
      s = layout.status();
    const launch::ForwardBuffers buffers{.q = *q, .k = *k, .v = *v, .cuSeqlensQ = *cu, .cuSeqlensK = *cu,
                                         .out = *out, .lse = *lse, .workspace = *workspace,
                                         .workspaceBytes = maxLayout->totalBytes};
    auto forward = [&]() -> Status { return launcher.forward(shape, buffers, choice, 0); };
    auto kernelAlone = [&](size_t kernel) {
      return [&, kernel]() -> Status {
        return launcher.enqueueKernel(bundle::KernelKind(kernel), choice[kernel], shape, *layout, buffers, 0);
      };
    };

    // One checked run first: the output's head, poisoned before, must be written and finite.
    const size_t probe = std::min<size_t>(size_t(total * b.numQHeads * b.headDim), 1 << 16);
    std::vector<uint16_t> poison(probe, 0xFFFF), head(probe);
    if (s)
      s = dev.copyToDevice(*out, poison.data(), probe * 2);
    const auto checkedRun = std::chrono::steady_clock::now();
    if (s)
      s = forward();
    if (s)
      s = dev.synchronize(0);
    const double checkedSeconds = secondsSince(checkedRun);
    if (s)
      s = dev.copyToHost(head.data(), *out, probe * 2);
    if (s) {
      const auto bad = std::find_if(head.begin(), head.end(), [&](uint16_t bits) {
        return bits == 0xFFFF || !std::isfinite(decodeDType(bits, b.dtype));
      });
      if (bad != head.end())
        s = Status::errorf("out element {} is {:#06x} after the forward: not written or not finite",
                           bad - head.begin(), *bad);
    }
    json row = {{"impl", "mobagen"},
                {"device", props.name},
                {"unit", ""},
                {"seqlen", n},
                {"batch", o.batch},
                {"heads", b.numQHeads},
                {"kv_heads", b.numKvHeads},
                {"head_dim", b.headDim},
                {"block_size", b.blockSize},
                {"top_k", b.topK},
                {"causal", b.causal},
                {"variants", variantIds(theBundle, choice)},
                {"useful_flops", usefulFlops(b, n) * double(o.batch)}};
    // A slow forward (the checked run warmed it up) gets 2 runs and no breakdown.
    const bool slow = checkedSeconds > o.slowForwardSeconds;
    const int warmup = slow ? 0 : o.warmup;
    const int repetitions = slow ? std::min(o.repetitions, 2) : o.repetitions;
    row["checked_run_seconds"] = checkedSeconds;
    std::vector<std::pair<std::string, std::function<Status()>>> measured{{"forward", forward}};
    if (!slow)
      for (size_t kernel = 0; kernel < bundle::kKernelCount; ++kernel)
        measured.emplace_back(std::string(bundle::kKernelNames[kernel]), kernelAlone(kernel));
    if (s) {
      for (const auto &[name, work] : measured) {
        auto m = dev.measure(work, warmup, repetitions, 0);
        if (!m) {
          s = m.status().withContext(fmt::format("timing {}: ", name));
          break;
        }
        row["unit"] = m->unit;
        row[fmt::format("{}_median", name)] = median(m->samples);
        if (name == "forward") {
          row["samples"] = m->samples;
          row["min"] = *std::min_element(m->samples.begin(), m->samples.end());
        }
      }
    }
    if (!s) {
      row["error"] = s.message();
      fmt::print(stderr, "mobagen-gpu-timing: seqlen {}: {}\n", n, s.message());
      status = 1;
    }
    const std::string line = row.dump();
    fmt::print("{}\n", line);
    std::fflush(stdout);
    if (jsonOut) {
      jsonOut << line << '\n';
      jsonOut.flush();
    }
    if (status)
      break; // a failed launch leaves the device in an unknown state
  }
  release();
  return status;
}

} // namespace
} // namespace mobagen::gpucheck

int main(int argc, char **argv) {
  mobagen::gpucheck::Options o;
  CLI::App app{"Times a kernel bundle's MoBA prefill forward (all of its kernels, and each alone)\n"
               "on random inputs; prints one JSON object per sequence length.",
               "mobagen-gpu-timing"};
  app.add_option("--bundle", o.bundle, "Kernel bundle directory (manifest.json, PTX)")->required();
  app.add_option("--device", o.device, "cuda, emulator or auto")->capture_default_str();
  app.add_option("--seqlen", o.seqlens, "Sequence lengths (tokens per sequence), e.g. --seqlen 8192 16384")
      ->capture_default_str();
  app.add_option("--batch", o.batch, "Sequences per batch")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Unmeasured runs first")->capture_default_str();
  app.add_option("--repetitions", o.repetitions, "Measured runs")->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the random inputs")->capture_default_str();
  app.add_option("--variant", o.variants, "KERNEL=ID: a variant other than the bundle's first");
  app.add_option("--json", o.jsonPath, "Also append the JSON lines to this file");
  app.add_option("--budget", o.budgetSeconds, "Seconds; later sizes are reported as skipped (0: no limit)")
      ->capture_default_str();
  app.add_option("--slow-forward", o.slowForwardSeconds,
                 "Seconds; a slower forward is measured twice, without the per-kernel breakdown")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return mobagen::gpucheck::run(o);
}
