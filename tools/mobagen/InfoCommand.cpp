//===- InfoCommand.cpp - `mobagen info`: devices and locations --------------===//
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "runtime/cache/DiskCache.h"
#include "runtime/cuda/CudaDevice.h"
#include "runtime/device/OpenDevice.h"
#include "tools/mobagen/Commands.h"

namespace mobagen::cli {
namespace {

namespace fs = std::filesystem;

struct InfoOptions {
  std::string cudaDriver = device::cudaDriverLibrary();
};

std::string cudaVersion(int version) { return fmt::format("{}.{}", version / 1000, version % 1000 / 10); }

/// Where kernel bundles are looked for, in order: each entry of $MOBAGEN_BUNDLE_DIR
/// (':'-separated), else $XDG_DATA_HOME/mobagen/bundles, else
/// ~/.local/share/mobagen/bundles. A bundle is a directory holding manifest.json.
std::vector<fs::path> bundleSearchPath() {
  auto nonEmpty = [](const char *name) -> const char * {
    const char *value = std::getenv(name);
    return value && *value ? value : nullptr;
  };
  std::vector<fs::path> dirs;
  if (const char *list = nonEmpty("MOBAGEN_BUNDLE_DIR")) {
    std::string_view rest = list;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty())
        dirs.emplace_back(entry);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
    return dirs;
  }
  if (const char *xdg = nonEmpty("XDG_DATA_HOME"))
    dirs.push_back(fs::path(xdg) / "mobagen" / "bundles");
  else if (const char *home = nonEmpty("HOME"))
    dirs.push_back(fs::path(home) / ".local" / "share" / "mobagen" / "bundles");
  return dirs;
}

/// "missing", "1 bundle" / "N bundles" (the directory itself or its subdirectories).
std::string describeBundleDir(const fs::path &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return "missing";
  if (fs::exists(dir / "manifest.json", ec))
    return "a bundle";
  int count = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && fs::exists(it->path() / "manifest.json", ec))
      ++count;
  return fmt::format("{} bundle{}", count, count == 1 ? "" : "s");
}

void printCudaDevices(const std::string &library) {
  auto driver = cuda::CudaDriver::load(library);
  if (!driver) {
    fmt::print("  {:<10} unavailable: {}\n", "cuda", driver.status().message());
    return;
  }
  const int version = (*driver)->driverVersion();
  auto devices = cuda::listDevices(**driver);
  if (!devices) {
    fmt::print("  {:<10} driver CUDA {}: {}\n", "cuda", cudaVersion(version), devices.status().message());
    return;
  }
  if (devices->empty())
    fmt::print("  {:<10} driver CUDA {}, no device\n", "cuda", cudaVersion(version));
  for (const cuda::DeviceInfo &d : *devices) {
    const std::string id = fmt::format("cuda:{}", d.ordinal);
    // Opening the device proves that its context can be created, and gives what
    // the launches are checked against.
    auto gpu = cuda::CudaDevice::open(*driver, d.ordinal);
    if (!gpu) {
      fmt::print("  {:<10} {}, unusable: {}\n", id, d.name, gpu.status().message());
      continue;
    }
    const device::DeviceProperties p = (*gpu)->properties();
    fmt::print("  {:<10} {}, sm_{}{}, {} SMs, {:.1f} GiB, {} KiB shared memory per block (driver CUDA {})\n", id,
               p.name, p.computeMajor, p.computeMinor, p.multiprocessors,
               static_cast<double>(d.totalMemoryBytes) / (1u << 30), p.maxSharedBytesPerBlock / 1024,
               cudaVersion(p.driverVersion));
  }
}

int infoCommand(const InfoOptions &o) {
  fmt::print("mobagen {}\n\ndevices:\n", MOBAGEN_VERSION);
  fmt::print("  {:<10} float64 CPU reference (always available)\n", "reference");
  fmt::print("  {:<10} PTX emulator on the CPU (always available)\n", "emulator");
  printCudaDevices(o.cudaDriver);
  fmt::print("\ncache: {} (set MOBAGEN_CACHE_DIR to move it)\n", defaultCacheDirectory().string());
  fmt::print("bundles, looked for in (set MOBAGEN_BUNDLE_DIR, ':'-separated, to change):\n");
  for (const fs::path &dir : bundleSearchPath())
    fmt::print("  {} ({})\n", dir.string(), describeBundleDir(dir));
  return kExitOk;
}

} // namespace

std::function<int()> addInfoCommand(CLI::App &app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App *info = app.add_subcommand("info", "List devices, the cache and where bundles are looked for");
  info->add_option("--cuda-driver", options->cudaDriver,
                   "CUDA driver library to load (a dlopen name or a path; default $MOBAGEN_CUDA_DRIVER, "
                   "else libcuda.so.1)")
      ->capture_default_str();
  return [options] { return infoCommand(*options); };
}

} // namespace mobagen::cli
