// A stand-in for libcuda.so.1 with which the tests drive CudaDriver's loading
// paths on machines without a GPU. It knows only what those tests call.
// Environment knobs: FAKE_CUDA_DRIVER_VERSION (default 12080), FAKE_CUDA_MISSING
// (an entry point cuGetProcAddress pretends not to have), FAKE_CUDA_INIT_RESULT.
#include <cstdlib>
#include <cstring>

namespace {
int envInt(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}
int unimplemented() { return 801; } // CUDA_ERROR_NOT_SUPPORTED
} // namespace

extern "C" {

int cuInit(unsigned) { return envInt("FAKE_CUDA_INIT_RESULT", 0); }

int cuDriverGetVersion(int *version) {
  *version = envInt("FAKE_CUDA_DRIVER_VERSION", 12080);
  return 0;
}

int cuGetErrorName(int result, const char **name) {
  if (result == 100) {
    *name = "CUDA_ERROR_NO_DEVICE";
    return 0;
  }
  return 1; // CUDA_ERROR_INVALID_VALUE: unknown to this fake
}

int cuGetErrorString(int result, const char **text) {
  if (result == 100) {
    *text = "no CUDA-capable device is detected";
    return 0;
  }
  return 1;
}

int cuDeviceGetCount(int *count) {
  *count = 2;
  return 0;
}

// Two "devices": an sm_90 with 132 SMs and an sm_80 with 108, as H100/H200 and A100.
int cuDeviceGet(int *device, int ordinal) {
  if (ordinal < 0 || ordinal > 1)
    return 101; // CUDA_ERROR_INVALID_DEVICE
  *device = ordinal;
  return 0;
}

int cuDeviceGetName(char *name, int length, int device) {
  std::strncpy(name, device == 0 ? "Fake GPU sm_90" : "Fake GPU sm_80", length);
  return 0;
}

int cuDeviceGetAttribute(int *value, int attribute, int device) {
  switch (attribute) {
  case 75: // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    *value = device == 0 ? 9 : 8;
    return 0;
  case 76: // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
    *value = 0;
    return 0;
  case 16: // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
    *value = device == 0 ? 132 : 108;
    return 0;
  default:
    return 1;
  }
}

int cuDeviceTotalMem_v2(unsigned long *bytes, int device) {
  *bytes = (device == 0 ? 141ul : 80ul) << 30;
  return 0;
}

int cuGetProcAddress_v2(const char *symbol, void **pfn, int, unsigned long long,
                        int *status) {
  const char *missing = std::getenv("FAKE_CUDA_MISSING");
  if (missing && std::strcmp(missing, symbol) == 0) {
    *pfn = nullptr;
    *status = 1; // CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND
    return 500;  // CUDA_ERROR_NOT_FOUND
  }
  const struct {
    const char *name;
    void *function;
  } known[] = {{"cuGetErrorName", reinterpret_cast<void *>(&cuGetErrorName)},
               {"cuGetErrorString", reinterpret_cast<void *>(&cuGetErrorString)},
               {"cuDeviceGetCount", reinterpret_cast<void *>(&cuDeviceGetCount)},
               {"cuDeviceGet", reinterpret_cast<void *>(&cuDeviceGet)},
               {"cuDeviceGetName", reinterpret_cast<void *>(&cuDeviceGetName)},
               {"cuDeviceGetAttribute", reinterpret_cast<void *>(&cuDeviceGetAttribute)},
               {"cuDeviceTotalMem", reinterpret_cast<void *>(&cuDeviceTotalMem_v2)}};
  *pfn = reinterpret_cast<void *>(&unimplemented);
  for (const auto &entry : known)
    if (std::strcmp(symbol, entry.name) == 0)
      *pfn = entry.function;
  *status = 0;
  return 0;
}

} // extern "C"
