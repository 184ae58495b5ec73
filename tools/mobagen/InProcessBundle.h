//===- InProcessBundle.h - A format-2 kernel bundle built in this process ----===//
//
// The one writer of bundle format 4 (docs/bundle.md): `mobagen generate` writes
// its files to a directory; `mobagen run --device emulator|cuda` without
// --bundle, the runtime's tests and the host-overhead benchmark load them from
// memory. compiler::generateMobaKernels builds one PTX module per variant (its
// only entry `<kernel>_<id>`); this adds the manifest and, on request, a cubin
// per variant with ptxas's resources. Links the compiler (MLIR/LLVM); the
// runtime only ever reads the result.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "compiler/Pipeline/MobaKernels.h"
#include "runtime/support/Status.h"

namespace mobagen::cli {

struct BundleOptions {
  /// Every variant of the tuning space, or only each kernel's default.
  bool allVariants = false;
  /// kernel name -> the variant ids to keep, in the bundle's order (the first is
  /// that kernel's default); kernels not named follow `allVariants`.
  std::map<std::string, std::vector<std::string>> only;
  /// Also a cubin per variant for the configuration's target, with ptxas's resources.
  bool cubin = false;
  /// Worker threads generating variants; 0: one per hardware thread.
  unsigned threads = 0;
  /// LLVM -O level (1 to 3) before NVPTX code generation (docs/perf.md: 2 generates
  /// about 20% faster than 3).
  unsigned optLevel = 3;
};

/// A bundle's files: name and bytes, manifest.json first.
using BundleFiles = std::vector<std::pair<std::string, std::string>>;

Expected<BundleFiles> generateBundle(const compiler::MobaKernelConfig &config, const BundleOptions &options = {});

/// The variants in `files`' manifest (for messages): "kernel: id, id; ...".
size_t bundleVariantCount(const BundleFiles &files);

/// Writes the files into `dir` (created if needed).
Status writeBundle(const BundleFiles &files, const std::filesystem::path &dir);

} // namespace mobagen::cli
