//===- ApiRun.h - `mobagen run --device emulator|cuda` through the public API -===//
//
// Opens the device, creates a context for the bundle (a directory, or files in
// memory that the compiler generated in this process) with the run's
// configuration as the expected one and the tuning cache's directory, applies
// the choices cached for the shape's bucket (mobagen_load_tuned: a lookup, never
// a measurement) and the --variant pins, uploads the inputs, runs the forward and
// reads back out, lse and the selection. Exactly what a host program does with
// include/mobagen/mobagen.hpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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

/// Which variants the run asks for: `pins` (kernel -> id, mobagen_context_set_variant)
/// over the choices mobagen_load_tuned reads from `cacheDir` ("": none read).
struct VariantOptions {
  std::map<std::string, std::string> pins;
  std::string cacheDir;
  /// The context's log: one line per tuning-cache entry not trusted. May be empty.
  std::function<void(std::string_view)> log;
};

/// The variants that ran: (kernel, id) in launch order, and how many kernels
/// had a choice in the tuning cache (mobagen_load_tuned's count).
struct VariantsRun {
  std::vector<std::pair<std::string, std::string>> ids;
  size_t fromCache = 0;
  mobagen_shape shape{};
};

/// out (rounded to the dtype), lse, and the selection (scores are NaN: the
/// kernels write only the indices). `ran` (may be null) receives the variants.
Expected<reference::MobaOutput> runMobaThroughApi(const MobaInputs &inputs, const reference::MobaParams &params,
                                                  DType dtype, mobagen_device_kind device,
                                                  const BundleSource &bundle, const VariantOptions &variants = {},
                                                  VariantsRun *ran = nullptr);

} // namespace mobagen::cli
