//===- OpenDevice.cpp - Choosing the device a run uses ---------------------===//
#include "runtime/device/OpenDevice.h"

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

namespace {
Expected<std::unique_ptr<Device>> openCuda(int ordinal) {
  return Status::errorf("cannot open CUDA device {}: this mobagen has no CUDA device implementation",
                        ordinal);
}
} // namespace

Expected<std::unique_ptr<Device>> openDevice(DeviceChoice choice, int ordinal) {
  if (choice == DeviceChoice::Emulator)
    return std::unique_ptr<Device>(std::make_unique<emu::EmulatorDevice>());
  auto gpu = openCuda(ordinal);
  if (gpu || choice == DeviceChoice::Cuda)
    return gpu;
  return std::unique_ptr<Device>(std::make_unique<emu::EmulatorDevice>());
}

} // namespace mobagen::device
