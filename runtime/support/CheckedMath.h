//===- CheckedMath.h - size arithmetic that cannot wrap -------------------===//
//
// Every size, count or offset computed from outside input (.npy shapes, emu
// shapes and grids, manifest fields, cache entry lengths, workspace sizes) goes
// through these helpers, so an overflow becomes an error that names the
// operands and the limit instead of a wrapped value that passes later checks.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/support/Status.h"

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <type_traits>

namespace mobagen {

/// `a * b`, or an error "WHAT: A x B overflows LIMIT" when it does not fit in T.
template <typename T>
  requires std::is_integral_v<T>
Expected<T> checkedMul(T a, T b, std::string_view what) {
  T r;
  if (__builtin_mul_overflow(a, b, &r))
    return Status::errorf("{}: {} x {} overflows the {}-bit limit {}", what, a, b,
                          sizeof(T) * 8, std::numeric_limits<T>::max());
  return r;
}

/// `a + b`, or an error "WHAT: A + B overflows LIMIT".
template <typename T>
  requires std::is_integral_v<T>
Expected<T> checkedAdd(T a, T b, std::string_view what) {
  T r;
  if (__builtin_add_overflow(a, b, &r))
    return Status::errorf("{}: {} + {} overflows the {}-bit limit {}", what, a, b,
                          sizeof(T) * 8, std::numeric_limits<T>::max());
  return r;
}

/// The product of `dims` (1 for none), or an error naming the first product
/// that overflows.
template <typename T>
  requires std::is_integral_v<T>
Expected<T> checkedProduct(std::span<const T> dims, std::string_view what) {
  T r = 1;
  for (T d : dims) {
    auto next = checkedMul(r, d, what);
    if (!next)
      return next.status();
    r = *next;
  }
  return r;
}

/// `v` converted to To, or an error "WHAT: V does not fit in To's range".
template <typename To, typename From>
  requires std::is_integral_v<To> && std::is_integral_v<From>
Expected<To> checkedCast(From v, std::string_view what) {
  if (!std::in_range<To>(v))
    return Status::errorf("{}: {} is outside [{}, {}]", what, v,
                          std::numeric_limits<To>::min(), std::numeric_limits<To>::max());
  return static_cast<To>(v);
}

} // namespace mobagen
