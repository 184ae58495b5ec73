//===- RecordingDevice.h - A Device that records launches and runs nothing ---===//
//
// For the launcher's tests and the host-overhead benchmark: allocations are
// addresses only (256-byte aligned, never dereferenced), modules are counted,
// and each enqueue is remembered (or only counted, for the benchmark).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/device/Device.h"

namespace mobagen::testing {

class RecordingDevice final : public device::Device {
public:
  struct Launch {
    device::ModuleId module;
    std::string kernel;
    device::LaunchConfig config;
    std::vector<std::vector<uint8_t>> args;
    device::Stream stream;
  };

  explicit RecordingDevice(bool keepLaunches = true, int major = 9, int minor = 0)
      : keepLaunches_(keepLaunches), major_(major), minor_(minor) {}

  std::string name() const override { return "recording"; }
  device::DeviceProperties properties() const override {
    return {.kind = "recording", .name = "recording", .computeMajor = major_, .computeMinor = minor_,
            .multiprocessors = 1, .driverVersion = 0, .maxSharedBytesPerBlock = 232448};
  }
  Expected<device::DevicePtr> allocate(size_t bytes) override {
    std::lock_guard lock(mutex_);
    const device::DevicePtr p = next_;
    next_ += (bytes + 255) / 256 * 256 + 256;
    return p;
  }
  Status free(device::DevicePtr) override { return Status::success(); }
  Status copyToDevice(device::DevicePtr, const void *, size_t) override { return Status::success(); }
  Status copyToHost(void *, device::DevicePtr, size_t) override { return Status::success(); }
  Expected<device::ModuleId> loadModule(std::string_view ptx, std::string_view name) override {
    std::lock_guard lock(mutex_);
    moduleNames_.emplace_back(name);
    return device::ModuleId(moduleNames_.size() - 1);
  }
  Status enqueue(device::ModuleId module, std::string_view kernel, const device::LaunchConfig &config,
                 const device::KernelArgs &args, device::Stream stream) override {
    enqueues_.fetch_add(1, std::memory_order_relaxed);
    if (!keepLaunches_)
      return Status::success();
    Launch launch{module, std::string(kernel), config, {}, stream};
    for (size_t i = 0; i < args.size(); ++i)
      launch.args.push_back(args.bytes(i));
    std::lock_guard lock(mutex_);
    launches_.push_back(std::move(launch));
    return Status::success();
  }
  Status synchronize(device::Stream) override { return Status::success(); }
  Expected<device::Measurement> measure(const std::function<Status()> &work, int warmup, int repetitions,
                                        device::Stream) override {
    device::Measurement m{.samples = {}, .unit = "launches"};
    for (int i = 0; i < warmup + repetitions; ++i) {
      const uint64_t before = enqueues_.load();
      MOBAGEN_RETURN_IF_ERROR(work());
      if (i >= warmup)
        m.samples.push_back(double(enqueues_.load() - before));
    }
    return m;
  }

  const std::vector<Launch> &launches() const { return launches_; }
  const std::vector<std::string> &moduleNames() const { return moduleNames_; }
  uint64_t enqueues() const { return enqueues_.load(); }
  void clear() { launches_.clear(); }

private:
  bool keepLaunches_;
  int major_, minor_;
  std::mutex mutex_;
  device::DevicePtr next_ = 0x10000;
  std::vector<std::string> moduleNames_;
  std::vector<Launch> launches_;
  std::atomic<uint64_t> enqueues_{0};
};

/// The launch argument `i` read back as a T.
template <typename T> T argAs(const RecordingDevice::Launch &launch, size_t i) {
  T value{};
  std::memcpy(&value, launch.args.at(i).data(), sizeof(T));
  return value;
}

} // namespace mobagen::testing
