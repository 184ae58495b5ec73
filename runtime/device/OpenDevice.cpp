//===- OpenDevice.cpp - Choosing the device a run uses ---------------------===//
#include "runtime/device/OpenDevice.h"

#include <cstdlib>

#include "runtime/cuda/CudaDevice.h"
#include "runtime/emulator/Emulator.h"

namespace mobagen::device {

Expected<DeviceChoice> parseDeviceChoice(std::string_view text) {
  if (text == "auto")
    return DeviceChoice::Auto;
  if (text == "cuda")
    return DeviceChoice::Cuda;
  if (text == "emulator")
    return DeviceChoice::Emulator;
  return Status::errorf("unknown device '{}': expected auto, cuda or emulator", text);
}

std::string cudaDriverLibrary() {
  const char *library = std::getenv("MOBAGEN_CUDA_DRIVER");
  return library && *library ? library : "libcuda.so.1";
}

namespace {
Expected<std::unique_ptr<Device>> openCuda(int ordinal) {
  auto driver = cuda::CudaDriver::load(cudaDriverLibrary());
  if (!driver)
    return Status::errorf("cannot open CUDA device {}: {}", ordinal, driver.status().message());
  auto gpu = cuda::CudaDevice::open(std::move(*driver), ordinal);
  if (!gpu)
    return gpu.status();
  return std::unique_ptr<Device>(std::move(*gpu));
}
} // namespace

Expected<std::unique_ptr<Device>> openDevice(DeviceChoice choice, int ordinal, std::string *whyNotCuda) {
  if (choice == DeviceChoice::Emulator)
    return std::unique_ptr<Device>(std::make_unique<emu::EmulatorDevice>());
  auto gpu = openCuda(ordinal);
  if (whyNotCuda)
    *whyNotCuda = gpu ? "" : gpu.status().message();
  if (gpu || choice == DeviceChoice::Cuda)
    return gpu;
  return std::unique_ptr<Device>(std::make_unique<emu::EmulatorDevice>());
}

} // namespace mobagen::device
