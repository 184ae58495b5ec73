//===- Status.h - Error values for the runtime ----------------------------===//
//
// The runtime never throws across its API and never aborts on bad input: every
// fallible function returns a Status or an Expected<T> whose message names what
// failed, with which value and which limit.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace mobagen {

/// Success, or an error with a one-line message.
class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  template <typename... Args>
  static Status errorf(fmt::format_string<Args...> format, Args &&...args) {
    return Status(fmt::format(format, std::forward<Args>(args)...));
  }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return message_; }

  /// Prefixes the message with where it happened, e.g. "q.npy: ".
  Status withContext(const std::string &context) && {
    if (failed_)
      message_ = context + message_;
    return std::move(*this);
  }

private:
  Status() = default;
  explicit Status(std::string message) : message_(std::move(message)), failed_(true) {}

  std::string message_;
  bool failed_ = false;
};

/// A value, or the Status that explains why there is none.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : storage_(std::move(value)) {}
  Expected(Status status) : storage_(std::move(status)) {
    assert(!std::get<Status>(storage_).ok() && "Expected built from a success Status");
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }
  explicit operator bool() const { return ok(); }

  T &value() & { return std::get<T>(storage_); }
  const T &value() const & { return std::get<T>(storage_); }
  T &&value() && { return std::get<T>(std::move(storage_)); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }

  /// The error; a success Status when a value is held.
  Status status() const { return ok() ? Status::success() : std::get<Status>(storage_); }

private:
  std::variant<T, Status> storage_;
};

} // namespace mobagen

/// Returns the Status of `expr` from the enclosing function when it failed.
#define MOBAGEN_RETURN_IF_ERROR(expr)                                                     \
  do {                                                                                     \
    ::mobagen::Status mobagen_status_ = (expr);                                            \
    if (!mobagen_status_.ok())                                                             \
      return mobagen_status_;                                                              \
  } while (0)
