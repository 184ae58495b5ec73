//===- OpenDevice.h - Choosing the device a run uses -----------------------===//
//
// Selection is explicit (cuda, emulator) or automatic: the first CUDA GPU when a
// driver and a device are present, else the emulator.
//
// The CUDA driver library is `$MOBAGEN_CUDA_DRIVER` when set (a dlopen name or a
// path), else libcuda.so.1.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runtime/device/Device.h"

namespace mobagen::device {

enum class DeviceChoice { Auto, Cuda, Emulator };

/// "auto", "cuda" or "emulator"; anything else is an error naming the choices.
Expected<DeviceChoice> parseDeviceChoice(std::string_view text);

/// The driver library openDevice loads: $MOBAGEN_CUDA_DRIVER, else "libcuda.so.1".
std::string cudaDriverLibrary();

/// Opens the device. `ordinal` picks the CUDA GPU. A Cuda choice without a usable
/// driver or GPU is an error saying why; Auto falls back to the emulator then,
/// and stores why the GPU was not used in `*whyNotCuda` (cleared when a GPU opens).
Expected<std::unique_ptr<Device>> openDevice(DeviceChoice choice, int ordinal = 0,
                                             std::string *whyNotCuda = nullptr);

} // namespace mobagen::device
