//===- OutputSet.h - publishing a command's output files atomically --------===//
//
// Every file a mobagen command writes (run's out/lse/selected.npy, emu's out:
// buffers, bench --json, generate's bundle) goes through this, so that
//  - every output path is checked before any work: an existing directory where
//    a file is to go, a missing or read-only parent, a path that is the same
//    file as an input (st_dev + st_ino) or as another output is an error;
//  - each file is written to a temporary name in its target directory, fsynced,
//    and renamed into place only when every file of the set is written; a
//    symlink at the destination is replaced, its target is never written;
//  - on any failure every temporary is removed and no destination changes.
// The remaining window is the renames themselves (one rename(2) per file, in
// order): a crash between two renames leaves some files new and some old.
// docs/reliability.md, "Outputs".
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::cli {

class OutputSet {
public:
  OutputSet() = default;
  OutputSet(const OutputSet &) = delete;
  OutputSet &operator=(const OutputSet &) = delete;
  /// Removes every temporary that was not published.
  ~OutputSet();

  /// Records an input the outputs must not replace. A path that does not exist
  /// is ignored here (reading it reports the error).
  void addInput(const std::string &path);
  /// Checks `path` as a destination (see the file comment) and records it.
  /// `what` names the option in messages (e.g. "--output-dir").
  Status addOutput(const std::string &path, const std::string &what);
  /// Writes one recorded output to a temporary beside it: `write` gets the
  /// temporary's path and fills it. Creates missing parent directories.
  Status stage(const std::string &path, const std::function<Status(const std::string &)> &write);
  /// Renames every staged file into place (all must be staged), then fsyncs
  /// their directories.
  Status publish();

private:
  struct Output {
    std::filesystem::path path;
    std::string what;
    std::string temp; // empty until staged
  };
  struct FileId {
    unsigned long long dev, ino;
    std::string path;
  };
  std::vector<FileId> inputs_;
  std::vector<Output> outputs_;
  std::vector<std::filesystem::path> createdDirs_; // removed again when nothing was published
  bool published_ = false;
};

/// Writes `bytes` to `path` and fsyncs it (for OutputSet::stage callbacks).
Status writeFileSynced(const std::string &path, const std::string &bytes);
/// fsyncs an already written file.
Status syncFile(const std::string &path);

/// Writes `files` into a new directory beside `dir`, fsynced, and then puts it
/// in place of `dir` as a whole (renameat2 RENAME_EXCHANGE when `dir` exists,
/// so a reader sees the old bundle or the new one, never a mix). An existing
/// `dir` must be empty or a bundle (hold manifest.json): anything else is
/// refused, never deleted. On failure `dir` is unchanged.
Status checkBundleDestination(const std::string &dir);
Status publishDirectory(const std::string &dir,
                        const std::vector<std::pair<std::string, std::string>> &files);

} // namespace mobagen::cli
