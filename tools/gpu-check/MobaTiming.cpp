//===- MobaTiming.cpp - Times a bundle's MoBA forward at long contexts -------===//
//
// mobagen-gpu-timing loads a kernel bundle (format 2, or format 1 as `mobagen
// generate` wrote it before variants), fills random q, k, v once at the largest
// size, and for each sequence length times the three launches of one prefill
// forward (pool_keys, gate_topk, sparse_attention_fwd on one stream) with
// Device::measure: CUDA events on a GPU, the cost model on the emulator. It
// prints one JSON object per size; tools/gpu-check/summary.py tabulates them.
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

#include "runtime/device/OpenDevice.h"
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

/// One kernel of the bundle as launched: its module, entry and launch shape.
struct KernelLaunch {
  std::string name, variant, entry;
  device::ModuleId module = 0;
  uint32_t threads = 0;
  int64_t rowsPerProgram = 0;
  uint32_t dynamicSharedBytes = 0;
};

struct Bundle {
  int formatVersion = 0;
  int64_t blockSize = 0, topK = 0, headDim = 0, numQHeads = 0, numKvHeads = 0;
  bool causal = true;
  DType dtype = DType::BF16;
  std::string target;
  KernelLaunch pool, gate, attention;
};

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::errorf("cannot read {}", path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Loads the bundle's manifest and the PTX of the chosen variant of each kernel.
Expected<Bundle> loadBundle(const Options &o, device::Device &dev) {
  const std::string manifestPath = o.bundle + "/manifest.json";
  auto text = readFile(manifestPath);
  if (!text)
    return text.status();
  const json manifest = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object())
    return Status::errorf("{}: not a JSON object", manifestPath);
  Bundle b;
  try {
    b.formatVersion = manifest.at("format_version").get<int>();
    if (b.formatVersion != 1 && b.formatVersion != 2)
      return Status::errorf("{}: format_version {} is not 1 or 2", manifestPath, b.formatVersion);
    const json &c = manifest.at("config");
    b.blockSize = c.at("block_size").get<int64_t>();
    b.topK = c.at("top_k").get<int64_t>();
    b.headDim = c.at("head_dim").get<int64_t>();
    b.numQHeads = c.at("num_q_heads").get<int64_t>();
    b.numKvHeads = c.at("num_kv_heads").get<int64_t>();
    b.causal = c.at("causal").get<bool>();
    b.target = c.at("target").get<std::string>();
    const auto dtype = parseDType(c.at("dtype").get<std::string>());
    if (!dtype)
      return Status::errorf("{}: config.dtype '{}' is not bf16 or fp16", manifestPath,
                            c.at("dtype").get<std::string>());
    b.dtype = *dtype;

    std::map<std::string, device::ModuleId> loaded; // PTX file -> module
    auto load = [&](const std::string &file) -> Expected<device::ModuleId> {
      if (auto it = loaded.find(file); it != loaded.end())
        return it->second;
      auto ptx = readFile(o.bundle + "/" + file);
      if (!ptx)
        return ptx.status();
      auto module = dev.loadModule(*ptx, file);
      if (module)
        loaded[file] = *module;
      return module;
    };
    for (const json &k : manifest.at("kernels")) {
      KernelLaunch launch;
      launch.name = k.at("name").get<std::string>();
      KernelLaunch *slot = launch.name == "pool_keys"              ? &b.pool
                           : launch.name == "gate_topk"            ? &b.gate
                           : launch.name == "sparse_attention_fwd" ? &b.attention
                                                                   : nullptr;
      if (!slot)
        continue; // a kernel this forward does not launch
      std::string file;
      if (b.formatVersion == 1) {
        launch.entry = launch.name;
        launch.variant = "default";
        file = manifest.at("ptx").get<std::string>();
        launch.threads = 1;
        for (const json &d : k.at("block"))
          launch.threads *= d.get<uint32_t>();
        const json &knobs = k.at("knobs");
        launch.rowsPerProgram = knobs.contains("block_m") ? knobs.at("block_m").get<int64_t>() : 0;
      } else {
        const json &variants = k.at("variants");
        if (!variants.is_array() || variants.empty())
          return Status::errorf("{}: kernel {} has no variants", manifestPath, launch.name);
        const json *chosen = &variants.front();
        for (const std::string &wanted : o.variants)
          if (wanted.rfind(launch.name + "=", 0) == 0) {
            const std::string id = wanted.substr(launch.name.size() + 1);
            auto it = std::find_if(variants.begin(), variants.end(),
                                   [&](const json &v) { return v.at("id").get<std::string>() == id; });
            if (it == variants.end())
              return Status::errorf("{}: kernel {} has no variant '{}'", manifestPath, launch.name, id);
            chosen = &*it;
          }
        launch.variant = chosen->at("id").get<std::string>();
        launch.entry = chosen->at("entry").get<std::string>();
        file = chosen->at("ptx").get<std::string>();
        launch.threads = chosen->at("threads").get<uint32_t>();
        launch.rowsPerProgram = chosen->at("rows_per_program").get<int64_t>();
        launch.dynamicSharedBytes = chosen->value("dynamic_shared_bytes", 0u);
      }
      if (launch.name != "pool_keys" && launch.rowsPerProgram <= 0)
        return Status::errorf("{}: kernel {} has no positive rows per program", manifestPath, launch.name);
      auto module = load(file);
      if (!module)
        return module.status();
      launch.module = *module;
      *slot = launch;
    }
  } catch (const json::exception &e) {
    return Status::errorf("{}: {}", manifestPath, e.what());
  }
  for (const KernelLaunch *k : {&b.pool, &b.gate, &b.attention})
    if (k->entry.empty())
      return Status::errorf("{}: the bundle lacks one of pool_keys, gate_topk, sparse_attention_fwd", manifestPath);
  return b;
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
double usefulFlops(const Bundle &b, int64_t n) {
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

uint32_t ceilDiv(int64_t a, int64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

int run(const Options &o) {
  auto fail = [](const Status &s) {
    fmt::print(stderr, "mobagen-gpu-timing: error: {}\n", s.message());
    return 1;
  };
  auto choice = device::parseDeviceChoice(o.device);
  if (!choice)
    return fail(choice.status());
  auto opened = device::openDevice(*choice);
  if (!opened)
    return fail(opened.status());
  device::Device &dev = **opened;
  auto bundle = loadBundle(o, dev);
  if (!bundle)
    return fail(bundle.status());
  const Bundle &b = *bundle;
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
  const int64_t maxBlocksTotal = o.batch * ((maxN + b.blockSize - 1) / b.blockSize);
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
  auto selected = allocate(size_t(maxTotal * b.numQHeads * b.topK) * 4);
  auto kbar = allocate(size_t(maxBlocksTotal * b.numKvHeads * b.headDim) * 4);
  auto cu = allocate(size_t(o.batch + 1) * 4);
  for (const auto *p : {&q, &k, &v, &out, &lse, &selected, &kbar, &cu})
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
    const auto dim = [](int64_t x) { return static_cast<uint32_t>(x); };
    const device::LaunchConfig poolLaunch{{dim((n + b.blockSize - 1) / b.blockSize), dim(b.numKvHeads), dim(o.batch)},
                                          {b.pool.threads},
                                          b.pool.dynamicSharedBytes};
    const device::LaunchConfig gateLaunch{{ceilDiv(n, b.gate.rowsPerProgram), dim(b.numQHeads), dim(o.batch)},
                                          {b.gate.threads},
                                          b.gate.dynamicSharedBytes};
    const device::LaunchConfig attentionLaunch{
        {ceilDiv(n, b.attention.rowsPerProgram), dim(b.numQHeads), dim(o.batch)},
        {b.attention.threads},
        b.attention.dynamicSharedBytes};
    const auto poolArgs = device::KernelArgs().add(*k).add(*kbar).add(*cu);
    const auto gateArgs = device::KernelArgs().add(*q).add(*kbar).add(*selected).add(*cu).add(*cu);
    const auto attentionArgs = device::KernelArgs().add(*q).add(*k).add(*v).add(*selected).add(*out).add(*lse)
                                   .add(*cu).add(*cu).add(int32_t(total));
    auto enqueuePool = [&] {
      return dev.enqueue(b.pool.module, b.pool.entry, poolLaunch, poolArgs, 0).withContext("pool_keys: ");
    };
    auto enqueueGate = [&] {
      return dev.enqueue(b.gate.module, b.gate.entry, gateLaunch, gateArgs, 0).withContext("gate_topk: ");
    };
    auto enqueueAttention = [&] {
      return dev.enqueue(b.attention.module, b.attention.entry, attentionLaunch, attentionArgs, 0)
          .withContext("sparse_attention_fwd: ");
    };
    auto forward = [&]() -> Status {
      MOBAGEN_RETURN_IF_ERROR(enqueuePool());
      MOBAGEN_RETURN_IF_ERROR(enqueueGate());
      return enqueueAttention();
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
                {"variants", fmt::format("{}/{}/{}", b.pool.variant, b.gate.variant, b.attention.variant)},
                {"useful_flops", usefulFlops(b, n) * double(o.batch)}};
    // A slow forward (the checked run warmed it up) gets 2 runs and no breakdown.
    const bool slow = checkedSeconds > o.slowForwardSeconds;
    const int warmup = slow ? 0 : o.warmup;
    const int repetitions = slow ? std::min(o.repetitions, 2) : o.repetitions;
    row["checked_run_seconds"] = checkedSeconds;
    std::vector<std::pair<const char *, std::function<Status()>>> measured{{"forward", forward}};
    if (!slow)
      measured.insert(measured.end(), {{"pool_keys", enqueuePool},
                                       {"gate_topk", enqueueGate},
                                       {"sparse_attention_fwd", enqueueAttention}});
    if (s) {
      for (const auto &[name, work] : measured) {
        auto m = dev.measure(work, warmup, repetitions, 0);
        if (!m) {
          s = m.status().withContext(fmt::format("timing {}: ", name));
          break;
        }
        row["unit"] = m->unit;
        row[fmt::format("{}_median", name)] = median(m->samples);
        if (std::string_view(name) == "forward") {
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
  CLI::App app{"Times a kernel bundle's MoBA prefill forward (pool_keys, gate_topk, sparse_attention_fwd)\n"
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
