//===- BenchCommand.cpp - `mobagen bench`: time the MoBA forward per shape ----===//
//
// For each shape: the forward with the tuned variants when the cache holds them
// (else the defaults), or with --all-variants each variant of each kernel in turn,
// timed with Context::benchmarkForward (mobagen_benchmark_forward). Useful work
// is counted exactly from the selection the forward wrote: 4 * D FLOPs per
// attended key, per query row and head (DESIGN.md section 4). With --dense-tune
// (every variant of the compiler's dense flash-attention kernel, generated here,
// the fastest on the first shape kept) or --dense-ptx (one variant, lowered by
// mobagen-opt / mobagen-translate), dense attention runs on the same inputs and
// device for the speed-up column (DenseBaseline.h); without either the column is
// "n/a" (docs/perf.md says why). The inputs: BenchInputs.h.
//
//===----------------------------------------------------------------------===//
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/api/TuningSelector.h"
#include "runtime/emulator/Emulator.h"
#include "runtime/support/FileRead.h"
#include "runtime/support/FloatFormats.h"
#include "tools/mobagen/BenchInputs.h"
#include "tools/mobagen/Commands.h"
#include "tools/mobagen/DenseBaseline.h"
#include "tools/mobagen/OutputSet.h"
#include "tools/mobagen/TuneContext.h"

namespace mobagen::cli {
namespace {

struct BenchOptions {
  ContextFlags context;
  std::vector<int64_t> seqlens{1024};
  int64_t batch = 1;
  int warmup = 2, repetitions = 10;
  bool allVariants = false;
  std::string json;
  std::string densePtx;
  bool denseTune = false;
  std::string denseSpace; ///< --dense-space limits ("": the whole space)
  std::string inputs = "gaussian";
  double rho = 0.99;
  bool rhoGiven = false;
  int64_t denseBlockM = 64;
  int64_t denseWarps = 4;
  bool counters = false;
  uint64_t sampleCtas = 0; ///< --sample-ctas: the emulator's sampled mode (0: off)
  bool quiet = false;      ///< --quiet: count the rejected tuning-cache entries, one line
};

/// The kernels sampled with --sample-ctas: the attention, whose cost grows with the
/// sequence. pool_keys, gate_topk and the routing run in full, so the selection and
/// routes the sampled kernels read are the real ones (docs/emulator.md).
const std::vector<std::string> kSampledKernels = {"sparse_attention_blocks", "sparse_attention_merge",
                                                  "flash_attention_fwd"};

/// "" for a full run, else " sampled (N of M CTAs)".
std::string sampledNote(const std::optional<emu::CtaTally> &t) {
  return t && t->sampled() ? fmt::format(" sampled ({} of {} CTAs)", t->executed, t->grid) : std::string();
}

nlohmann::json sampledJson(const std::optional<emu::CtaTally> &t) {
  if (!t)
    return {{"sampled", false}};
  return {{"sampled", t->sampled()},
          {"executed_ctas", t->executed},
          {"grid_ctas", t->grid},
          {"sample_fraction", t->grid ? double(t->executed) / double(t->grid) : 1.0}};
}

/// The emulator's CTA tally of the last measure(), when the device is the emulator.
std::optional<emu::CtaTally> measuredCtas(device::Device &device) {
  if (auto *emulator = dynamic_cast<emu::EmulatorDevice *>(&device))
    return emulator->measuredCtas();
  return std::nullopt;
}

/// The dense kernels to time and, once the first shape has timed them, the fastest.
struct DenseBaseline {
  std::vector<DenseCandidate> candidates;
  std::optional<size_t> chosen;
  bool tuned = false;         ///< --dense-tune (else --dense-ptx, one candidate)
  double generateSeconds = 0; ///< --dense-tune: generating the variants
  UniformBatch timedOn;       ///< the shape the candidates were timed on
};

struct Row {
  UniformBatch batch;
  launch::VariantChoice choice{};
  double median = 0;
  std::string unit;
  double usefulFlops = 0;
  std::optional<double> denseMedian; ///< the dense kernel's, same unit
  std::optional<emu::CtaTally> ctas, denseCtas; ///< on the emulator: CTAs run of the grids'
  /// With --counters: each kernel's emulator counters, in launch order.
  std::vector<emu::Counters> counters;
  double minimumBytes = 0; ///< q, k, v read once; out and lse written once
};

/// The device buffers of one shape, freed with the object.
class ShapeBuffers {
public:
  explicit ShapeBuffers(device::Device &device) : device_(device) {}
  ~ShapeBuffers() {
    for (device::DevicePtr p : owned_)
      (void)device_.free(p);
  }
  Expected<device::DevicePtr> upload(const void *data, size_t bytes) {
    auto p = device_.allocate(std::max<size_t>(bytes, 16));
    if (!p)
      return p.status();
    owned_.push_back(*p);
    if (data && bytes)
      MOBAGEN_RETURN_IF_ERROR(device_.copyToDevice(*p, data, bytes));
    return *p;
  }

private:
  device::Device &device_;
  std::vector<device::DevicePtr> owned_;
};

/// 4 * D * sum over rows and heads of the keys each row attends, from the
/// selected blocks (-1 = unused slot): whole blocks, the current one (causal)
/// up to the row's key position.
double usefulFlops(const mobagen_config &c, const UniformBatch &b, const std::vector<int32_t> &selected) {
  double keys = 0;
  for (size_t s = 0; s + 1 < b.cuSeqlensQ.size(); ++s) {
    const int64_t lq = b.cuSeqlensQ[s + 1] - b.cuSeqlensQ[s], lk = b.cuSeqlensK[s + 1] - b.cuSeqlensK[s];
    for (int64_t i = 0; i < lq; ++i) {
      const int64_t row = b.cuSeqlensQ[s] + i, p = lk - lq + i;
      for (int64_t h = 0; h < c.num_q_heads; ++h)
        for (int64_t slot = 0; slot < c.top_k; ++slot) {
          const int32_t j = selected[size_t((row * c.num_q_heads + h) * c.top_k + slot)];
          if (j < 0)
            continue;
          const int64_t start = int64_t(j) * c.block_size;
          int64_t end = std::min(start + c.block_size, lk);
          if (c.causal)
            end = std::min(end, p + 1);
          keys += double(std::max<int64_t>(end - start, 0));
        }
    }
  }
  return 4.0 * double(c.head_dim) * keys;
}

/// The median cost of flash_attention_fwd(q, k, v, out, lse, cu_seqlens_q,
/// cu_seqlens_k, total_q) over the forward's buffers; grid [ceil(max Lq / block_m), Hq, B].
struct DenseTime {
  double median = 0;
  std::optional<emu::CtaTally> ctas;
  std::string unit;
};

Expected<DenseTime> timeDense(device::Device &device, const DenseCandidate &dense,
                                                                   const mobagen_config &c, const mobagen_shape &s,
                                                                   const launch::ForwardBuffers &b,
                                                                   const BenchOptions &o) {
  device::LaunchConfig launch;
  const int64_t blockM = dense.tuning.blockM;
  launch.grid = {uint32_t((s.max_seqlen_q + blockM - 1) / blockM), uint32_t(c.num_q_heads), uint32_t(s.batch)};
  launch.block = {uint32_t(32 * dense.tuning.numWarps), 1, 1};
  launch.dynamicSharedBytes = dense.dynamicSharedBytes;
  device::KernelArgs args;
  args.add(b.q).add(b.k).add(b.v).add(b.out).add(b.lse).add(b.cuSeqlensQ).add(b.cuSeqlensK).add(int32_t(s.total_q));
  auto m = device.measure([&] { return device.enqueue(dense.module, "flash_attention_fwd", launch, args, 0); },
                          o.warmup, o.repetitions, 0);
  if (!m)
    return m.status().withContext(fmt::format("dense attention {}: ", dense.id));
  MOBAGEN_RETURN_IF_ERROR(device.synchronize(0));
  return DenseTime{tune::medianOf(m->samples), measuredCtas(device), m->unit};
}

/// Times the dense baseline on the forward's buffers: on the first shape every
/// candidate (a --dense-tune variant that fails to run leaves the space with the
/// reason), keeping the fastest; on later shapes the kept one.
Status timeDenseBaseline(device::Device &device, DenseBaseline &dense, const mobagen_config &c,
                         const UniformBatch &batch, const launch::ForwardBuffers &b, const BenchOptions &o,
                         double &median, std::optional<emu::CtaTally> &ctas) {
  if (dense.chosen) {
    auto d = timeDense(device, dense.candidates[*dense.chosen], c, batch.shape, b, o);
    if (!d)
      return d.status();
    median = d->median;
    ctas = d->ctas;
    return Status::success();
  }
  for (size_t i = 0; i < dense.candidates.size(); ++i) {
    DenseCandidate &candidate = dense.candidates[i];
    if (!candidate.rejected.empty())
      continue;
    auto d = timeDense(device, candidate, c, batch.shape, b, o);
    if (!d) {
      if (!dense.tuned)
        return d.status();
      candidate.rejected = "it fails to run: " + d.status().message();
      continue;
    }
    candidate.time = d->median;
    candidate.ctas = d->ctas;
    candidate.timeUnit = d->unit;
    if (!dense.chosen || *candidate.time < *dense.candidates[*dense.chosen].time)
      dense.chosen = i;
  }
  if (!dense.chosen)
    return Status::errorf("--dense-tune: all {} dense variants left the space (--dense-space narrows it)",
                          dense.candidates.size());
  dense.timedOn = batch;
  median = *dense.candidates[*dense.chosen].time;
  ctas = dense.candidates[*dense.chosen].ctas;
  return Status::success();
}

Expected<Row> benchOne(api::Context &ctx, const UniformBatch &batch, const BenchOptions &o,
                       const BenchInputSpec &inputs, DenseBaseline *dense, std::optional<double> &denseMedian,
                       std::optional<emu::CtaTally> &denseCtas) {
  const mobagen_config c = ctx.config();
  const mobagen_shape &s = batch.shape;
  device::Device &device = ctx.device();
  ShapeBuffers buffers(device);
  // One generator for q, k and v in turn, seeded as before --inputs existed (so
  // uniform reproduces those inputs bit for bit).
  std::mt19937 rng(7);
  const DType dtype = c.dtype == MOBAGEN_DTYPE_BF16 ? DType::BF16 : DType::F16;
  auto tensor = [&](const std::vector<int32_t> &cuSeqlens, int64_t heads) {
    const std::vector<double> values = benchTensor(inputs, cuSeqlens, heads, c.head_dim, rng);
    std::vector<uint16_t> bits(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      bits[i] = encodeDType(values[i], dtype);
    return bits;
  };
  const auto q = tensor(batch.cuSeqlensQ, c.num_q_heads);
  const auto k = tensor(batch.cuSeqlensK, c.num_kv_heads);
  const auto v = tensor(batch.cuSeqlensK, c.num_kv_heads);
  uint64_t workspaceBytes = 0;
  if (api::ApiStatus st = ctx.workspaceSize(s, workspaceBytes); !st.ok())
    return Status::error(st.message);
  launch::ForwardBuffers b;
  const std::pair<device::DevicePtr *, std::pair<const void *, size_t>> uploads[] = {
      {&b.q, {q.data(), q.size() * 2}},
      {&b.k, {k.data(), k.size() * 2}},
      {&b.v, {v.data(), v.size() * 2}},
      {&b.cuSeqlensQ, {batch.cuSeqlensQ.data(), batch.cuSeqlensQ.size() * 4}},
      {&b.cuSeqlensK, {batch.cuSeqlensK.data(), batch.cuSeqlensK.size() * 4}},
      {&b.out, {nullptr, q.size() * 2}},
      {&b.lse, {nullptr, size_t(s.total_q * c.num_q_heads) * 4}},
      {&b.workspace, {nullptr, size_t(workspaceBytes)}}};
  for (const auto &[ptr, src] : uploads) {
    auto p = buffers.upload(src.first, src.second);
    if (!p)
      return p.status();
    *ptr = *p;
  }
  b.workspaceBytes = workspaceBytes;
  Row row;
  row.batch = batch;
  device::Measurement m;
  if (api::ApiStatus st = ctx.benchmarkForward(s, b, o.warmup, o.repetitions, 0, m); !st.ok())
    return Status::error(st.message);
  MOBAGEN_RETURN_IF_ERROR(device.synchronize(0));
  row.median = tune::medianOf(m.samples);
  row.ctas = measuredCtas(device);
  row.unit = m.unit;
  row.choice = ctx.choiceFor({s.batch, s.total_q, s.total_k, s.max_seqlen_q, s.max_seqlen_k});
  auto layout = launch::workspaceLayout(ctx.bundle().config(),
                                        {s.batch, s.total_q, s.total_k, s.max_seqlen_q, s.max_seqlen_k});
  if (!layout)
    return layout.status();
  std::vector<int32_t> selected(size_t(s.total_q * c.num_q_heads * c.top_k));
  if (!selected.empty())
    MOBAGEN_RETURN_IF_ERROR(
        device.copyToHost(selected.data(), b.workspace + layout->selected.offset, selected.size() * 4));
  row.usefulFlops = usefulFlops(c, batch, selected);
  if (o.counters) {
    // Each kernel once more, alone, on the inputs the forward left: what it executed.
    auto *emulator = dynamic_cast<emu::EmulatorDevice *>(&device);
    if (!emulator)
      return Status::errorf("--counters needs the emulator (--device emulator); the device is {}", device.name());
    const launch::VarlenShape shape{s.batch, s.total_q, s.total_k, s.max_seqlen_q, s.max_seqlen_k};
    for (size_t k = 0; k < bundle::kKernelCount; ++k) {
      MOBAGEN_RETURN_IF_ERROR(
          ctx.launcher().enqueueKernel(bundle::KernelKind(k), row.choice[k], shape, *layout, b, 0));
      MOBAGEN_RETURN_IF_ERROR(device.synchronize(0));
      row.counters.push_back(ctx.launcher().launchConfig(bundle::KernelKind(k), row.choice[k], shape).grid.count()
                                 ? emulator->counters()
                                 : emu::Counters{});
    }
    const double elementBytes = 2;
    row.minimumBytes = double(q.size() + k.size() + v.size() + q.size()) * elementBytes +
                       double(s.total_q * c.num_q_heads) * 4;
  }
  // Dense attention once per shape, after the selection was read (it rewrites out and lse).
  if (dense && !denseMedian) {
    double median = 0;
    MOBAGEN_RETURN_IF_ERROR(timeDenseBaseline(device, *dense, c, batch, b, o, median, denseCtas));
    denseMedian = median;
  }
  row.denseMedian = denseMedian;
  row.denseCtas = denseCtas;
  return row;
}

std::string variantsText(const api::Context &ctx, const launch::VariantChoice &choice) {
  std::string text;
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    text += (k ? "/" : "") + ctx.bundle().kernels()[k].variants[choice[k]].id;
  return text;
}

/// The --counters table of one row, added to its JSON row: per kernel what the emulator
/// counted; then the MMA work efficiency (useful FLOPs over the tensor-core FLOPs
/// of the two attention kernels) and the global bytes over the minimum.
void printCounters(const api::Context &ctx, const Row &r, nlohmann::json &jsonRow) {
  fmt::print("\ncounters, batch {} x seqlen {} (variants {}):\n", r.batch.shape.batch, r.batch.shape.max_seqlen_q,
             variantsText(ctx, r.choice));
  fmt::print("  {:<24} {:>14} {:>14} {:>14} {:>12} {:>10}\n", "kernel", "warp_instr", "tc_flops", "global_read",
             "global_write", "bank_confl");
  emu::Counters total;
  nlohmann::json kernels = nlohmann::json::object();
  for (size_t k = 0; k < r.counters.size(); ++k) {
    const emu::Counters &c = r.counters[k];
    total.add(c);
    const std::optional<emu::CtaTally> tally = emu::CtaTally{c.executedCtas, c.ctas};
    fmt::print("  {:<24} {:>14} {:>14} {:>14} {:>12} {:>10}{}\n", bundle::kKernelNames[k], c.totalWarpInstructions(),
               c.tensorCoreFlops, c.globalBytesRead, c.globalBytesWritten, c.sharedBankConflicts, sampledNote(tally));
    kernels[std::string(bundle::kKernelNames[k])] = {{"warp_instructions", c.totalWarpInstructions()},
                                                      {"tensor_core_flops", c.tensorCoreFlops},
                                                      {"global_bytes_read", c.globalBytesRead},
                                                      {"global_bytes_written", c.globalBytesWritten},
                                                      {"shared_bytes_read", c.sharedBytesRead},
                                                      {"shared_bytes_written", c.sharedBytesWritten},
                                                      {"shared_bank_conflicts", c.sharedBankConflicts}};
    kernels[std::string(bundle::kKernelNames[k])].update(sampledJson(tally));
  }
  // The attention's tensor-core work: the routed blocks and the current block (the
  // gate's split-precision scores and the routing's prefix-sum dot are reported apart).
  const uint64_t attentionFlops = r.counters[size_t(bundle::KernelKind::SparseAttentionBlocks)].tensorCoreFlops +
                                  r.counters[size_t(bundle::KernelKind::SparseAttentionMerge)].tensorCoreFlops;
  const double efficiency = attentionFlops ? r.usefulFlops / double(attentionFlops) : 0.0;
  const double bytes = double(total.globalBytesRead + total.globalBytesWritten);
  const double overMinimum = r.minimumBytes > 0 ? bytes / r.minimumBytes : 0.0;
  fmt::print("  MMA work efficiency: {:.1f}% ({:.0f} useful FLOPs / {} tensor-core FLOPs of the attention "
             "kernels; {} more in the gate and routing)\n",
             100 * efficiency, r.usefulFlops, attentionFlops, total.tensorCoreFlops - attentionFlops);
  fmt::print("  global bytes: {:.0f}, {:.2f}x the minimum {:.0f} (q, k, v read once, out and lse written once)\n",
             bytes, overMinimum, r.minimumBytes);
  fmt::print("  shared-memory bank conflicts: {}\n", total.sharedBankConflicts);
  jsonRow["counters"] = {{"kernels", kernels},
                         {"mma_work_efficiency", efficiency},
                         {"attention_tensor_core_flops", attentionFlops},
                         {"global_bytes", bytes},
                         {"global_bytes_over_minimum", overMinimum},
                         {"shared_bank_conflicts", total.sharedBankConflicts}};
}

/// The useful rate of a dense variant's time on the shape it was timed on.
double denseRate(const DenseBaseline &dense, const bundle::BundleConfig &config, double time, bool ms) {
  const double flops = denseUsefulFlops(config, dense.timedOn.cuSeqlensQ, dense.timedOn.cuSeqlensK);
  const double seconds = time * (ms ? 1e-3 : 1e-6);
  return seconds > 0 ? flops / seconds / 1e12 : 0.0;
}

/// --dense-tune's variants with their times on the first shape, the chosen one marked.
void printDenseVariants(const DenseBaseline &dense, const bundle::BundleConfig &config, const char *rateName) {
  const DenseCandidate &chosen = dense.candidates[*dense.chosen];
  fmt::print("\ndense variants (flash_attention_fwd, dot=mma), timed at batch {} x seqlen {}; {} generated in "
             "{:.1f} s:\n",
             dense.timedOn.shape.batch, dense.timedOn.shape.max_seqlen_q, dense.candidates.size(),
             dense.generateSeconds);
  fmt::print("  {:<14} {:>7} {:>7} {:>5} {:>6} {:>12} {:>14}\n", "variant", "block_m", "block_n", "warps", "stages",
             fmt::format("time ({})", chosen.timeUnit), rateName);
  for (const DenseCandidate &d : dense.candidates) {
    const compiler::DenseTuning &t = d.tuning;
    if (!d.time) {
      fmt::print("  {:<14} {:>7} {:>7} {:>5} {:>6} rejected: {}\n", d.id, t.blockM, t.blockN, t.numWarps,
                 t.numStages, d.rejected);
      continue;
    }
    fmt::print("  {:<14} {:>7} {:>7} {:>5} {:>6} {:>12.4g} {:>14.4g}{}{}\n", d.id, t.blockM, t.blockN, t.numWarps,
               t.numStages, *d.time, denseRate(dense, config, *d.time, d.timeUnit == "ms"), sampledNote(d.ctas),
               &d == &chosen ? "  <- chosen" : "");
  }
}

nlohmann::json denseVariantsJson(const DenseBaseline &dense, const bundle::BundleConfig &config) {
  nlohmann::json out = nlohmann::json::array();
  for (const DenseCandidate &d : dense.candidates) {
    nlohmann::json v = {{"id", d.id},
                        {"block_m", d.tuning.blockM},
                        {"block_n", d.tuning.blockN},
                        {"num_warps", d.tuning.numWarps},
                        {"num_stages", d.tuning.numStages},
                        {"chosen", &d == &dense.candidates[*dense.chosen]}};
    if (d.time) {
      v["time"] = *d.time;
      v["unit"] = d.timeUnit;
      v["tflops"] = denseRate(dense, config, *d.time, d.timeUnit == "ms");
      v.update(sampledJson(d.ctas));
    } else {
      v["rejected"] = d.rejected;
    }
    out.push_back(std::move(v));
  }
  return out;
}

int benchCommand(const BenchOptions &o) {
  RejectedEntryNotes notes(o.quiet);
  auto fail = [&notes](const Status &s) {
    notes.printCount();
    fmt::print(stderr, "mobagen bench: error: {}\n", s.message());
    return kExitFailure;
  };
  // --json is checked before any work (a directory or unwritable parent fails now).
  OutputSet jsonOutput;
  if (!o.json.empty())
    if (Status s = jsonOutput.addOutput(o.json, "--json"); !s)
      return fail(s);
  if (o.batch < 1 || o.repetitions < 1 || o.warmup < 0)
    return fail(Status::errorf("--batch {}, --warmup {}, --repetitions {}: need >= 1, >= 0, >= 1", o.batch,
                               o.warmup, o.repetitions));
  for (int64_t l : o.seqlens)
    if (l < 1)
      return fail(Status::errorf("--seqlen {} must be >= 1", l));
  auto inputs = parseBenchInputs(o.inputs, o.rho, o.rhoGiven);
  if (!inputs)
    return fail(inputs.status());
  if (!o.denseSpace.empty() && !o.denseTune)
    return fail(Status::error("--dense-space narrows --dense-tune's space; give --dense-tune"));
  auto denseSpace = parseDenseSpace(o.denseSpace);
  if (!denseSpace)
    return fail(denseSpace.status());
  std::string cacheDir;
  auto context = openContext(o.context, cacheDir, notes.log());
  if (!context)
    return fail(context.status());
  api::Context &ctx = **context;
  if (o.sampleCtas) {
    auto *emulator = dynamic_cast<emu::EmulatorDevice *>(&ctx.device());
    if (!emulator)
      return fail(Status::errorf("--sample-ctas {} needs the emulator (--device emulator); the device is {}",
                                 o.sampleCtas, ctx.device().name()));
    emulator->options().sampleCtas = o.sampleCtas;
    emulator->options().sampledKernels = kSampledKernels;
  }
  std::optional<DenseBaseline> dense;
  if (o.denseTune) {
    dense.emplace();
    dense->tuned = true;
    auto candidates = tunedDenseCandidates(ctx.bundle().config(), *denseSpace, ctx.device(), dense->generateSeconds);
    if (!candidates)
      return fail(candidates.status());
    dense->candidates = std::move(*candidates);
  } else if (!o.densePtx.empty()) {
    if (o.denseBlockM < 1 || o.denseWarps < 1 || o.denseWarps > 32)
      return fail(Status::errorf("--dense-block-m {} and --dense-warps {}: need >= 1 and 1..32", o.denseBlockM,
                                 o.denseWarps));
    // As `mobagen emu`: a regular file (not a directory or a FIFO), at most 256 MiB
    // (a dense kernel's PTX is well under 1 MB).
    auto text = readRegularFile(o.densePtx, 256u << 20);
    if (!text)
      return fail(text.status().withContext("--dense-ptx "));
    // The baseline is a tensor-core kernel (DESIGN.md section 4), launched with
    // no dynamic shared memory: refuse PTX that is neither.
    if (text->find("mma.sync") == std::string::npos)
      return fail(Status::errorf("--dense-ptx {}: has no mma.sync instruction; the dense baseline must run "
                                 "on tensor cores (lower it with --mobagen-tile-to-llvm=\"dot=mma\")",
                                 o.densePtx));
    if (text->find(".extern .shared") != std::string::npos)
      return fail(Status::errorf("--dense-ptx {}: uses dynamic shared memory (.extern .shared), which bench "
                                 "launches with none (lower it with --num-stages=1)",
                                 o.densePtx));
    auto module = ctx.device().loadModule(*text, o.densePtx);
    if (!module)
      return fail(module.status().withContext("--dense-ptx: "));
    dense.emplace();
    DenseCandidate candidate;
    candidate.id = o.densePtx;
    candidate.tuning = {.blockM = o.denseBlockM, .blockN = 0, .numWarps = o.denseWarps, .numStages = 0};
    candidate.module = *module;
    dense->candidates.push_back(std::move(candidate));
  }

  std::vector<Row> rows;
  for (int64_t seqlen : o.seqlens) {
    const UniformBatch batch = uniformBatch(ctx, o.batch, seqlen, seqlen);
    size_t cachedKernels = 0;
    if (api::ApiStatus st = ctx.loadTuned(batch.shape, cachedKernels); !st.ok()) // never measures
      return fail(Status::error(st.message));
    std::vector<std::pair<std::string, std::string>> pins{{"", ""}}; // the tuned / default forward
    if (o.allVariants)
      for (size_t k = 0; k < bundle::kKernelCount; ++k)
        for (const bundle::KernelVariant &v : ctx.bundle().kernels()[k].variants)
          pins.push_back({std::string(bundle::kKernelNames[k]), v.id});
    std::set<launch::VariantChoice> done;
    std::optional<double> denseMedian;
    std::optional<emu::CtaTally> denseCtas;
    for (const auto &[kernel, id] : pins) {
      if (!kernel.empty())
        if (api::ApiStatus st = ctx.setVariant(kernel, id); !st.ok())
          return fail(Status::error(st.message));
      const auto choice = ctx.choiceFor({batch.shape.batch, batch.shape.total_q, batch.shape.total_k,
                                         batch.shape.max_seqlen_q, batch.shape.max_seqlen_k});
      if (done.insert(choice).second) {
        auto row = benchOne(ctx, batch, o, *inputs, dense ? &*dense : nullptr, denseMedian, denseCtas);
        if (!row)
          return fail(row.status());
        rows.push_back(std::move(*row));
      }
      if (!kernel.empty())
        (void)ctx.setVariant(kernel, "");
    }
  }

  notes.printCount();
  const bool model = !rows.empty() && rows.front().unit == "model-us";
  const char *rateName = model ? "model-TFLOP/s" : "TFLOP/s";
  fmt::print("mobagen bench: device {}, {}, inputs {}\n", ctx.device().name(), ctx.bundle().config().canonical(),
             inputs->describe());
  fmt::print("{:>6} {:>8} {:>8} {:<44} {:>12} {:>14} {:>14} {:>9}\n", "batch", "seqlen_q", "seqlen_k", "variants",
             rows.empty() ? "time" : fmt::format("time ({})", rows.front().unit), "useful_flops", rateName,
             "vs_dense");
  nlohmann::json json = nlohmann::json::array();
  for (const Row &r : rows) {
    const double seconds = r.median * (r.unit == "ms" ? 1e-3 : 1e-6);
    const double rate = seconds > 0 ? r.usefulFlops / seconds / 1e12 : 0.0;
    // The speed-up: dense time over MoBA time (> 1: MoBA is faster).
    std::optional<double> speedup;
    if (r.denseMedian && r.median > 0)
      speedup = *r.denseMedian / r.median;
    fmt::print("{:>6} {:>8} {:>8} {:<44} {:>12.4g} {:>14.0f} {:>14.4g} {:>9}{}\n", r.batch.shape.batch,
               r.batch.shape.max_seqlen_q, r.batch.shape.max_seqlen_k, variantsText(ctx, r.choice), r.median,
               r.usefulFlops, rate, speedup ? fmt::format("{:.3g}x", *speedup) : std::string("n/a*"),
               sampledNote(r.ctas));
    if (r.denseMedian && r.denseCtas && r.denseCtas->sampled())
      fmt::print("{:>6} {:>8} {:>8} {:<44} {:>12.4g}{}\n", "", "", "",
                 dense->tuned ? "dense " + dense->candidates[*dense->chosen].id : std::string("dense flash_attention_fwd"),
                 *r.denseMedian, sampledNote(r.denseCtas));
    nlohmann::json variants;
    for (size_t k = 0; k < bundle::kKernelCount; ++k)
      variants[std::string(bundle::kKernelNames[k])] = ctx.bundle().kernels()[k].variants[r.choice[k]].id;
    json.push_back({{"batch", r.batch.shape.batch},
                    {"seqlen_q", r.batch.shape.max_seqlen_q},
                    {"seqlen_k", r.batch.shape.max_seqlen_k},
                    {"variants", variants},
                    {"time", r.median},
                    {"unit", r.unit},
                    {"useful_flops", r.usefulFlops},
                    {"tflops", rate},
                    {"tflops_modeled", model},
                    {"dense_time", r.denseMedian ? nlohmann::json(*r.denseMedian) : nlohmann::json(nullptr)},
                    {"speedup_vs_dense", speedup ? nlohmann::json(*speedup) : nlohmann::json(nullptr)}});
    json.back().update(sampledJson(r.ctas));
    json.back()["inputs"] = inputs->kind == BenchInputKind::Ar1
                                ? nlohmann::json{{"kind", "ar1"}, {"rho", inputs->rho}}
                                : nlohmann::json{{"kind", inputs->describe()}};
    if (r.denseMedian)
      json.back()["dense_sampling"] = sampledJson(r.denseCtas);
    if (dense && dense->tuned && dense->chosen) {
      json.back()["dense_variant"] = dense->candidates[*dense->chosen].id;
      json.back()["dense_variants"] = denseVariantsJson(*dense, ctx.bundle().config());
    }
  }
  if (dense && dense->tuned && dense->chosen)
    printDenseVariants(*dense, ctx.bundle().config(), rateName);
  if (o.counters) // json holds one row per entry of rows, in the same order
    for (size_t i = 0; i < rows.size(); ++i)
      printCounters(ctx, rows[i], json[i]);
  if (o.sampleCtas)
    fmt::print("sampled: the emulator ran a stratified subset of the attention kernels' CTAs and scaled the counters "
               "to the grid (--sample-ctas {}; docs/emulator.md); the outputs are not checkable.\n",
               o.sampleCtas);
  if (model)
    fmt::print("model-us and model-TFLOP/s come from the emulator's cost model (docs/tuning.md), not a clock.\n");
  if (!dense)
    fmt::print("* vs_dense: no dense kernel given (--dense-ptx; docs/perf.md, \"mobagen bench\").\n");
  else if (dense->tuned)
    fmt::print("vs_dense: the time of the fastest dense flash-attention variant ({}, of the {} above; "
               "--dense-tune) over the MoBA forward's.\n",
               dense->candidates[*dense->chosen].id, dense->candidates.size());
  else
    fmt::print("vs_dense: the time of the dense flash-attention kernel ({}) over the MoBA forward's.\n", o.densePtx);
  if (!o.json.empty()) {
    const std::string text = json.dump(2) + "\n";
    if (Status s = jsonOutput.stage(o.json, [&text](const std::string &temp) {
          return writeFileSynced(temp, text);
        });
        !s)
      return fail(s);
    if (Status s = jsonOutput.publish(); !s)
      return fail(s);
  }
  return kExitOk;
}

} // namespace

std::function<int()> addBenchCommand(CLI::App &app) {
  auto options = std::make_shared<BenchOptions>();
  BenchOptions &o = *options;
  CLI::App *bench = app.add_subcommand("bench", "Time the MoBA forward per shape: time, TFLOP/s of useful work");
  bench->footer("Runs the forward for --batch sequences of each --seqlen (queries = keys) with the tuned\n"
                "variants when --cache-dir holds them (mobagen tune), else the defaults; with\n"
                "--all-variants also with each variant of each kernel. Prints shape, variants\n"
                "(one id per kernel, in launch order), the median time (ms on a GPU, model-us on the\n"
                "emulator), the useful FLOPs (4 * D per attended key, per query row and head, counted from\n"
                "the selection the forward wrote), their rate, and with --dense-ptx the speed-up over dense\n"
                "attention on the same inputs and device. --json FILE writes the same rows.\n"
                "Exit codes: 0 success, 1 failure (bundle, device, run), 2 command-line usage error.");
  addContextFlags(*bench, o.context);
  bench->add_option("--seqlen", o.seqlens, "Sequence lengths, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  bench->add_option("--batch", o.batch, "Sequences per batch")->capture_default_str();
  bench->add_option("--warmup", o.warmup, "Unmeasured runs")->capture_default_str();
  bench->add_option("--repetitions", o.repetitions, "Measured runs (the median is reported)")
      ->capture_default_str();
  bench->add_flag("--all-variants", o.allVariants, "Also time each variant of each kernel");
  bench->add_option("--json", o.json, "Also write the rows as JSON to FILE");
  bench->add_option("--dense-ptx", o.densePtx,
                    "PTX of the dense flash-attention kernel for the vs_dense column (mobagen-template "
                    "flash-attention-fwd | mobagen-opt --mobagen-tile-to-llvm | mobagen-translate "
                    "--mlir-to-ptx; docs/perf.md)");
  auto *tune = bench->add_flag(
      "--dense-tune", o.denseTune,
      "Generate every variant of the compiler's dense flash-attention kernel in this process (block_m, block_n, "
      "num_warps, num_stages; dot=mma), time each on the first --seqlen, and compare every shape with the "
      "fastest (docs/perf.md, \"mobagen bench\"); prints the variants' table");
  tune->excludes(bench->get_option("--dense-ptx"));
  bench->add_option("--dense-space", o.denseSpace,
                    "With --dense-tune: keep only these knob values, e.g. \"block_m=64;num_stages=1,2\" "
                    "(knobs block_m, block_n, num_warps, num_stages; values from the space)");
  bench->add_option("--inputs", o.inputs,
                    "q, k, v: gaussian (i.i.d. N(0,1)), ar1 (each head and dim an AR(1) process along the "
                    "sequence, lag-1 correlation --rho: neighbouring queries pick similar blocks) or uniform "
                    "(i.i.d. U(-1,1), the inputs before --inputs existed)")
      ->capture_default_str();
  bench->add_option("--rho", o.rho, "With --inputs ar1: the lag-1 autocorrelation, in [0, 1)")
      ->capture_default_str()
      ->each([&o](const std::string &) { o.rhoGiven = true; });
  bench->add_option("--dense-block-m", o.denseBlockM, "The dense kernel's --block-m")->capture_default_str();
  bench->add_option("--dense-warps", o.denseWarps, "The dense kernel's --num-warps")->capture_default_str();
  bench->add_flag("--counters", o.counters,
                  "On the emulator: run each kernel once more and print what it executed (tensor-core FLOPs, "
                  "global bytes, bank conflicts), the MMA work efficiency and the global bytes over the minimum");
  bench->add_option("--sample-ctas", o.sampleCtas,
                    "On the emulator: run about N CTAs of each attention launch (stratified by grid position, "
                    "seeded) and scale the counters and the modeled time to the grid; 0 runs every CTA. "
                    "Figures are marked sampled; outputs are not checkable")
      ->capture_default_str();
  bench->add_flag("--quiet", o.quiet,
                  "Instead of a note per tuning-cache entry that is rejected (corrupt, stale, unreadable; its "
                  "kernel runs the default variant), print one line with their count");
  return [options] { return benchCommand(*options); };
}

} // namespace mobagen::cli
