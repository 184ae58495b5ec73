//===- CApi.cpp - include/mobagen/mobagen.h over api::Context ---------------===//
//
// Null checks of the handles and out-parameters, the thread-local last error,
// and handles that own their objects. Nothing throws out of these functions:
// every body runs under a catch-all that turns an exception (out of memory) into
// an error code.
//
//===----------------------------------------------------------------------===//
#include "mobagen/mobagen.h"

#include <memory>
#include <string>

#include "runtime/api/Context.h"
#include "runtime/device/OpenDevice.h"

struct mobagen_device {
  std::shared_ptr<mobagen::device::Device> device;
  std::string name;
};

struct mobagen_context {
  std::unique_ptr<mobagen::api::Context> context;
};

namespace {

using mobagen::api::ApiStatus;

thread_local std::string lastError;

mobagen_status fail(mobagen_status code, std::string message) {
  lastError = std::move(message);
  return code;
}
mobagen_status report(ApiStatus s) { return s.ok() ? MOBAGEN_SUCCESS : fail(s.code, std::move(s.message)); }

/// Runs `body`, turning an escaping exception into MOBAGEN_ERROR_DEVICE.
template <typename F> mobagen_status guarded(const char *function, F body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return fail(MOBAGEN_ERROR_DEVICE, fmt::format("{}: {}", function, e.what()));
  }
}

#define MOBAGEN_REQUIRE(pointer, function)                                                           \
  if (!(pointer))                                                                                    \
    return fail(MOBAGEN_ERROR_INVALID_ARGUMENT, function ": " #pointer " is null");

mobagen_status deviceError(const mobagen::Status &s) { return fail(MOBAGEN_ERROR_DEVICE, s.message()); }

mobagen_status createContext(mobagen_device *device, mobagen::Expected<mobagen::bundle::Bundle> bundle,
                             const mobagen_context_options *options, mobagen_context **context) {
  if (!bundle)
    return fail(MOBAGEN_ERROR_INVALID_BUNDLE, bundle.status().message());
  mobagen::api::ContextOptions opts;
  if (options && options->cache_dir)
    opts.cacheDir = options->cache_dir;
  if (options && options->expected_config)
    opts.expectedConfig = *options->expected_config;
  if (options && options->log) {
    const mobagen_log_fn log = options->log;
    void *user = options->log_user;
    opts.log = [log, user](std::string_view line) { log(user, std::string(line).c_str()); };
  }
  std::unique_ptr<mobagen::api::Context> created;
  if (ApiStatus s = mobagen::api::Context::create(device->device, std::move(*bundle), opts, created); !s.ok())
    return report(std::move(s));
  *context = new mobagen_context{std::move(created)};
  return MOBAGEN_SUCCESS;
}

} // namespace

extern "C" {

const char *mobagen_version(void) { return "0.1.0"; }

const char *mobagen_status_name(mobagen_status status) {
  switch (status) {
  case MOBAGEN_SUCCESS: return "MOBAGEN_SUCCESS";
  case MOBAGEN_ERROR_INVALID_ARGUMENT: return "MOBAGEN_ERROR_INVALID_ARGUMENT";
  case MOBAGEN_ERROR_MISALIGNED: return "MOBAGEN_ERROR_MISALIGNED";
  case MOBAGEN_ERROR_SHAPE_MISMATCH: return "MOBAGEN_ERROR_SHAPE_MISMATCH";
  case MOBAGEN_ERROR_WORKSPACE_TOO_SMALL: return "MOBAGEN_ERROR_WORKSPACE_TOO_SMALL";
  case MOBAGEN_ERROR_INVALID_BUNDLE: return "MOBAGEN_ERROR_INVALID_BUNDLE";
  case MOBAGEN_ERROR_CONFIG_MISMATCH: return "MOBAGEN_ERROR_CONFIG_MISMATCH";
  case MOBAGEN_ERROR_UNSUPPORTED_DEVICE: return "MOBAGEN_ERROR_UNSUPPORTED_DEVICE";
  case MOBAGEN_ERROR_DEVICE_UNAVAILABLE: return "MOBAGEN_ERROR_DEVICE_UNAVAILABLE";
  case MOBAGEN_ERROR_DEVICE: return "MOBAGEN_ERROR_DEVICE";
  case MOBAGEN_ERROR_IO: return "MOBAGEN_ERROR_IO";
  }
  return "unknown status";
}

const char *mobagen_last_error(void) { return lastError.c_str(); }

mobagen_status mobagen_device_open(mobagen_device_kind kind, int ordinal, mobagen_device **device) {
  MOBAGEN_REQUIRE(device, "mobagen_device_open");
  *device = nullptr;
  using mobagen::device::DeviceChoice;
  DeviceChoice choice;
  switch (kind) {
  case MOBAGEN_DEVICE_AUTO: choice = DeviceChoice::Auto; break;
  case MOBAGEN_DEVICE_CUDA: choice = DeviceChoice::Cuda; break;
  case MOBAGEN_DEVICE_EMULATOR: choice = DeviceChoice::Emulator; break;
  default:
    return fail(MOBAGEN_ERROR_INVALID_ARGUMENT,
                fmt::format("mobagen_device_open: kind = {} is not a mobagen_device_kind (0 auto, 1 cuda, 2 "
                            "emulator)",
                            int(kind)));
  }
  if (ordinal < 0)
    return fail(MOBAGEN_ERROR_INVALID_ARGUMENT,
                fmt::format("mobagen_device_open: ordinal = {} is negative", ordinal));
  return guarded("mobagen_device_open", [&] {
    auto opened = mobagen::device::openDevice(choice, ordinal);
    if (!opened)
      return fail(MOBAGEN_ERROR_DEVICE_UNAVAILABLE, opened.status().message());
    std::shared_ptr<mobagen::device::Device> shared(std::move(*opened));
    std::string name = shared->name();
    *device = new mobagen_device{std::move(shared), std::move(name)};
    return MOBAGEN_SUCCESS;
  });
}

void mobagen_device_destroy(mobagen_device *device) { delete device; }

const char *mobagen_device_name(const mobagen_device *device) { return device ? device->name.c_str() : ""; }

mobagen_status mobagen_device_malloc(mobagen_device *device, size_t bytes, mobagen_devptr *ptr) {
  MOBAGEN_REQUIRE(device, "mobagen_device_malloc");
  MOBAGEN_REQUIRE(ptr, "mobagen_device_malloc");
  return guarded("mobagen_device_malloc", [&] {
    auto allocated = device->device->allocate(bytes);
    if (!allocated)
      return deviceError(allocated.status());
    *ptr = *allocated;
    return MOBAGEN_SUCCESS;
  });
}

mobagen_status mobagen_device_free(mobagen_device *device, mobagen_devptr ptr) {
  MOBAGEN_REQUIRE(device, "mobagen_device_free");
  return guarded("mobagen_device_free", [&] {
    mobagen::Status s = device->device->free(ptr);
    return s ? MOBAGEN_SUCCESS : deviceError(s);
  });
}

mobagen_status mobagen_memcpy_to_device(mobagen_device *device, mobagen_devptr dst, const void *src,
                                        size_t bytes) {
  MOBAGEN_REQUIRE(device, "mobagen_memcpy_to_device");
  if (bytes > 0)
    MOBAGEN_REQUIRE(src, "mobagen_memcpy_to_device");
  return guarded("mobagen_memcpy_to_device", [&] {
    mobagen::Status s = device->device->copyToDevice(dst, src, bytes);
    return s ? MOBAGEN_SUCCESS : deviceError(s);
  });
}

mobagen_status mobagen_memcpy_to_host(mobagen_device *device, void *dst, mobagen_devptr src, size_t bytes) {
  MOBAGEN_REQUIRE(device, "mobagen_memcpy_to_host");
  if (bytes > 0)
    MOBAGEN_REQUIRE(dst, "mobagen_memcpy_to_host");
  return guarded("mobagen_memcpy_to_host", [&] {
    mobagen::Status s = device->device->copyToHost(dst, src, bytes);
    return s ? MOBAGEN_SUCCESS : deviceError(s);
  });
}

mobagen_status mobagen_device_synchronize(mobagen_device *device, mobagen_stream stream) {
  MOBAGEN_REQUIRE(device, "mobagen_device_synchronize");
  return guarded("mobagen_device_synchronize", [&] {
    mobagen::Status s = device->device->synchronize(stream);
    return s ? MOBAGEN_SUCCESS : deviceError(s);
  });
}

mobagen_status mobagen_context_create(mobagen_device *device, const char *bundle_dir,
                                      const mobagen_context_options *options, mobagen_context **context) {
  MOBAGEN_REQUIRE(context, "mobagen_context_create");
  *context = nullptr;
  MOBAGEN_REQUIRE(device, "mobagen_context_create");
  MOBAGEN_REQUIRE(bundle_dir, "mobagen_context_create");
  return guarded("mobagen_context_create", [&] {
    return createContext(device, mobagen::bundle::Bundle::fromDirectory(bundle_dir), options, context);
  });
}

mobagen_status mobagen_context_create_from_files(mobagen_device *device, const mobagen_bundle_file *files,
                                                 size_t file_count, const mobagen_context_options *options,
                                                 mobagen_context **context) {
  MOBAGEN_REQUIRE(context, "mobagen_context_create_from_files");
  *context = nullptr;
  MOBAGEN_REQUIRE(device, "mobagen_context_create_from_files");
  if (file_count > 0)
    MOBAGEN_REQUIRE(files, "mobagen_context_create_from_files");
  std::vector<mobagen::bundle::FileView> views;
  for (size_t i = 0; i < file_count; ++i) {
    if (!files[i].name)
      return fail(MOBAGEN_ERROR_INVALID_ARGUMENT,
                  fmt::format("mobagen_context_create_from_files: files[{}].name is null", i));
    if (!files[i].data && files[i].size > 0)
      return fail(MOBAGEN_ERROR_INVALID_ARGUMENT,
                  fmt::format("mobagen_context_create_from_files: files[{}] ('{}') has size {} but null data", i,
                              files[i].name, files[i].size));
    views.push_back({files[i].name, std::string_view(reinterpret_cast<const char *>(files[i].data), files[i].size)});
  }
  return guarded("mobagen_context_create_from_files", [&] {
    return createContext(device, mobagen::bundle::Bundle::fromFiles(views), options, context);
  });
}

void mobagen_context_destroy(mobagen_context *context) { delete context; }

mobagen_status mobagen_context_config(const mobagen_context *context, mobagen_config *config) {
  MOBAGEN_REQUIRE(context, "mobagen_context_config");
  MOBAGEN_REQUIRE(config, "mobagen_context_config");
  *config = context->context->config();
  return MOBAGEN_SUCCESS;
}

mobagen_status mobagen_context_bundle_hash(const mobagen_context *context, uint64_t *hash) {
  MOBAGEN_REQUIRE(context, "mobagen_context_bundle_hash");
  MOBAGEN_REQUIRE(hash, "mobagen_context_bundle_hash");
  *hash = context->context->bundle().hash();
  return MOBAGEN_SUCCESS;
}

mobagen_status mobagen_workspace_size(mobagen_context *context, const mobagen_shape *shape, size_t *bytes) {
  MOBAGEN_REQUIRE(context, "mobagen_workspace_size");
  MOBAGEN_REQUIRE(shape, "mobagen_workspace_size");
  MOBAGEN_REQUIRE(bytes, "mobagen_workspace_size");
  return guarded("mobagen_workspace_size", [&] {
    uint64_t size = 0;
    if (ApiStatus s = context->context->workspaceSize(*shape, size); !s.ok())
      return report(std::move(s));
    if (size > SIZE_MAX)
      return fail(MOBAGEN_ERROR_INVALID_ARGUMENT,
                  fmt::format("mobagen_workspace_size: {} bytes do not fit size_t", size));
    *bytes = size_t(size);
    return MOBAGEN_SUCCESS;
  });
}

mobagen_status mobagen_forward(mobagen_context *context, const mobagen_shape *shape, mobagen_devptr q,
                               mobagen_devptr k, mobagen_devptr v, mobagen_devptr cu_seqlens_q,
                               mobagen_devptr cu_seqlens_k, mobagen_devptr out, mobagen_devptr lse,
                               mobagen_devptr workspace, size_t workspace_bytes, mobagen_stream stream) {
  MOBAGEN_REQUIRE(context, "mobagen_forward");
  MOBAGEN_REQUIRE(shape, "mobagen_forward");
  const mobagen::launch::ForwardBuffers buffers{q, k, v, cu_seqlens_q, cu_seqlens_k, out, lse, workspace,
                                              workspace_bytes};
  return guarded("mobagen_forward", [&] { return report(context->context->forward(*shape, buffers, stream)); });
}

mobagen_status mobagen_tune(mobagen_context *context, const mobagen_shape *shape) {
  MOBAGEN_REQUIRE(context, "mobagen_tune");
  MOBAGEN_REQUIRE(shape, "mobagen_tune");
  return guarded("mobagen_tune", [&] { return report(context->context->tune(*shape)); });
}

mobagen_status mobagen_load_tuned(mobagen_context *context, const mobagen_shape *shape, size_t *found) {
  MOBAGEN_REQUIRE(context, "mobagen_load_tuned");
  MOBAGEN_REQUIRE(shape, "mobagen_load_tuned");
  return guarded("mobagen_load_tuned", [&] {
    size_t kernels = 0;
    if (ApiStatus s = context->context->loadTuned(*shape, kernels); !s.ok())
      return report(std::move(s));
    if (found)
      *found = kernels;
    return MOBAGEN_SUCCESS;
  });
}

mobagen_status mobagen_context_variant(const mobagen_context *context, const mobagen_shape *shape,
                                       const char *kernel, const char **variant) {
  MOBAGEN_REQUIRE(context, "mobagen_context_variant");
  MOBAGEN_REQUIRE(shape, "mobagen_context_variant");
  MOBAGEN_REQUIRE(kernel, "mobagen_context_variant");
  MOBAGEN_REQUIRE(variant, "mobagen_context_variant");
  return guarded("mobagen_context_variant", [&] {
    const std::string *id = nullptr;
    if (ApiStatus s = context->context->variantFor(*shape, kernel, id); !s.ok())
      return report(std::move(s));
    *variant = id->c_str(); // the bundle's, alive as long as the context
    return MOBAGEN_SUCCESS;
  });
}

mobagen_status mobagen_benchmark_forward(mobagen_context *context, const mobagen_shape *shape, mobagen_devptr q,
                                         mobagen_devptr k, mobagen_devptr v, mobagen_devptr cu_seqlens_q,
                                         mobagen_devptr cu_seqlens_k, mobagen_devptr out, mobagen_devptr lse,
                                         mobagen_devptr workspace, size_t workspace_bytes, mobagen_stream stream,
                                         int warmup, int repetitions, double *median, const char **unit) {
  MOBAGEN_REQUIRE(context, "mobagen_benchmark_forward");
  MOBAGEN_REQUIRE(shape, "mobagen_benchmark_forward");
  MOBAGEN_REQUIRE(median, "mobagen_benchmark_forward");
  MOBAGEN_REQUIRE(unit, "mobagen_benchmark_forward");
  const mobagen::launch::ForwardBuffers buffers{q, k, v, cu_seqlens_q, cu_seqlens_k, out, lse, workspace,
                                              workspace_bytes};
  return guarded("mobagen_benchmark_forward", [&] {
    mobagen::device::Measurement m;
    if (ApiStatus s = context->context->benchmarkForward(*shape, buffers, warmup, repetitions, stream, m); !s.ok())
      return report(std::move(s));
    // The unit outlives the call: the two the devices report are literals.
    if (m.unit != "ms" && m.unit != "model-us")
      return fail(MOBAGEN_ERROR_DEVICE, fmt::format("mobagen_benchmark_forward: the device reported the unit '{}'; "
                                                    "expected ms or model-us",
                                                    m.unit));
    *median = mobagen::tune::medianOf(m.samples);
    *unit = m.unit == "ms" ? "ms" : "model-us";
    return MOBAGEN_SUCCESS;
  });
}

mobagen_status mobagen_context_set_variant(mobagen_context *context, const char *kernel, const char *variant) {
  MOBAGEN_REQUIRE(context, "mobagen_context_set_variant");
  MOBAGEN_REQUIRE(kernel, "mobagen_context_set_variant");
  return guarded("mobagen_context_set_variant", [&] {
    return report(context->context->setVariant(kernel, variant ? std::string_view(variant) : std::string_view()));
  });
}

} // extern "C"

namespace mobagen::api {
mobagen_status setLastError(mobagen_status code, std::string message) { return fail(code, std::move(message)); }
} // namespace mobagen::api
