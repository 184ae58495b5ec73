//===- FileRead.h - opening and reading input files with the real cause -----===//
//
// Input files (.npy arrays, cache entries) are opened with open(2) and fstat(2)
// rather than std::ifstream, for two reasons: ifstream reports every failure as
// "cannot open" (EACCES read as "no such file") and throws from underflow() when
// the path is a directory; and a reader must know the size before it reads, so a
// FIFO, /dev/zero or /dev/urandom is refused instead of read until memory runs out.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/support/Status.h"

namespace mobagen {

/// An open regular file; closes on destruction.
class InputFile {
public:
  /// Opens `path` for reading. Errors: "PATH: no such file", "PATH: permission
  /// denied", "PATH: is a directory", "PATH: not a regular file (a character
  /// device)" and so on, from errno and the file type.
  static Expected<InputFile> open(const std::string &path);

  InputFile(InputFile &&other) noexcept;
  InputFile &operator=(InputFile &&other) = delete;
  InputFile(const InputFile &) = delete;
  ~InputFile();

  /// The size fstat reported at open.
  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }

  /// Reads exactly `n` bytes at `offset` into `out`; an error names the path,
  /// the offset and the cause (a short read means the file shrank).
  Status readAt(uint64_t offset, void *out, size_t n) const;

private:
  InputFile(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

/// The whole of a regular file of at most `maxBytes` bytes.
Expected<std::string> readRegularFile(const std::string &path, uint64_t maxBytes);

} // namespace mobagen
