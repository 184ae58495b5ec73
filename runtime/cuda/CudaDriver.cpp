#include "runtime/cuda/CudaDriver.h"

#include <algorithm>

#include <dlfcn.h>

namespace mobagen::cuda {
namespace {

/// Names for the results CudaDriver itself singles out; used when the driver's own
/// cuGetErrorName is unavailable (before resolution, or in the stub library).
const char *knownResultName(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return "CUDA_SUCCESS";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  default:
    return nullptr;
  }
}

std::string describe(const DriverApi &api, CUresult result) {
  const char *name = nullptr;
  const char *text = nullptr;
  if (api.cuGetErrorName && api.cuGetErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (api.cuGetErrorString && api.cuGetErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  if (!name)
    name = knownResultName(result);
  std::string out = name ? std::string(name) : fmt::format("CUresult {}", static_cast<int>(result));
  if (text)
    out += fmt::format(" ({})", text);
  return out;
}

} // namespace

Expected<std::shared_ptr<CudaDriver>> CudaDriver::load(const std::string &library) {
  std::shared_ptr<CudaDriver> driver(new CudaDriver());
  driver->library_ = library;
  driver->handle_ = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!driver->handle_) {
    const char *why = ::dlerror();
    return Status::errorf("cannot load the CUDA driver {}: {} (is an NVIDIA driver installed?)",
                          library, why ? why : "unknown dlopen error");
  }

  // These three are taken by name: their ABI has not changed since CUDA 11.3.
  auto init = reinterpret_cast<decltype(&::cuInit)>(::dlsym(driver->handle_, "cuInit"));
  auto getVersion =
      reinterpret_cast<decltype(&::cuDriverGetVersion)>(::dlsym(driver->handle_, "cuDriverGetVersion"));
  auto getProc = reinterpret_cast<decltype(&::cuGetProcAddress_v2)>(
      ::dlsym(driver->handle_, "cuGetProcAddress_v2"));
  if (!init || !getVersion || !getProc)
    return Status::errorf("{} is not a CUDA 12+ driver: it lacks {}", library,
                          !init ? "cuInit" : !getVersion ? "cuDriverGetVersion" : "cuGetProcAddress_v2");

  if (const CUresult r = init(0); r != CUDA_SUCCESS) {
    if (r == CUDA_ERROR_STUB_LIBRARY)
      return Status::errorf("{} is the CUDA toolkit's stub library, not a driver "
                            "(cuInit returned CUDA_ERROR_STUB_LIBRARY)",
                            library);
    return Status::errorf("cuInit failed: {}", describe(driver->api_, r));
  }
  if (const CUresult r = getVersion(&driver->driverVersion_); r != CUDA_SUCCESS)
    return Status::errorf("cuDriverGetVersion failed: {}", describe(driver->api_, r));
  if (driver->driverVersion_ < kMinimumDriverVersion)
    return Status::errorf("the CUDA driver supports CUDA {}.{}; mobagen needs {}.{} or newer",
                          driver->driverVersion_ / 1000, driver->driverVersion_ % 1000 / 10,
                          kMinimumDriverVersion / 1000, kMinimumDriverVersion % 1000 / 10);

  // Ask for the ABI of the cuda.h mobagen was built with, or the driver's own when
  // it is older (the functions used have the same ABI across that range).
  const int abiVersion = std::min(CUDA_VERSION, driver->driverVersion_);
  Status resolved = Status::success();
  auto resolve = [&](const char *name, void **slot) {
    if (!resolved.ok())
      return;
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    const CUresult r = getProc(name, slot, abiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &found);
    if (r != CUDA_SUCCESS || found != CU_GET_PROC_ADDRESS_SUCCESS || !*slot) {
      *slot = nullptr;
      resolved = Status::errorf("the CUDA driver {} (CUDA {}.{}) has no {} for CUDA {}.{}{}",
                                library, driver->driverVersion_ / 1000,
                                driver->driverVersion_ % 1000 / 10, name, abiVersion / 1000,
                                abiVersion % 1000 / 10,
                                r != CUDA_SUCCESS ? ": " + describe(driver->api_, r) : "");
    }
  };
#define MOBAGEN_CUDA_RESOLVE(name) resolve(#name, reinterpret_cast<void **>(&driver->api_.name));
  MOBAGEN_CUDA_DRIVER_FUNCTIONS(MOBAGEN_CUDA_RESOLVE)
#undef MOBAGEN_CUDA_RESOLVE
  if (!resolved.ok())
    return resolved;
  auto resolveOptional = [&](const char *name, void **slot) {
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    if (getProc(name, slot, abiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &found) != CUDA_SUCCESS ||
        found != CU_GET_PROC_ADDRESS_SUCCESS)
      *slot = nullptr;
  };
#define MOBAGEN_CUDA_RESOLVE_OPTIONAL(name)                                                  \
  resolveOptional(#name, reinterpret_cast<void **>(&driver->api_.name));
  MOBAGEN_CUDA_OPTIONAL_DRIVER_FUNCTIONS(MOBAGEN_CUDA_RESOLVE_OPTIONAL)
#undef MOBAGEN_CUDA_RESOLVE_OPTIONAL
  return driver;
}

CudaDriver::~CudaDriver() {
  if (handle_)
    ::dlclose(handle_);
}

Status CudaDriver::check(CUresult result, const char *what) const {
  if (result == CUDA_SUCCESS)
    return Status::success();
  return Status::errorf("{} failed: {}", what, describe(api_, result));
}


Expected<std::vector<DeviceInfo>> listDevices(const CudaDriver &driver) {
  const DriverApi &api = driver.api();
  int count = 0;
  MOBAGEN_RETURN_IF_ERROR(driver.check(api.cuDeviceGetCount(&count), "cuDeviceGetCount"));
  std::vector<DeviceInfo> devices;
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    CUdevice device;
    MOBAGEN_RETURN_IF_ERROR(driver.check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet"));
    DeviceInfo info;
    info.ordinal = ordinal;
    char name[256] = {};
    MOBAGEN_RETURN_IF_ERROR(
        driver.check(api.cuDeviceGetName(name, sizeof(name) - 1, device), "cuDeviceGetName"));
    info.name = name;
    const std::pair<CUdevice_attribute, int *> attributes[] = {
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &info.computeMajor},
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &info.computeMinor},
        {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &info.multiprocessors}};
    for (const auto &[attribute, value] : attributes)
      MOBAGEN_RETURN_IF_ERROR(driver.check(api.cuDeviceGetAttribute(value, attribute, device),
                                           "cuDeviceGetAttribute"));
    MOBAGEN_RETURN_IF_ERROR(
        driver.check(api.cuDeviceTotalMem(&info.totalMemoryBytes, device), "cuDeviceTotalMem"));
    devices.push_back(std::move(info));
  }
  return devices;
}

} // namespace mobagen::cuda
