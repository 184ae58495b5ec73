//===- mobagen.hpp - The mobagen runtime's C++ API ---------------------------===//
//
// Header-only RAII classes over the C API (mobagen.h): the same functions, the
// same error codes, the same messages. Nothing throws; fallible calls return an
// Error or a Result<T>.
//
//   auto device = mobagen::Device::open(MOBAGEN_DEVICE_AUTO);
//   auto context = mobagen::Context::open(*device, "bundle-dir");
//   auto bytes = context->workspaceSize(shape);
//   mobagen::Error e = context->forward(shape, {q, k, v, cu_q, cu_k, out, lse, ws, *bytes});
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mobagen/mobagen.h"

namespace mobagen {

/// MOBAGEN_SUCCESS, or an error code with the message mobagen_last_error() gave.
class [[nodiscard]] Error {
public:
  Error() = default;
  Error(mobagen_status code, std::string message) : code_(code), message_(std::move(message)) {}
  /// The result of a C call: on failure, its thread's last error message.
  static Error from(mobagen_status code) {
    return code == MOBAGEN_SUCCESS ? Error() : Error(code, mobagen_last_error());
  }
  bool ok() const { return code_ == MOBAGEN_SUCCESS; }
  mobagen_status code() const { return code_; }
  const std::string &message() const { return message_; }
  const char *codeName() const { return mobagen_status_name(code_); }

private:
  mobagen_status code_ = MOBAGEN_SUCCESS;
  std::string message_;
};

/// A value, or the Error that explains why there is none.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error)) {}
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error &error() const { return error_; }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }

private:
  std::optional<T> value_;
  Error error_;
};

/// The device buffers of one forward (FlashAttention's varlen arguments).
struct ForwardBuffers {
  mobagen_devptr q = 0, k = 0, v = 0, cuSeqlensQ = 0, cuSeqlensK = 0, out = 0, lse = 0, workspace = 0;
  size_t workspaceBytes = 0;
};

class Device {
public:
  static Result<Device> open(mobagen_device_kind kind = MOBAGEN_DEVICE_AUTO, int ordinal = 0) {
    mobagen_device *device = nullptr;
    if (mobagen_status s = mobagen_device_open(kind, ordinal, &device); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return Device(device);
  }
  const char *name() const { return mobagen_device_name(handle_.get()); }
  Result<mobagen_devptr> malloc(size_t bytes) {
    mobagen_devptr ptr = 0;
    if (mobagen_status s = mobagen_device_malloc(handle_.get(), bytes, &ptr); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return ptr;
  }
  Error free(mobagen_devptr ptr) { return Error::from(mobagen_device_free(handle_.get(), ptr)); }
  Error copyToDevice(mobagen_devptr dst, const void *src, size_t bytes) {
    return Error::from(mobagen_memcpy_to_device(handle_.get(), dst, src, bytes));
  }
  Error copyToHost(void *dst, mobagen_devptr src, size_t bytes) {
    return Error::from(mobagen_memcpy_to_host(handle_.get(), dst, src, bytes));
  }
  Error synchronize(mobagen_stream stream = 0) {
    return Error::from(mobagen_device_synchronize(handle_.get(), stream));
  }
  mobagen_device *get() const { return handle_.get(); }

private:
  explicit Device(mobagen_device *device) : handle_(device, &mobagen_device_destroy) {}
  std::unique_ptr<mobagen_device, void (*)(mobagen_device *)> handle_;
};

/// mobagen_context_options with owned values and a std::function for the log.
struct ContextOptions {
  std::string cacheDir;                        ///< "": no persistent tuning cache
  std::optional<mobagen_config> expectedConfig; ///< unset: accept the bundle's config
  /// One line per tuning-cache entry that tune() or loadTuned() did not trust (mobagen_log_fn);
  /// empty: silent. The Context keeps a copy for its lifetime.
  std::function<void(std::string_view)> log;
};

class Context {
public:
  /// A bundle directory; `options` may be null.
  static Result<Context> open(Device &device, const std::string &bundleDir,
                              const mobagen_context_options *options = nullptr) {
    mobagen_context *context = nullptr;
    if (mobagen_status s = mobagen_context_create(device.get(), bundleDir.c_str(), options, &context);
        s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return Context(context);
  }
  /// A bundle embedded by `mobagen generate --header NAME`: open(device, NAME_files, NAME_file_count).
  static Result<Context> open(Device &device, const mobagen_bundle_file *files, size_t count,
                              const mobagen_context_options *options = nullptr) {
    mobagen_context *context = nullptr;
    if (mobagen_status s = mobagen_context_create_from_files(device.get(), files, count, options, &context);
        s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return Context(context);
  }
  /// The same, with ContextOptions.
  static Result<Context> open(Device &device, const std::string &bundleDir, const ContextOptions &options) {
    return openWith(options, [&](const mobagen_context_options *o, mobagen_context **c) {
      return mobagen_context_create(device.get(), bundleDir.c_str(), o, c);
    });
  }
  static Result<Context> open(Device &device, const mobagen_bundle_file *files, size_t count,
                              const ContextOptions &options) {
    return openWith(options, [&](const mobagen_context_options *o, mobagen_context **c) {
      return mobagen_context_create_from_files(device.get(), files, count, o, c);
    });
  }

  mobagen_config config() const {
    mobagen_config c{};
    (void)mobagen_context_config(handle_.get(), &c); // cannot fail on a live context
    return c;
  }
  uint64_t bundleHash() const {
    uint64_t hash = 0;
    (void)mobagen_context_bundle_hash(handle_.get(), &hash);
    return hash;
  }
  Result<size_t> workspaceSize(const mobagen_shape &shape) {
    size_t bytes = 0;
    if (mobagen_status s = mobagen_workspace_size(handle_.get(), &shape, &bytes); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return bytes;
  }
  Error forward(const mobagen_shape &shape, const ForwardBuffers &b, mobagen_stream stream = 0) {
    return Error::from(mobagen_forward(handle_.get(), &shape, b.q, b.k, b.v, b.cuSeqlensQ, b.cuSeqlensK, b.out,
                                       b.lse, b.workspace, b.workspaceBytes, stream));
  }
  Error tune(const mobagen_shape &shape) { return Error::from(mobagen_tune(handle_.get(), &shape)); }
  /// mobagen_load_tuned: applies the cached choices of the shape's bucket, never
  /// measures; the number of kernels whose choice came from the cache (0 to 5).
  Result<size_t> loadTuned(const mobagen_shape &shape) {
    size_t found = 0;
    if (mobagen_status s = mobagen_load_tuned(handle_.get(), &shape, &found); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return found;
  }
  /// mobagen_context_variant: the id of the variant of `kernel` a forward of `shape` runs now.
  Result<std::string> variant(const mobagen_shape &shape, const char *kernel) const {
    const char *id = nullptr;
    if (mobagen_status s = mobagen_context_variant(handle_.get(), &shape, kernel, &id); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return std::string(id);
  }
  /// mobagen_benchmark_forward's median cost of the forward and its unit ("ms" or "model-us").
  struct Timing {
    double median = 0;
    std::string unit;
  };
  Result<Timing> benchmarkForward(const mobagen_shape &shape, const ForwardBuffers &b, int warmup, int repetitions,
                                  mobagen_stream stream = 0) {
    double median = 0;
    const char *unit = nullptr;
    if (mobagen_status s = mobagen_benchmark_forward(handle_.get(), &shape, b.q, b.k, b.v, b.cuSeqlensQ,
                                                     b.cuSeqlensK, b.out, b.lse, b.workspace, b.workspaceBytes,
                                                     stream, warmup, repetitions, &median, &unit);
        s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return Timing{median, unit};
  }
  /// Pins a kernel's variant for every shape; nullptr unpins.
  Error setVariant(const char *kernel, const char *variant) {
    return Error::from(mobagen_context_set_variant(handle_.get(), kernel, variant));
  }
  mobagen_context *get() const { return handle_.get(); }

private:
  using Log = std::function<void(std::string_view)>;
  explicit Context(mobagen_context *context, std::unique_ptr<Log> log = nullptr)
      : log_(std::move(log)), handle_(context, &mobagen_context_destroy) {}
  template <typename Create> static Result<Context> openWith(const ContextOptions &options, Create create) {
    // The log lives on the heap so that its address (the C callback's `user`)
    // survives moves of the Context; handle_ is destroyed first (declared last).
    std::unique_ptr<Log> log = options.log ? std::make_unique<Log>(options.log) : nullptr;
    mobagen_context_options o{};
    o.cache_dir = options.cacheDir.empty() ? nullptr : options.cacheDir.c_str();
    o.expected_config = options.expectedConfig ? &*options.expectedConfig : nullptr;
    if (log) {
      o.log = [](void *user, const char *message) { (*static_cast<Log *>(user))(message); };
      o.log_user = log.get();
    }
    mobagen_context *context = nullptr;
    if (mobagen_status s = create(&o, &context); s != MOBAGEN_SUCCESS)
      return Error::from(s);
    return Context(context, std::move(log));
  }
  std::unique_ptr<Log> log_;
  std::unique_ptr<mobagen_context, void (*)(mobagen_context *)> handle_;
};

} // namespace mobagen
