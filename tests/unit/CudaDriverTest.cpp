// CudaDriver's loading paths without a GPU: no library, the toolkit's stub
// library, a driver too old or missing an entry point, a failing cuInit, and a
// successful load whose resolved functions are called.
#include "runtime/cuda/CudaDriver.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace mobagen::cuda {
namespace {

std::string loadError(const std::string &library) {
  auto driver = CudaDriver::load(library);
  EXPECT_FALSE(driver.ok());
  return driver.ok() ? "" : driver.status().message();
}

class CudaDriverFake : public ::testing::Test {
protected:
  void TearDown() override {
    ::unsetenv("FAKE_CUDA_DRIVER_VERSION");
    ::unsetenv("FAKE_CUDA_MISSING");
    ::unsetenv("FAKE_CUDA_INIT_RESULT");
  }
  const std::string fake = MOBAGEN_FAKE_CUDA_DRIVER;
};

TEST(CudaDriver, MissingLibraryIsAClearError) {
  const std::string message = loadError("libmobagen-no-such-driver.so.1");
  EXPECT_NE(message.find("cannot load the CUDA driver libmobagen-no-such-driver.so.1"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("is an NVIDIA driver installed?"), std::string::npos) << message;
}

TEST(CudaDriver, ToolkitStubLibraryIsRecognized) {
  const std::string stub = MOBAGEN_CUDA_STUB_DRIVER;
  EXPECT_EQ(loadError(stub), stub + " is the CUDA toolkit's stub library, not a driver "
                                    "(cuInit returned CUDA_ERROR_STUB_LIBRARY)");
}

TEST_F(CudaDriverFake, LoadsAndResolvesEveryEntryPoint) {
  auto driver = CudaDriver::load(fake);
  ASSERT_TRUE(driver.ok()) << driver.status().message();
  EXPECT_EQ((*driver)->driverVersion(), 12080);
  int count = 0;
  ASSERT_TRUE((*driver)->check((*driver)->api().cuDeviceGetCount(&count), "cuDeviceGetCount").ok());
  EXPECT_EQ(count, 2);
#define MOBAGEN_EXPECT_RESOLVED(name) EXPECT_NE((*driver)->api().name, nullptr) << #name;
  MOBAGEN_CUDA_DRIVER_FUNCTIONS(MOBAGEN_EXPECT_RESOLVED)
#undef MOBAGEN_EXPECT_RESOLVED
  EXPECT_EQ((*driver)->check(CUDA_ERROR_NO_DEVICE, "cuDeviceGet").message(),
            "cuDeviceGet failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)");
  EXPECT_EQ((*driver)->check(static_cast<CUresult>(777), "cuLaunchKernel").message(),
            "cuLaunchKernel failed: CUresult 777");
}

TEST_F(CudaDriverFake, ListsDevices) {
  auto driver = CudaDriver::load(fake);
  ASSERT_TRUE(driver.ok()) << driver.status().message();
  auto devices = listDevices(**driver);
  ASSERT_TRUE(devices.ok()) << devices.status().message();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].name, "Fake GPU sm_90");
  EXPECT_EQ((*devices)[0].computeMajor, 9);
  EXPECT_EQ((*devices)[0].multiprocessors, 132);
  EXPECT_EQ((*devices)[0].totalMemoryBytes, size_t{141} << 30);
  EXPECT_EQ((*devices)[1].ordinal, 1);
  EXPECT_EQ((*devices)[1].computeMajor, 8);
}

TEST_F(CudaDriverFake, OldDriverIsRefused) {
  ::setenv("FAKE_CUDA_DRIVER_VERSION", "11080", 1);
  EXPECT_EQ(loadError(fake), "the CUDA driver supports CUDA 11.8; mobagen needs 12.0 or newer");
}

TEST_F(CudaDriverFake, MissingEntryPointIsNamed) {
  ::setenv("FAKE_CUDA_MISSING", "cuLaunchKernel", 1);
  const std::string message = loadError(fake);
  EXPECT_NE(message.find("has no cuLaunchKernel for CUDA 12.8"), std::string::npos) << message;
}

TEST_F(CudaDriverFake, FailingInitIsReported) {
  ::setenv("FAKE_CUDA_INIT_RESULT", "100", 1);
  EXPECT_EQ(loadError(fake), "cuInit failed: CUDA_ERROR_NO_DEVICE");
}

} // namespace
} // namespace mobagen::cuda
