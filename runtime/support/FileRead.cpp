#include "runtime/support/FileRead.h"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mobagen {
namespace {

/// The lower-case cause of an errno, as messages print it ("permission denied").
std::string causeOf(int err) {
  std::string cause = std::strerror(err);
  if (!cause.empty())
    cause[0] = char(std::tolower(static_cast<unsigned char>(cause[0])));
  return cause;
}

const char *fileTypeName(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a pipe";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

} // namespace

Expected<InputFile> InputFile::open(const std::string &path) {
  // O_NONBLOCK: opening a FIFO with no writer must not block; it is refused
  // below by its type anyway. Regular files ignore the flag.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT)
      return Status::errorf("{}: no such file", path);
    return Status::errorf("{}: cannot open: {}", path, causeOf(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::errorf("{}: cannot stat: {}", path, causeOf(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    if (S_ISDIR(st.st_mode))
      return Status::errorf("{}: is a directory", path);
    return Status::errorf("{}: not a regular file ({})", path, fileTypeName(st.st_mode));
  }
  return InputFile(fd, uint64_t(st.st_size), path);
}

InputFile::InputFile(InputFile &&other) noexcept
    : fd_(other.fd_), size_(other.size_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

InputFile::~InputFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status InputFile::readAt(uint64_t offset, void *out, size_t n) const {
  auto *dst = static_cast<char *>(out);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, dst + done, n - done, off_t(offset + done));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return Status::errorf("{}: read failed at byte {}: {}", path_, offset + done, causeOf(errno));
    }
    if (got == 0)
      return Status::errorf("{}: file ended at byte {} while {} were expected (it changed while read)",
                            path_, offset + done, offset + n);
    done += size_t(got);
  }
  return Status::success();
}

Expected<std::string> readRegularFile(const std::string &path, uint64_t maxBytes) {
  auto file = InputFile::open(path);
  if (!file)
    return file.status();
  if (file->size() > maxBytes)
    return Status::errorf("{}: {} bytes exceed the limit of {} bytes", path, file->size(), maxBytes);
  std::string bytes(size_t(file->size()), '\0');
  MOBAGEN_RETURN_IF_ERROR(file->readAt(0, bytes.data(), bytes.size()));
  return bytes;
}

} // namespace mobagen
