//===- Emulator.cpp - Device calls and CTA-parallel launches ---------------===//
#include "runtime/emulator/Emulator.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "runtime/emulator/CtaSampling.h"
#include "runtime/emulator/Interpreter.h"
#include "runtime/emulator/PtxParser.h"
#include "runtime/support/CheckedMath.h"

namespace mobagen::emu {

EmulatorDevice::EmulatorDevice(EmulatorOptions options) : options_(options) {}
EmulatorDevice::~EmulatorDevice() = default;

Expected<device::DevicePtr> EmulatorDevice::allocate(size_t bytes) {
  std::lock_guard lock(mutex_);
  return global_.allocate(bytes);
}

Status EmulatorDevice::free(device::DevicePtr ptr) {
  std::lock_guard lock(mutex_);
  return global_.free(ptr);
}

Status EmulatorDevice::copyToDevice(device::DevicePtr dst, const void *src, size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0)
    return Status::success();
  GlobalMemory::Allocation *a = global_.find(dst, bytes);
  if (!a)
    return Status::errorf("copy of {} bytes to the device: {}", bytes, global_.describeMiss(dst, bytes));
  std::memcpy(a->data.get() + (dst - a->base), src, bytes);
  std::memset(a->init.get() + (dst - a->base), 1, bytes);
  return Status::success();
}

Status EmulatorDevice::copyToHost(void *dst, device::DevicePtr src, size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0)
    return Status::success();
  GlobalMemory::Allocation *a = global_.find(src, bytes);
  if (!a)
    return Status::errorf("copy of {} bytes to the host: {}", bytes, global_.describeMiss(src, bytes));
  std::memcpy(dst, a->data.get() + (src - a->base), bytes);
  return Status::success();
}

Expected<device::ModuleId> EmulatorDevice::loadModule(std::string_view ptx, std::string_view name) {
  auto module = parsePtx(ptx, name); // outside the lock: parsing touches no device state
  std::lock_guard lock(mutex_);
  if (!module)
    return module.status();
  // Module .global/.const variables live in device memory, initialized; every operand
  // that names one gets its address.
  std::vector<uint64_t> addresses;
  for (const ModuleVariable &v : module->variables) {
    auto ptr = global_.allocate(std::max<size_t>(v.init.size(), 1));
    if (!ptr)
      return Status::errorf("{}: variable '{}': {}", name, v.name, ptr.status().message());
    if (Status s = copyToDevice(*ptr, v.init.data(), v.init.size()); !s)
      return s;
    addresses.push_back(*ptr);
    variableMemory_.push_back(*ptr);
  }
  for (Kernel &k : module->kernels)
    for (Operand &o : k.operands)
      if (o.variable != kNoReg)
        o.imm += int64_t(addresses[o.variable]);
  modules_.push_back(std::make_unique<Module>(std::move(*module)));
  return device::ModuleId(modules_.size() - 1);
}

const Module *EmulatorDevice::module(device::ModuleId id) const {
  std::lock_guard lock(mutex_);
  return id < modules_.size() ? modules_[id].get() : nullptr;
}

device::DeviceProperties EmulatorDevice::properties() const {
  return {.kind = "emulator", .name = "emulator", .computeMajor = 9, .computeMinor = 0,
          .multiprocessors = costModel_.multiprocessors, .driverVersion = 0,
          .maxSharedBytesPerBlock = options_.maxSharedBytes};
}

Expected<device::Measurement> EmulatorDevice::measure(const std::function<Status()> &work, int warmup,
                                                      int repetitions, device::Stream) {
  if (warmup < 0 || repetitions < 1)
    return Status::errorf("measure: {} warm-up runs and {} repetitions; need >= 0 and >= 1", warmup,
                          repetitions);
  std::lock_guard lock(mutex_); // the samples are this work's launches only
  device::Measurement m{.samples = {}, .unit = "model-us"};
  for (int i = 0; i < warmup + repetitions; ++i) {
    // Summed afresh for each repetition: the difference of two running totals
    // would round differently as the total grows, and equal work must cost equal.
    repetitionMicroseconds_ = 0;
    repetitionCtas_ = {};
    MOBAGEN_RETURN_IF_ERROR(work());
    if (i >= warmup)
      m.samples.push_back(repetitionMicroseconds_);
    measuredCtas_ = repetitionCtas_;
  }
  return m;
}

Status EmulatorDevice::enqueue(device::ModuleId moduleId, std::string_view kernelName,
                               const device::LaunchConfig &config, const device::KernelArgs &args,
                               device::Stream) {
  std::lock_guard lock(mutex_);
  counters_ = Counters();
  const Module *module = this->module(moduleId);
  if (!module)
    return Status::errorf("launch: module id {} was never loaded", moduleId);
  const Kernel *kernel = module->find(kernelName);
  if (!kernel || !kernel->isEntry) {
    std::string names;
    for (const Kernel &k : module->kernels)
      if (k.isEntry)
        names += (names.empty() ? "" : ", ") + k.name;
    return Status::errorf("launch: module '{}' has no kernel '{}' (kernels: {})", module->name, kernelName, names);
  }
  const uint64_t threads = config.block.count();
  if (threads == 0 || threads > 1024 || config.block.z > 64)
    return Status::errorf("launch of '{}': block ({},{},{}) has {} threads; the limit is 1..1024 (z <= 64)",
                          kernel->name, config.block.x, config.block.y, config.block.z, threads);
  if (kernel->maxThreads && threads > kernel->maxThreads)
    return Status::errorf("launch of '{}': block has {} threads but the kernel's .maxntid/.reqntid allows {}",
                          kernel->name, threads, kernel->maxThreads);
  if (kernel->reqntid[0] && (config.block.x != kernel->reqntid[0] || config.block.y != kernel->reqntid[1] ||
                             config.block.z != kernel->reqntid[2]))
    return Status::errorf("launch of '{}': block ({},{},{}) is not the kernel's .reqntid {}, {}, {}: a kernel "
                          "with .reqntid runs only on exactly that block (PTX ISA 11.4.3)",
                          kernel->name, config.block.x, config.block.y, config.block.z, kernel->reqntid[0],
                          kernel->reqntid[1], kernel->reqntid[2]);
  if (config.grid.count() == 0 || config.grid.y > 65535 || config.grid.z > 65535)
    return Status::errorf("launch of '{}': grid ({},{},{}) is empty or over the limits (y, z <= 65535)",
                          kernel->name, config.grid.x, config.grid.y, config.grid.z);
  if (kernel->staticSharedBytes > options_.maxStaticSharedBytes)
    return Status::errorf("launch of '{}': the kernel declares {} bytes of static shared memory; "
                          "ptxas accepts at most {} (larger buffers must be dynamic)",
                          kernel->name, kernel->staticSharedBytes, options_.maxStaticSharedBytes);
  const uint64_t shared = uint64_t(kernel->dynamicSharedOffset) + config.dynamicSharedBytes;
  if (shared > options_.maxSharedBytes)
    return Status::errorf("launch of '{}': {} bytes of shared memory ({} static + {} dynamic) exceed the limit of {}",
                          kernel->name, shared, kernel->staticSharedBytes, config.dynamicSharedBytes,
                          options_.maxSharedBytes);
  if (args.size() != kernel->params.size())
    return Status::errorf("launch of '{}': {} arguments given, the kernel takes {}", kernel->name, args.size(),
                          kernel->params.size());

  LaunchContext ctx;
  ctx.kernel = kernel;
  ctx.global = &global_;
  ctx.params.assign(kernel->paramBytes, 0);
  for (size_t i = 0; i < args.size(); ++i) {
    const Param &p = kernel->params[i];
    if (args.bytes(i).size() != p.size)
      return Status::errorf("launch of '{}': argument {} ('{}') has {} bytes, the parameter has {}", kernel->name,
                            i, p.name, args.bytes(i).size(), p.size);
    std::memcpy(ctx.params.data() + p.offset, args.bytes(i).data(), p.size);
  }
  ctx.grid = Dim{config.grid.x, config.grid.y, config.grid.z};
  ctx.block = Dim{config.block.x, config.block.y, config.block.z};
  ctx.dynamicSharedBytes = config.dynamicSharedBytes;
  ctx.instructionLimit = options_.instructionLimitPerCta;
  ctx.checkRaces = options_.checkRaces;
  // With sampling on, any launch may read bytes a sampled launch skipped (merge
  // reads the partials of sampled blocks): those read as zero (GlobalMemory::
  // allocate) and are not faults. The counters stay real because the kernels
  // kept out of sampledKernels (selection, routing) run in full.
  ctx.checkUninitialized = options_.checkUninitialized && options_.sampleCtas == 0;
  std::atomic<bool> abort{false};
  ctx.abort = &abort;

  const bool sample =
      options_.sampleCtas > 0 && config.grid.count() > options_.sampleCtas &&
      (options_.sampledKernels.empty() ||
       std::any_of(options_.sampledKernels.begin(), options_.sampledKernels.end(),
                   [&](const std::string &prefix) { return kernel->name.starts_with(prefix); }));
  const std::vector<SampledCta> plan = planCtaSample(ctx.grid, sample ? options_.sampleCtas : 0, options_.sampleSeed);
  const uint64_t numCtas = plan.size();
  unsigned workers = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  workers = unsigned(std::min<uint64_t>(workers, numCtas));
  std::atomic<uint64_t> nextCta{0};
  std::mutex mutex;
  Counters total;
  uint64_t failedCta = ~0ull;
  Status failure = Status::success();

  auto worker = [&]() {
    Counters mine;
    while (!abort.load(std::memory_order_relaxed)) {
      const uint64_t c = nextCta.fetch_add(1);
      if (c >= numCtas)
        break;
      CtaRunner cta(ctx, plan[c].id);
      Status s = cta.run();
      Counters scaled = cta.counters();
      if (s)
        s = scaled.scale(plan[c].doubleWeight).withContext(
            fmt::format("launch of '{}', CTA ({},{},{}) standing for {}/2 CTAs: ", kernel->name, plan[c].id.x,
                        plan[c].id.y, plan[c].id.z, plan[c].doubleWeight));
      scaled.executedCtas = 1;
      mine.add(scaled);
      if (!s) {
        std::lock_guard lock(mutex);
        // Report the lowest failing CTA, so a fault reproduces the same way.
        if (c < failedCta && s.message().find("aborted: another CTA failed") == std::string::npos) {
          failedCta = c;
          failure = std::move(s);
        }
        abort.store(true);
      }
    }
    std::lock_guard lock(mutex);
    total.add(mine);
  };
  if (workers <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < workers; ++i)
      pool.emplace_back(worker);
    for (std::thread &t : pool)
      t.join();
  }
  total.halve(); // the weights were doubled (CtaSampling.h)
  counters_ = total;
  repetitionCtas_.executed += counters_.executedCtas;
  repetitionCtas_.grid += counters_.ctas;
  if (failure) {
    const double cost = emu::modeledMicroseconds(counters_, costModel_);
    modeledMicroseconds_ += cost;
    repetitionMicroseconds_ += cost;
  }
  return failure;
}

void Counters::add(const Counters &o) {
  for (size_t i = 0; i < warpInstructions.size(); ++i)
    warpInstructions[i] += o.warpInstructions[i];
  threadInstructions += o.threadInstructions;
  tensorCoreFlops += o.tensorCoreFlops;
  globalBytesRead += o.globalBytesRead;
  globalBytesWritten += o.globalBytesWritten;
  sharedBytesRead += o.sharedBytesRead;
  sharedBytesWritten += o.sharedBytesWritten;
  sharedBankConflicts += o.sharedBankConflicts;
  sharedAccesses += o.sharedAccesses;
  ctas += o.ctas;
  executedCtas += o.executedCtas;
}

void Counters::halve() {
  // Round half up: a full launch has only even counts here, so it is exact.
  for (uint64_t &v : warpInstructions)
    v = (v + 1) / 2;
  for (uint64_t *v : {&threadInstructions, &tensorCoreFlops, &globalBytesRead, &globalBytesWritten, &sharedBytesRead,
                      &sharedBytesWritten, &sharedBankConflicts, &sharedAccesses, &ctas})
    *v = (*v + 1) / 2;
}

Status Counters::scale(uint64_t weight) {
  std::vector<uint64_t *> fields{&threadInstructions, &tensorCoreFlops, &globalBytesRead, &globalBytesWritten,
                                 &sharedBytesRead, &sharedBytesWritten, &sharedBankConflicts, &sharedAccesses, &ctas};
  for (uint64_t &v : warpInstructions)
    fields.push_back(&v);
  for (uint64_t *v : fields) {
    auto scaled = checkedMul<uint64_t>(*v, weight, "a sampled CTA's count times its weight");
    if (!scaled)
      return scaled.status();
    *v = *scaled;
  }
  return Status::success();
}

std::string Counters::format() const {
  std::string s = sampled() ? fmt::format("sampled: {} of {} CTAs ran; the counts are scaled to the grid\n",
                                          executedCtas, ctas)
                            : std::string();
  s += fmt::format("ctas: {}\nwarp instructions: {}\nthread instructions: {}\n", ctas,
                              totalWarpInstructions(), threadInstructions);
  for (size_t i = 0; i < warpInstructions.size(); ++i)
    s += fmt::format("  {}: {}\n", opClassName(OpClass(i)), warpInstructions[i]);
  s += fmt::format("tensor-core flops: {}\nglobal bytes read: {}\nglobal bytes written: {}\n"
                   "shared bytes read: {}\nshared bytes written: {}\nshared accesses (warp): {}\n"
                   "shared bank conflicts: {}\n",
                   tensorCoreFlops, globalBytesRead, globalBytesWritten, sharedBytesRead, sharedBytesWritten,
                   sharedAccesses, sharedBankConflicts);
  return s;
}

} // namespace mobagen::emu
