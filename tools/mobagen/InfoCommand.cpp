//===- InfoCommand.cpp - `mobagen info`: devices and locations --------------===//
#include <fmt/format.h>

#include "runtime/cache/DiskCache.h"
#include "runtime/cuda/CudaDriver.h"
#include "tools/mobagen/Commands.h"

namespace mobagen::cli {
namespace {

struct InfoOptions {
  std::string cudaDriver = "libcuda.so.1";
};

int infoCommand(const InfoOptions &o) {
  fmt::print("mobagen {}\n\ndevices:\n", MOBAGEN_VERSION);
  fmt::print("  {:<10} float64 CPU reference (always available)\n", "reference");
  auto driver = cuda::CudaDriver::load(o.cudaDriver);
  if (!driver) {
    fmt::print("  {:<10} unavailable: {}\n", "cuda", driver.status().message());
  } else {
    const int version = (*driver)->driverVersion();
    auto devices = cuda::listDevices(**driver);
    if (!devices)
      fmt::print("  {:<10} driver CUDA {}.{}: {}\n", "cuda", version / 1000, version % 1000 / 10,
                 devices.status().message());
    else if (devices->empty())
      fmt::print("  {:<10} driver CUDA {}.{}, no device\n", "cuda", version / 1000,
                 version % 1000 / 10);
    for (const cuda::DeviceInfo &d : devices ? *devices : std::vector<cuda::DeviceInfo>{})
      fmt::print("  {:<10} {}, sm_{}{}, {} SMs, {:.1f} GiB (driver CUDA {}.{})\n",
                 fmt::format("cuda:{}", d.ordinal), d.name, d.computeMajor, d.computeMinor,
                 d.multiprocessors, static_cast<double>(d.totalMemoryBytes) / (1u << 30),
                 version / 1000, version % 1000 / 10);
  }
  fmt::print("\ncache: {} (set MOBAGEN_CACHE_DIR to move it)\n", defaultCacheDirectory().string());
  return kExitOk;
}

} // namespace

std::function<int()> addInfoCommand(CLI::App &app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App *info = app.add_subcommand("info", "List devices and the cache location");
  info->add_option("--cuda-driver", options->cudaDriver,
                   "CUDA driver library to load (a dlopen name or a path)")
      ->capture_default_str();
  return [options] { return infoCommand(*options); };
}

} // namespace mobagen::cli
