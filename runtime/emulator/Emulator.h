//===- Emulator.h - The PTX emulator as a Device ----------------------------===//
//
// Runs PTX on the CPU with the checks of a sanitizer: every out-of-bounds or
// misaligned access, read of never-written registers or memory, shared-memory
// race between barriers, barrier or collective mismatch, deadlock, and read of
// cp.async results before their wait fails the launch with a report naming the
// kernel, PTX line, CTA and thread (docs/emulator.md). Independent CTAs run in
// parallel on host threads. After each launch, counters() holds what it did.
//
// Thread safety: every Device call may come from any thread. One lock serializes
// them (a launch runs to completion under it, its CTAs still in parallel), so
// an allocation never moves the memory table under a running launch. counters()
// and modeledMicroseconds() are meaningful when one thread drives the device.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/device/Device.h"
#include "runtime/emulator/CostModel.h"
#include "runtime/emulator/Counters.h"
#include "runtime/emulator/GlobalMemory.h"
#include "runtime/emulator/PtxModule.h"

namespace mobagen::emu {

struct EmulatorOptions {
  /// Host threads that run CTAs; 0 = all hardware threads.
  unsigned threads = 0;
  /// Warp instructions one CTA may execute before the launch fails (catches
  /// endless loops); 0 = no limit.
  uint64_t instructionLimitPerCta = 2'000'000'000ull;
  bool checkRaces = true;
  bool checkUninitialized = true;
  /// Shared memory per CTA (static + dynamic), as on sm_90 (227 KiB).
  uint32_t maxSharedBytes = 232448;
  /// Static (.shared) memory per kernel: ptxas refuses more than 48 KiB ("uses too
  /// much shared data"); larger buffers must be dynamic.
  uint32_t maxStaticSharedBytes = 49152;
  /// Sampled mode, for counters and the cost model only (CtaSampling.h): a launch
  /// of a kernel matched by sampledKernels whose grid has more CTAs than this runs
  /// about this many (at least one per y/z slice) and scales the counters to the
  /// grid; 0 = every CTA runs. Outputs are then only partly written, so a device
  /// with sampling on never checks uninitialized reads (any launch may read what a
  /// sampled one skipped; never-written memory reads as zero) and its results must
  /// not be compared against a reference (`mobagen run --check` never sets it).
  uint64_t sampleCtas = 0;
  /// Entry-name prefixes of the kernels that may be sampled; empty = every kernel.
  /// Kernels whose outputs steer later work (the selection, the routing) should
  /// stay out, so what the sampled kernels read is the real data.
  std::vector<std::string> sampledKernels;
  /// Seeds the CTA each stratum runs.
  uint64_t sampleSeed = 1;
};

/// CTAs run and CTAs of the grids, summed over launches.
struct CtaTally {
  uint64_t executed = 0, grid = 0;
  bool sampled() const { return executed < grid; }
};

class EmulatorDevice final : public device::Device {
public:
  explicit EmulatorDevice(EmulatorOptions options = {});
  ~EmulatorDevice() override;

  std::string name() const override { return "emulator"; }
  /// kind "emulator", compute capability 9.0, the cost model's SM count.
  device::DeviceProperties properties() const override;
  Expected<device::DevicePtr> allocate(size_t bytes) override;
  Status free(device::DevicePtr ptr) override;
  Status copyToDevice(device::DevicePtr dst, const void *src, size_t bytes) override;
  Status copyToHost(void *dst, device::DevicePtr src, size_t bytes) override;
  Expected<device::ModuleId> loadModule(std::string_view ptx, std::string_view name) override;
  /// Runs the launch to completion (any stream value is accepted).
  Status enqueue(device::ModuleId module, std::string_view kernel, const device::LaunchConfig &config,
                 const device::KernelArgs &args, device::Stream stream) override;
  Status synchronize(device::Stream) override { return Status::success(); }
  /// Samples in "model-us": the cost model (CostModel.h) summed over the launches
  /// of each repetition. Deterministic: every repetition of the same work costs the same.
  Expected<device::Measurement> measure(const std::function<Status()> &work, int warmup, int repetitions,
                                        device::Stream stream) override;

  /// The counters of the last successful or failed launch.
  const Counters &counters() const { return counters_; }
  /// The cost model's microseconds summed over every successful launch so far.
  double modeledMicroseconds() const { return modeledMicroseconds_; }
  /// The CTAs of the launches of the last measure() repetition (run, of the grids).
  CtaTally measuredCtas() const { return measuredCtas_; }
  const Module *module(device::ModuleId id) const;
  EmulatorOptions &options() { return options_; }

private:
  /// Recursive: measure() holds it while the work it runs enqueues.
  mutable std::recursive_mutex mutex_;
  EmulatorOptions options_;
  GlobalMemory global_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<uint64_t> variableMemory_; // module variables' allocations
  Counters counters_;
  CostModelParams costModel_;
  double modeledMicroseconds_ = 0;
  double repetitionMicroseconds_ = 0; // the cost of the launches since measure() last reset it
  CtaTally repetitionCtas_, measuredCtas_;
};

} // namespace mobagen::emu
