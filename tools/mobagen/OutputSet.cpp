//===- OutputSet.cpp - publishing a command's output files atomically ------===//
#include "tools/mobagen/OutputSet.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace mobagen::cli {
namespace fs = std::filesystem;
namespace {

std::string errnoText() { return std::strerror(errno); }

/// The nearest existing ancestor of `path` (itself excluded); "." for a bare name.
fs::path existingAncestor(const fs::path &path) {
  fs::path p = path.parent_path();
  if (p.empty())
    return ".";
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec)) {
    if (p == p.parent_path())
      break;
    p = p.parent_path();
  }
  return p.empty() ? fs::path(".") : p;
}

/// `path` made absolute and lexically normal, the parent resolved through
/// symlinks: two spellings of one destination compare equal.
fs::path destinationKey(const fs::path &path) {
  std::error_code ec;
  fs::path parent = fs::weakly_canonical(fs::absolute(path, ec).parent_path(), ec);
  return (parent / path.filename()).lexically_normal();
}

int openDirectory(const fs::path &dir) {
  return ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

Status syncDirectory(const fs::path &dir) {
  const int fd = openDirectory(dir);
  if (fd < 0)
    return Status::errorf("{}: cannot open the directory to sync it: {}", dir.string(), errnoText());
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errnoText() : "";
  ::close(fd);
  if (rc != 0)
    return Status::errorf("{}: fsync failed: {}", dir.string(), why);
  return Status::success();
}

/// A new empty file named `.<name>.tmp-XXXXXX` in `dir`.
Expected<std::string> makeTemp(const fs::path &dir, const std::string &name) {
  std::string pattern = (dir / ("." + name + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0)
    return Status::errorf("{}: cannot create a temporary file in {}: {}", name, dir.string(),
                          errnoText());
  // mkstemp creates 0600; an output gets the mode an ordinary create would give.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  ::close(fd);
  return pattern;
}

} // namespace

Status syncFile(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::errorf("{}: cannot open to sync: {}", path, errnoText());
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errnoText() : "";
  ::close(fd);
  if (rc != 0)
    return Status::errorf("{}: fsync failed: {}", path, why);
  return Status::success();
}

Status writeFileSynced(const std::string &path, const std::string &bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::errorf("{}: cannot create: {}", path, errnoText());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const std::string why = errnoText();
      ::close(fd);
      return Status::errorf("{}: write failed after {} of {} bytes: {}", path, done, bytes.size(),
                            why);
    }
    done += static_cast<size_t>(n);
  }
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errnoText() : "";
  if (::close(fd) != 0 || rc != 0)
    return Status::errorf("{}: fsync or close failed: {}", path, why.empty() ? errnoText() : why);
  return Status::success();
}

OutputSet::~OutputSet() {
  for (const Output &o : outputs_)
    if (!o.temp.empty())
      ::unlink(o.temp.c_str());
  if (!published_) // deepest first; only directories this set created, only if still empty
    for (auto it = createdDirs_.rbegin(); it != createdDirs_.rend(); ++it)
      ::rmdir(it->c_str());
}

void OutputSet::addInput(const std::string &path) {
  struct stat st;
  // The file an input names and the directory entry itself (a symlink): an
  // output renamed onto either would replace the input.
  if (::stat(path.c_str(), &st) == 0)
    inputs_.push_back({static_cast<unsigned long long>(st.st_dev),
                       static_cast<unsigned long long>(st.st_ino), path});
  if (::lstat(path.c_str(), &st) == 0)
    inputs_.push_back({static_cast<unsigned long long>(st.st_dev),
                       static_cast<unsigned long long>(st.st_ino), path});
}

Status OutputSet::addOutput(const std::string &path, const std::string &what) {
  const fs::path p(path);
  if (path.empty() || p.filename().empty() || p.filename() == "." || p.filename() == "..")
    return Status::errorf("{} '{}': not a file name", what, path);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return Status::errorf("{} '{}' is a directory; it must name a file", what, path);
    for (const FileId &in : inputs_)
      if (in.dev == static_cast<unsigned long long>(st.st_dev) &&
          in.ino == static_cast<unsigned long long>(st.st_ino))
        return Status::errorf("{} '{}' is the input '{}'; writing it would replace the input",
                              what, path, in.path);
  } else if (errno != ENOENT && errno != ENOTDIR) { // ENOTDIR: reported below, with the path
    return Status::errorf("{} '{}': {}", what, path, errnoText());
  }
  const fs::path key = destinationKey(p);
  for (const Output &o : outputs_)
    if (destinationKey(o.path) == key)
      return Status::errorf("{} '{}' is also {} '{}'; each output needs its own file", what, path,
                            o.what, o.path.string());
  const fs::path ancestor = existingAncestor(p);
  if (::stat(ancestor.c_str(), &st) != 0)
    return Status::errorf("{} '{}': {}: {}", what, path, ancestor.string(), errnoText());
  if (!S_ISDIR(st.st_mode))
    return Status::errorf("{} '{}': '{}' is not a directory", what, path, ancestor.string());
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0)
    return Status::errorf("{} '{}': directory '{}' is not writable: {}", what, path,
                          ancestor.string(), errnoText());
  outputs_.push_back({p, what, ""});
  return Status::success();
}

Status OutputSet::stage(const std::string &path,
                        const std::function<Status(const std::string &)> &write) {
  Output *out = nullptr;
  for (Output &o : outputs_)
    if (o.path == fs::path(path))
      out = &o;
  if (!out)
    return Status::errorf("internal error: output '{}' was not checked before the work", path);
  const fs::path dir = out->path.parent_path().empty() ? fs::path(".") : out->path.parent_path();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    // Record each directory created, outermost first, to remove on failure.
    std::vector<fs::path> missing;
    for (fs::path d = dir; !d.empty() && !fs::exists(d, ec); d = d.parent_path())
      missing.insert(missing.begin(), d);
    for (const fs::path &d : missing) {
      if (::mkdir(d.c_str(), 0777) != 0 && errno != EEXIST)
        return Status::errorf("{} '{}': cannot create directory '{}': {}", out->what, path,
                              d.string(), errnoText());
      createdDirs_.push_back(d);
    }
  }
  auto temp = makeTemp(dir, out->path.filename().string());
  if (!temp)
    return temp.status();
  out->temp = *temp;
  if (Status s = write(*temp); !s)
    return Status::errorf("{}: {}", out->what, s.message());
  return syncFile(*temp);
}

Status OutputSet::publish() {
  for (const Output &o : outputs_)
    if (o.temp.empty())
      return Status::errorf("internal error: output '{}' was never written", o.path.string());
  for (Output &o : outputs_) {
    if (::rename(o.temp.c_str(), o.path.c_str()) != 0)
      return Status::errorf("{} '{}': cannot rename the written file into place: {}", o.what,
                            o.path.string(), errnoText());
    o.temp.clear();
    published_ = true;
  }
  for (const Output &o : outputs_)
    MOBAGEN_RETURN_IF_ERROR(syncDirectory(o.path.parent_path()));
  return Status::success();
}

Status checkBundleDestination(const std::string &dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return Status::errorf("--output-dir '{}': {}", dir, errnoText());
    const fs::path ancestor = existingAncestor(fs::path(dir).lexically_normal());
    if (::stat(ancestor.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::errorf("--output-dir '{}': '{}' is not a directory", dir, ancestor.string());
    if (::access(ancestor.c_str(), W_OK | X_OK) != 0)
      return Status::errorf("--output-dir '{}': directory '{}' is not writable: {}", dir,
                            ancestor.string(), errnoText());
    return Status::success();
  }
  if (!S_ISDIR(st.st_mode))
    return Status::errorf("--output-dir '{}' exists and is not a directory", dir);
  std::error_code ec;
  const bool empty = fs::is_empty(dir, ec);
  if (!empty && !fs::exists(fs::path(dir) / "manifest.json", ec))
    return Status::errorf("--output-dir '{}' is a non-empty directory without manifest.json; "
                          "a bundle replaces its directory whole, so it must be empty or a bundle",
                          dir);
  const fs::path parent = fs::absolute(dir, ec).lexically_normal().parent_path();
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    return Status::errorf("--output-dir '{}': directory '{}' is not writable: {}", dir,
                          parent.string(), errnoText());
  return Status::success();
}

Status publishDirectory(const std::string &dirText,
                        const std::vector<std::pair<std::string, std::string>> &files) {
  MOBAGEN_RETURN_IF_ERROR(checkBundleDestination(dirText));
  std::error_code ec;
  const fs::path dir = fs::absolute(dirText, ec).lexically_normal();
  const fs::path parent = dir.parent_path();
  fs::create_directories(parent, ec);
  if (ec)
    return Status::errorf("--output-dir '{}': cannot create '{}': {}", dirText, parent.string(),
                          ec.message());
  std::string pattern = (parent / ("." + dir.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    return Status::errorf("--output-dir '{}': cannot create a temporary directory in {}: {}",
                          dirText, parent.string(), errnoText());
  const fs::path temp(pattern);
  bool keepTemp = false;
  struct Cleanup {
    const fs::path &temp;
    bool &keep;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep)
        fs::remove_all(temp, ignored);
    }
  } cleanup{temp, keepTemp};
  for (const auto &[name, bytes] : files)
    MOBAGEN_RETURN_IF_ERROR(writeFileSynced((temp / name).string(), bytes));
  MOBAGEN_RETURN_IF_ERROR(syncDirectory(temp));
  ::chmod(temp.c_str(), 0755); // mkdtemp makes it 0700; a bundle is an ordinary directory
  if (fs::exists(dir, ec)) {
    // Swap in one step; the old bundle then sits at the temporary name and is removed.
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0)
      return Status::errorf("--output-dir '{}': cannot replace the bundle: {}", dirText,
                            errnoText());
  } else if (::rename(temp.c_str(), dir.c_str()) != 0) {
    return Status::errorf("--output-dir '{}': cannot move the bundle into place: {}", dirText,
                          errnoText());
  } else {
    keepTemp = true; // renamed: nothing left at the temporary name
  }
  return syncDirectory(parent);
}

} // namespace mobagen::cli
