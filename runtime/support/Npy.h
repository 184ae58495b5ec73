//===- Npy.h - NumPy .npy files ---------------------------------------------===//
//
// Reads and writes the .npy format (NumPy's format.py, versions 1.0 to 3.0):
// a magic string, a header that is a Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the raw C-ordered data. Only little-endian
// numeric dtypes are accepted; every malformed file gets a Status naming what is
// wrong, never a crash or an unbounded allocation.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen {

/// The most dimensions a .npy array has here: NumPy's NPY_MAXDIMS before 2.0,
/// so every file written can be read by any NumPy.
inline constexpr size_t kMaxNpyDims = 32;

/// A C-ordered array and its NumPy dtype string, normalized to '<' byte order for
/// multi-byte types and '|' for single bytes (e.g. "<f4", "<i4", "|u1").
struct NpyArray {
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t elementCount() const;
  size_t itemSize() const; // from descr
};

/// Reads a .npy file: the header first, then exactly the data it describes. The
/// path must be a regular file whose size matches the header.
Expected<NpyArray> readNpy(const std::string &path);
/// Parses an in-memory .npy image; `name` is only used in messages.
Expected<NpyArray> parseNpy(const std::vector<uint8_t> &bytes, const std::string &name);

Status writeNpy(const std::string &path, const NpyArray &array);

/// Builds an NpyArray from typed values: descr from T (float, double, int32_t,
/// int64_t, uint16_t).
template <typename T> NpyArray makeNpy(std::vector<int64_t> shape, const std::vector<T> &values);

} // namespace mobagen
