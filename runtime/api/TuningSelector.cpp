//===- TuningSelector.cpp - Candidates, inputs and rotation for one kernel --===//
#include "runtime/api/TuningSelector.h"

#include <algorithm>
#include <memory>
#include <random>

#include "mobagen/mobagen.h"
#include "runtime/support/FloatFormats.h"
#include "runtime/tune/Rotation.h"

namespace mobagen::api {
namespace {

using bundle::KernelKind;

/// Each buffer of a set starts at a 256-byte boundary (what cudaMalloc gives).
constexpr uint64_t kBufferAlign = 256;
uint64_t alignUp(uint64_t bytes) { return (bytes + kBufferAlign - 1) / kBufferAlign * kBufferAlign; }

/// `total` rows over `batch` sequences, as evenly as possible (the first ones longer).
std::vector<int64_t> evenLengths(int64_t total, int64_t batch) {
  std::vector<int64_t> lengths(size_t(batch), batch ? total / batch : 0);
  for (int64_t b = 0; b < (batch ? total % batch : 0); ++b)
    ++lengths[size_t(b)];
  return lengths;
}

TuningShape shapeOfLengths(const std::vector<int64_t> &lq, const std::vector<int64_t> &lk) {
  TuningShape t;
  t.sizes.batch = int64_t(lq.size());
  t.cuSeqlensQ = {0};
  t.cuSeqlensK = {0};
  for (size_t b = 0; b < lq.size(); ++b) {
    t.sizes.totalQ += lq[b];
    t.sizes.totalK += lk[b];
    t.sizes.maxSeqlenQ = std::max(t.sizes.maxSeqlenQ, lq[b]);
    t.sizes.maxSeqlenK = std::max(t.sizes.maxSeqlenK, lk[b]);
    t.cuSeqlensQ.push_back(int32_t(t.sizes.totalQ));
    t.cuSeqlensK.push_back(int32_t(t.sizes.totalK));
  }
  return t;
}

/// N copies of every buffer one forward reads or writes, carved from one
/// allocation, freed with the object.
class TuningInputs {
public:
  explicit TuningInputs(device::Device &device) : device_(device) {}
  ~TuningInputs() {
    if (base_)
      (void)device_.free(base_);
  }
  TuningInputs(const TuningInputs &) = delete;
  TuningInputs &operator=(const TuningInputs &) = delete;

  /// Allocates and fills the copies, then runs the kernels before `request.kernel`
  /// on each (their chosen variants) so that its inputs hold real values.
  Status create(const VariantRequest &request, const TuningShape &shape, uint64_t maxCopies, uint64_t l2Bytes) {
    const bundle::BundleConfig &c = request.bundle.config();
    const launch::VarlenShape &s = shape.sizes;
    auto layout = launch::workspaceLayout(c, s);
    if (!layout)
      return layout.status();
    layout_ = *layout;
    const uint64_t qBytes = uint64_t(s.totalQ * c.numQHeads * c.headDim) * 2;
    const uint64_t kvBytes = uint64_t(s.totalK * c.numKvHeads * c.headDim) * 2;
    const uint64_t cuBytes = uint64_t(s.batch + 1) * 4;
    const uint64_t lseBytes = uint64_t(s.totalQ * c.numQHeads) * 4;
    // q, k, v, cu_seqlens_q, cu_seqlens_k, out, lse, workspace; none empty, so
    // that each has its own address.
    const uint64_t sizes[] = {qBytes, kvBytes, kvBytes, cuBytes, cuBytes, qBytes, lseBytes, layout_.totalBytes};
    uint64_t setBytes = 0;
    for (uint64_t b : sizes)
      setBytes += alignUp(std::max<uint64_t>(b, 16));
    auto copies = tune::rotationCopies(setBytes, l2Bytes);
    if (!copies)
      return copies.status();
    const uint64_t n = std::min(*copies, maxCopies);
    auto base = device_.allocate(size_t(n * setBytes));
    if (!base)
      return base.status().withContext(fmt::format("{} copies of the {}-byte tuning inputs: ", n, setBytes));
    base_ = *base;

    // Random values in [-1, 1) in the dtype, the same in every copy (the L2 cares
    // about addresses, not values); a fixed seed makes the emulator's costs repeat.
    std::mt19937 rng(20261128);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    auto random = [&](uint64_t bytes) {
      std::vector<uint16_t> bits(bytes / 2);
      for (uint16_t &b : bits)
        b = encodeDType(uniform(rng), c.dtype);
      return bits;
    };
    const std::vector<uint16_t> q = random(qBytes), k = random(kvBytes), v = random(kvBytes);
    for (uint64_t i = 0; i < n; ++i) {
      device::DevicePtr at = base_ + i * setBytes;
      std::array<device::DevicePtr, 8> ptrs{};
      for (size_t b = 0; b < ptrs.size(); ++b) {
        ptrs[b] = at;
        at += alignUp(std::max<uint64_t>(sizes[b], 16));
      }
      launch::ForwardBuffers set{ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6], ptrs[7],
                                 layout_.totalBytes};
      const std::pair<device::DevicePtr, std::pair<const void *, uint64_t>> uploads[] = {
          {set.q, {q.data(), qBytes}},
          {set.k, {k.data(), kvBytes}},
          {set.v, {v.data(), kvBytes}},
          {set.cuSeqlensQ, {shape.cuSeqlensQ.data(), cuBytes}},
          {set.cuSeqlensK, {shape.cuSeqlensK.data(), cuBytes}}};
      for (const auto &[dst, src] : uploads)
        if (src.second)
          MOBAGEN_RETURN_IF_ERROR(device_.copyToDevice(dst, src.first, size_t(src.second)));
      for (size_t k = 0; k < size_t(request.kernel); ++k)
        MOBAGEN_RETURN_IF_ERROR(
            request.launcher.enqueueKernel(KernelKind(k), request.earlier[k], s, layout_, set, 0));
      sets_.push_back(set);
    }
    return device_.synchronize(0);
  }

  const std::vector<launch::ForwardBuffers> &sets() const { return sets_; }
  const launch::WorkspaceLayout &layout() const { return layout_; }

private:
  device::Device &device_;
  device::DevicePtr base_ = 0;
  launch::WorkspaceLayout layout_;
  std::vector<launch::ForwardBuffers> sets_;
};

} // namespace

TuningShape tuningShapeFor(const bundle::BundleConfig &config, const tune::ShapeBucket &bucket,
                           const launch::VarlenShape &shape) {
  const int64_t lk = bucket.maxSeqlenK;
  const int64_t lq = config.causal ? std::min(bucket.maxSeqlenQ, lk) : bucket.maxSeqlenQ;
  TuningShape own = shapeOfLengths(std::vector<int64_t>(size_t(bucket.batch), lq),
                                   std::vector<int64_t>(size_t(bucket.batch), lk));
  if (launch::validateShape(config, own.sizes))
    return own;
  // The bucket's own shape is past a limit (batch 65536, an int32 total): the
  // given shape, split evenly (q rows at most k rows per sequence when causal).
  std::vector<int64_t> q = evenLengths(shape.totalQ, shape.batch), k = evenLengths(shape.totalK, shape.batch);
  if (config.causal)
    for (size_t b = 0; b < q.size(); ++b)
      q[b] = std::min(q[b], k[b]);
  return shapeOfLengths(q, k);
}

tune::TuningKey tuningKeyFor(const VariantRequest &r) {
  return tune::TuningKey{.kernel = std::string(bundle::kKernelNames[size_t(r.kernel)]),
                         .config = r.bundle.config().canonical(),
                         .bucket = r.bucket,
                         .device = r.device.properties(),
                         .compilerVersion = r.bundle.compiler(),
                         .mobagenVersion = fmt::format("{}.{}.{}", MOBAGEN_VERSION_MAJOR, MOBAGEN_VERSION_MINOR,
                                                       MOBAGEN_VERSION_PATCH),
                         .bundleHash = r.bundle.hash()};
}

VariantSelector makeTuningSelector(TuningSelectorOptions options) {
  return [options = std::move(options)](const VariantRequest &r) -> Expected<size_t> {
    const bundle::BundleKernel &kernel = r.bundle.kernel(r.kernel);
    const TuningShape shape = tuningShapeFor(r.bundle.config(), r.bucket, r.shape);
    // Nothing to run (batch 0, no query rows): nothing to tune, the default stands.
    if (shape.sizes.batch == 0 || r.launcher.launchConfig(r.kernel, 0, shape.sizes).grid.count() == 0)
      return size_t(0);

    // Shared by the candidates: the first prepare that runs allocates the inputs
    // (none does when the cache answers).
    auto inputs = std::make_shared<TuningInputs>(r.device);
    auto created = std::make_shared<std::optional<Status>>();
    const uint64_t maxCopies = uint64_t(std::max(1, options.warmup + options.repetitions));
    const uint64_t l2Bytes = options.l2Bytes.value_or(tune::kH200L2Bytes);
    std::vector<tune::Candidate> candidates;
    for (size_t i = 0; i < kernel.variants.size(); ++i) {
      const bundle::KernelVariant &variant = kernel.variants[i];
      auto run = std::make_shared<std::function<Status()>>();
      tune::Candidate candidate;
      candidate.variant = variant.id;
      candidate.prepare = [&r, &variant, &shape, i, inputs, created, run, maxCopies, l2Bytes]() -> Status {
        auto module = r.launcher.module(r.kernel, i);
        if (!module)
          return module.status();
        if (!*created)
          *created = inputs->create(r, shape, maxCopies, l2Bytes);
        if (!**created)
          return Status::errorf("tuning inputs: {}", (*created)->message());
        std::vector<device::KernelArgs> args;
        for (const launch::ForwardBuffers &set : inputs->sets())
          args.push_back(r.launcher.kernelArgs(r.kernel, shape.sizes, inputs->layout(), set));
        const device::LaunchConfig launch = r.launcher.launchConfig(r.kernel, i, shape.sizes);
        device::Device &device = r.device;
        const device::ModuleId id = *module;
        const std::string entry = variant.entry;
        auto rotating = tune::rotatingRun<device::KernelArgs>(
            std::move(args), [&device, id, entry, launch](const device::KernelArgs &a) {
              return device.enqueue(id, entry, launch, a, 0);
            });
        if (!rotating)
          return rotating.status();
        *run = std::move(*rotating);
        return Status::success();
      };
      candidate.run = [run]() -> Status {
        if (!*run)
          return Status::error("run before prepare");
        return (*run)();
      };
      candidates.push_back(std::move(candidate));
    }

    tune::TuneOptions tuneOptions;
    tuneOptions.warmup = options.warmup;
    tuneOptions.repetitions = options.repetitions;
    tuneOptions.force = options.force;
    tuneOptions.log = options.log;
    if (r.log)
      tuneOptions.rejected = [&r](const std::filesystem::path &entry, std::string_view reason) {
        r.log(rejectedEntryNote(entry, r.kernel, reason, "tuning again"));
      };
    tune::Progress progress;
    if (options.progress)
      progress = [&](size_t done, size_t total, const tune::TuningChoice &best) {
        options.progress(r.kernel, done, total, best);
      };
    tune::Tuner tuner(r.device, r.cache);
    auto choice = tuner.choose(tuningKeyFor(r), candidates, tuneOptions, progress);
    if (!choice)
      return choice.status();
    if (options.chosen)
      options.chosen(r.kernel, *choice);
    const std::optional<size_t> index = kernel.findVariant(choice->variant);
    if (!index) // the tuner only returns one of the candidates
      return Status::errorf("the tuner chose '{}', which {} does not have", choice->variant, kernel.name);
    return *index;
  };
}

} // namespace mobagen::api

namespace mobagen::api {

std::optional<size_t> cachedChoiceFor(const VariantRequest &r, std::string_view consequence) {
  if (!r.cache)
    return std::nullopt;
  // Only the ids are read: the lookup never prepares or runs a candidate.
  const bundle::BundleKernel &kernel = r.bundle.kernel(r.kernel);
  std::vector<tune::Candidate> candidates;
  for (const bundle::KernelVariant &v : kernel.variants)
    candidates.push_back({v.id, {}, {}});
  tune::TuneOptions options;
  if (r.log)
    options.rejected = [&r, consequence](const std::filesystem::path &entry, std::string_view reason) {
      r.log(rejectedEntryNote(entry, r.kernel, reason, consequence));
    };
  const tune::Tuner tuner(r.device, r.cache);
  auto choice = tuner.lookup(tuningKeyFor(r), candidates, options);
  if (!choice || !*choice) // the request is valid by construction: an error is a miss too
    return std::nullopt;
  return kernel.findVariant((*choice)->variant);
}

VariantSelector makeCachedChoiceSelector() {
  return [](const VariantRequest &r) -> Expected<size_t> { return cachedChoiceFor(r).value_or(0); };
}

} // namespace mobagen::api
