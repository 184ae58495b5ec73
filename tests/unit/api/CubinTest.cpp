//===- CubinTest.cpp - The launcher loads a bundle's cubin on a matching GPU -===//
//
// On the fake CUDA driver (tests/unit/fakecuda: an sm_90 device 0 and an sm_80
// device 1; it records every module image and never runs anything).
//
//===----------------------------------------------------------------------===//
#include <dlfcn.h>

#include <cstring>

#include <gtest/gtest.h>

#include "runtime/bundle/Bundle.h"
#include "runtime/cuda/CudaDevice.h"
#include "runtime/emulator/Emulator.h"
#include "runtime/moba/MobaLauncher.h"
#include "tests/unit/fakecuda/FakeCudaControl.h"
#include "tools/mobagen/InProcessBundle.h"

namespace mobagen {
namespace {

using bundle::KernelKind;

struct Fake {
  void *handle = ::dlopen(MOBAGEN_FAKE_CUDA_DRIVER, RTLD_NOW | RTLD_LOCAL);
  template <typename F> F *get(const char *name) { return handle ? reinterpret_cast<F *>(::dlsym(handle, name)) : nullptr; }
  decltype(&::fakeCuda_reset) reset = get<decltype(::fakeCuda_reset)>("fakeCuda_reset");
  decltype(&::fakeCuda_moduleCount) moduleCount = get<decltype(::fakeCuda_moduleCount)>("fakeCuda_moduleCount");
  decltype(&::fakeCuda_moduleImage) moduleImage = get<decltype(::fakeCuda_moduleImage)>("fakeCuda_moduleImage");
};

Fake &fake() {
  static Fake f;
  return f;
}

/// A default-variant bundle for `target`, with a cubin per variant.
bundle::Bundle bundleWithCubins(const std::string &target, cli::BundleFiles &files) {
  auto generated = cli::generateBundle({.blockSize = 64, .topK = 2, .headDim = 64, .numQHeads = 2, .numKvHeads = 1,
                                        .causal = true, .dtype = DType::BF16, .target = target},
                                       {.cubin = true});
  EXPECT_TRUE(generated) << generated.status().message();
  files = std::move(*generated);
  std::vector<bundle::FileView> views;
  for (const auto &[name, bytes] : files)
    views.push_back({name, bytes});
  auto b = bundle::Bundle::fromFiles(views, target);
  EXPECT_TRUE(b) << b.status().message();
  return std::move(*b);
}

bool lastImageIsCubin() {
  size_t size = 0;
  const char *image = fake().moduleImage(fake().moduleCount() - 1, &size);
  return image && size >= 4 && std::memcmp(image, "\x7f" "ELF", 4) == 0;
}

TEST(Cubins, LoadedOnTheirArchitectureElsePtx) {
  ASSERT_NE(fake().handle, nullptr) << ::dlerror();
  fake().reset();
  auto driver = cuda::CudaDriver::load(MOBAGEN_FAKE_CUDA_DRIVER);
  ASSERT_TRUE(driver) << driver.status().message();
  cli::BundleFiles sm90Files, sm80Files;
  const bundle::Bundle sm90 = bundleWithCubins("sm_90", sm90Files);
  const bundle::Bundle sm80 = bundleWithCubins("sm_80", sm80Files);
  ASSERT_FALSE(sm90.kernel(KernelKind::PoolKeys).variants[0].cubinFile.empty());

  auto hopper = cuda::CudaDevice::open(*driver, 0); // sm_90
  auto ampere = cuda::CudaDevice::open(*driver, 1); // sm_80
  ASSERT_TRUE(hopper && ampere);

  // sm_90 cubin on sm_90: the cubin, once.
  launch::MobaLauncher onHopper(**hopper, sm90);
  ASSERT_TRUE(onHopper.module(KernelKind::GateTopK, 0));
  EXPECT_TRUE(lastImageIsCubin());
  const int loaded = fake().moduleCount();
  ASSERT_TRUE(onHopper.module(KernelKind::GateTopK, 0));
  EXPECT_EQ(fake().moduleCount(), loaded);

  // sm_80 cubin on sm_90 (another major version): the PTX, which the driver JITs.
  launch::MobaLauncher sm80OnHopper(**hopper, sm80);
  ASSERT_TRUE(sm80OnHopper.module(KernelKind::GateTopK, 0));
  EXPECT_FALSE(lastImageIsCubin());

  // sm_80 cubin on sm_80: the cubin.
  launch::MobaLauncher onAmpere(**ampere, sm80);
  ASSERT_TRUE(onAmpere.module(KernelKind::PoolKeys, 0));
  EXPECT_TRUE(lastImageIsCubin());

  // The emulator runs PTX only: the same bundle loads its PTX there.
  emu::EmulatorDevice emulator;
  launch::MobaLauncher onEmulator(emulator, sm80);
  ASSERT_TRUE(onEmulator.module(KernelKind::PoolKeys, 0));
  auto refused = emulator.loadCubin("\x7f" "ELF", 4, "x.cubin");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().message(), "cannot load the cubin 'x.cubin' (4 bytes): the emulator device runs PTX only");
}

} // namespace
} // namespace mobagen
