//===- TestBundles.h - Format-3 bundles generated once per test process ------===//
//
// The runtime's tests load bundles the compiler builds in process
// (tools/mobagen/InProcessBundle.h) for a small configuration, with two variants
// of pool_keys and gate_topk, so that variant choice is visible. Edited copies
// (a manifest field changed, a file removed) exercise the loader's errors.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "mobagen/mobagen.h"
#include "runtime/support/Status.h"
#include "tools/mobagen/InProcessBundle.h"

namespace mobagen::testing {

struct TestBundle {
  compiler::MobaKernelConfig config;
  cli::BundleFiles files;     ///< manifest.json first
  std::filesystem::path dir;  ///< the files, written
};

/// block 16, top-k 3, D 64, Hq 4, Hkv 2, causal, bf16, sm_80; pool_keys w2 and
/// w4, gate_topk m16w2 and m16w4, the other four kernels in their defaults.
const TestBundle &smallBundle();

/// The small bundle's heads, head dim and dtype: `batch` sequences of `lq` queries
/// over `lk` keys.
mobagen_shape smallShape(int64_t batch, int64_t lq, int64_t lk);

/// A fresh, empty directory for one test.
std::filesystem::path scratchDir(const std::string &name);

/// A copy of `bundle` in a fresh directory with `editManifest` applied to its
/// manifest and `editFiles` to its file list (both may be empty).
std::filesystem::path editedBundle(const TestBundle &bundle, const std::string &name,
                                   const std::function<void(nlohmann::json &)> &editManifest,
                                   const std::function<void(cli::BundleFiles &)> &editFiles = {});

} // namespace mobagen::testing

/// Checks that the C API call `call` returns `code` and that mobagen_last_error()
/// contains `text`.
#define EXPECT_API_ERROR(call, code, text)                                                            \
  do {                                                                                               \
    mobagen_status status_ = (call);                                                                 \
    EXPECT_EQ(status_, code) << mobagen_status_name(status_) << ": " << mobagen_last_error();         \
    EXPECT_NE(std::string(mobagen_last_error()).find(text), std::string::npos)                      \
        << "expected: " << (text) << "\ngot: " << mobagen_last_error();                             \
  } while (0)

