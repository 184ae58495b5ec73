//===- EmuTestSupport.h - Running nvcc-compiled kernels in the tests -------===//
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/emulator/Emulator.h"

namespace mobagen::emu::testing {

inline std::string readPtx(const std::string &kernelFile, const std::string &arch) {
  const std::string path = std::string(MOBAGEN_EMU_PTX_DIR) + "/" + kernelFile + "." + arch + ".ptx";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A fixture parameterized by the target (sm_80, sm_90): one emulator device with
/// one nvcc-compiled module.
class EmuKernelTest : public ::testing::TestWithParam<std::string> {
protected:
  void load(const std::string &file) {
    const std::string ptx = readPtx(file, GetParam());
    ASSERT_FALSE(ptx.empty()) << "missing PTX for " << file;
    auto id = dev.loadModule(ptx, file + "." + GetParam() + ".ptx");
    ASSERT_TRUE(id.ok()) << id.status().message();
    module = *id;
  }
  template <typename T> device::DevicePtr upload(const std::vector<T> &v) {
    auto p = dev.allocate(v.size() * sizeof(T));
    EXPECT_TRUE(p.ok());
    EXPECT_TRUE(dev.copyToDevice(*p, v.data(), v.size() * sizeof(T)).ok());
    return *p;
  }
  /// An output buffer, zero-filled (so it counts as written).
  template <typename T> device::DevicePtr output(size_t n) { return upload(std::vector<T>(n, T{})); }
  template <typename T> std::vector<T> download(device::DevicePtr p, size_t n) {
    std::vector<T> v(n);
    EXPECT_TRUE(dev.copyToHost(v.data(), p, n * sizeof(T)).ok());
    return v;
  }
  Status launch(const std::string &kernel, device::Dim3 grid, device::Dim3 block,
                const device::KernelArgs &args, uint32_t dynamicShared = 0) {
    return dev.launch(module, kernel, device::LaunchConfig{grid, block, dynamicShared}, args);
  }

  EmulatorDevice dev{EmulatorOptions{.threads = 2}};
  device::ModuleId module = 0;
};

inline std::vector<std::string> targets() { return {"sm_80", "sm_90"}; }

/// A deterministic pseudo-random sequence (xorshift), so failures reproduce.
class Rng {
public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() % 1000000) / 1e6f; }

private:
  uint64_t s_;
};

} // namespace mobagen::emu::testing
