//===- ApiRun.h - `mobagen run --device emulator|cuda` through the public API -===//
//
// Opens the device, creates a context for the bundle (a directory, or files in
// memory that the compiler generated in this process) with the run's
// configuration as the expected one, uploads the inputs, runs the forward and
// reads back out, lse and the selection. Exactly what a host program does with
// include/mobagen/mobagen.hpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mobagen/mobagen.h"
#include "runtime/reference/MobaReference.h"
#include "runtime/support/FloatFormats.h"
#include "tools/mobagen/MobaInputs.h"

namespace mobagen::cli {

/// Where the kernels come from: a bundle directory, or else `files` in memory.
struct BundleSource {
  std::string directory;
  std::vector<mobagen_bundle_file> files;
};

/// out (rounded to the dtype), lse, and the selection (scores are NaN: the
/// kernels write only the indices).
Expected<reference::MobaOutput> runMobaThroughApi(const MobaInputs &inputs, const reference::MobaParams &params,
                                                  DType dtype, mobagen_device_kind device,
                                                  const BundleSource &bundle,
                                                  const std::map<std::string, std::string> &variants = {});

} // namespace mobagen::cli
