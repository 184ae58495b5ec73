//===- TuneCommand.cpp - `mobagen tune`: choose each kernel's variant ahead ---===//
//
// Tunes one shape bucket of one bundle on one device and stores the choices in
// the cache directory, where every later context (mobagen_context_options.
// cache_dir) finds them. On a terminal the progress is one redrawn bar; otherwise
// one line per variant, so that logs and tests read it.
//
//===----------------------------------------------------------------------===//
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "runtime/api/TuningSelector.h"
#include "tools/mobagen/Commands.h"
#include "tools/mobagen/TuneContext.h"

namespace mobagen::cli {
namespace {

struct TuneOptions {
  ContextFlags context;
  int64_t batch = 1;
  int64_t seqlenQ = 0, seqlenK = 0;
  std::vector<int64_t> seqlens; ///< a varlen batch instead of --batch x --seqlen-q/k
  int warmup = 2, repetitions = 10;
  bool force = false;
};

std::string costText(double cost, const std::string &unit) { return fmt::format("{:.4g} {}", cost, unit); }

int tuneCommand(const TuneOptions &o) {
  auto fail = [](const Status &s) {
    fmt::print(stderr, "mobagen tune: error: {}\n", s.message());
    return kExitFailure;
  };
  if (o.seqlens.empty() && (o.seqlenQ < 1 || o.seqlenK < 1 || o.batch < 1))
    return fail(Status::errorf("--batch {}, --seqlen-q {}, --seqlen-k {}: each must be >= 1", o.batch, o.seqlenQ,
                               o.seqlenK));
  for (int64_t l : o.seqlens)
    if (l < 1 || l > INT32_MAX)
      return fail(Status::errorf("--seqlens: length {} is outside [1, {}]", l, INT32_MAX));
  std::string cacheDir;
  auto context = openContext(o.context, cacheDir);
  if (!context)
    return fail(context.status());
  api::Context &ctx = **context;
  const UniformBatch batch =
      o.seqlens.empty() ? uniformBatch(ctx, o.batch, o.seqlenQ, o.seqlenK) : varlenBatch(ctx, o.seqlens);

  const bool tty = isatty(STDOUT_FILENO) != 0;
  size_t total = 0, before = 0;
  for (const bundle::BundleKernel &k : ctx.bundle().kernels())
    total += k.variants.size();
  std::array<tune::TuningChoice, bundle::kKernelCount> chosen;
  api::TuningSelectorOptions options;
  options.warmup = o.warmup;
  options.repetitions = o.repetitions;
  options.force = o.force;
  options.log = [tty](std::string_view line) { fmt::print("{}{}\n", tty ? "\n" : "", line); };
  options.progress = [&](bundle::KernelKind kind, size_t done, size_t, const tune::TuningChoice &best) {
    const std::string_view kernel = bundle::kKernelNames[size_t(kind)];
    const tune::TuningChoice::Tried &last = best.tried.back();
    const std::string bestText =
        best.variant.empty() ? "none yet" : fmt::format("{} {}", best.variant, costText(best.cost, best.unit));
    if (tty) {
      constexpr size_t kWidth = 20;
      const size_t filled = (before + done) * kWidth / total;
      fmt::print("\r[{}{}] {}/{} {} best {}\x1b[K", std::string(filled, '#'), std::string(kWidth - filled, '.'),
                 before + done, total, kernel, bestText);
    } else {
      fmt::print("{}/{} {} {}: {}; best {}\n", before + done, total, kernel, last.variant,
                 last.skipped.empty() ? costText(last.cost, best.unit) : "skipped: " + last.skipped, bestText);
    }
    std::fflush(stdout);
  };
  options.chosen = [&](bundle::KernelKind kind, const tune::TuningChoice &choice) {
    chosen[size_t(kind)] = choice;
    before += ctx.bundle().kernel(kind).variants.size();
  };
  const api::ApiStatus tuned = ctx.tune(batch.shape, api::makeTuningSelector(options));
  if (tty)
    fmt::print("\n");
  if (!tuned.ok())
    return fail(Status::error(tuned.message));

  const tune::ShapeBucket bucket = api::bucketOf({batch.shape.batch, batch.shape.total_q, batch.shape.total_k,
                                                  batch.shape.max_seqlen_q, batch.shape.max_seqlen_k});
  fmt::print("mobagen tune: device {}, bucket batch {} max_seqlen_q {} max_seqlen_k {}\n", ctx.device().name(),
             bucket.batch, bucket.maxSeqlenQ, bucket.maxSeqlenK);
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    const tune::TuningChoice &c = chosen[k];
    if (c.variant.empty()) {
      fmt::print("  {}: {} (nothing to run for this shape; the default)\n", bundle::kKernelNames[k],
                 ctx.bundle().kernels()[k].variants[0].id);
      continue;
    }
    fmt::print("  {}: {} ({}, {})\n", bundle::kKernelNames[k], c.variant, costText(c.cost, c.unit),
               c.fromCache ? "from the cache" : fmt::format("measured {} variants", c.tried.size()));
    if (!c.cacheNote.empty())
      fmt::print("    note: {}\n", c.cacheNote);
  }
  const bool allCached = std::all_of(chosen.begin(), chosen.end(),
                                     [](const tune::TuningChoice &c) { return c.variant.empty() || c.fromCache; });
  // A choice that could not be stored is lost for the next run: say how many and fail.
  size_t measured = 0, unstored = 0;
  for (const tune::TuningChoice &c : chosen)
    if (!c.variant.empty() && !c.fromCache) {
      ++measured;
      if (c.cacheNote.find("choice not stored") != std::string::npos)
        ++unstored;
    }
  if (unstored > 0) {
    std::fflush(stdout); // the notes above come first
    fmt::print(stderr, "mobagen tune: error: {} of {} choices were not stored in {} (see the notes "
               "above)\n",
               unstored, measured, cacheDir);
    return kExitFailure;
  }
  fmt::print("mobagen tune: choices {} {}\n", allCached ? "read from" : "stored in", cacheDir);
  return kExitOk;
}

} // namespace

std::function<int()> addTuneCommand(CLI::App &app) {
  auto options = std::make_shared<TuneOptions>();
  TuneOptions &o = *options;
  CLI::App *tune = app.add_subcommand("tune", "Choose each kernel's fastest variant for a shape and cache it");
  tune->footer("Measures every variant of each of the five kernels of a forward for the shape\n"
               "bucket of --batch sequences of --seqlen-q queries and --seqlen-k keys, or of the varlen\n"
               "batch --seqlens (batch and longest lengths rounded up to powers of two), and stores the\n"
               "fastest in --cache-dir, where contexts with that cache directory find it (docs/tuning.md). Times are CUDA-event milliseconds on a\n"
               "GPU and model-us (the cost model, not a time) on the emulator.\n"
               "Exit codes: 0 success, 1 failure (bundle, device, every variant of a kernel failing),\n"
               "2 command-line usage error.");
  addContextFlags(*tune, o.context);
  CLI::Option *batch = tune->add_option("--batch", o.batch, "Sequences in the batch")->capture_default_str();
  CLI::Option *seqlenQ = tune->add_option("--seqlen-q", o.seqlenQ, "Queries per sequence");
  CLI::Option *seqlenK = tune->add_option("--seqlen-k", o.seqlenK, "Keys per sequence (default: --seqlen-q)");
  CLI::Option *seqlens =
      tune->add_option("--seqlens", o.seqlens, "Instead: a varlen batch, one sequence per length (queries = keys)")
          ->delimiter(',');
  seqlens->excludes(batch)->excludes(seqlenQ)->excludes(seqlenK);
  tune->callback([seqlenQ, seqlens] {
    if (seqlenQ->count() == 0 && seqlens->count() == 0)
      throw CLI::RequiredError("--seqlen-q or --seqlens");
  });
  tune->add_option("--warmup", o.warmup, "Unmeasured runs per variant")->capture_default_str();
  tune->add_option("--repetitions", o.repetitions, "Measured runs per variant (the median counts)")
      ->capture_default_str();
  tune->add_flag("--force", o.force, "Measure even when the cache holds a choice");
  return [options] {
    if (options->seqlenK == 0)
      options->seqlenK = options->seqlenQ;
    return tuneCommand(*options);
  };
}

} // namespace mobagen::cli
