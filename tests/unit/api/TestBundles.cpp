#include "tests/unit/api/TestBundles.h"
#include "runtime/bundle/FileHash.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace mobagen::testing {
namespace {

std::filesystem::path processDir() {
  // Never destroyed: the cleanup below runs during static destruction.
  static const std::filesystem::path *dir = [] {
    auto d = std::filesystem::temp_directory_path() / fmt::format("mobagen-api-tests-{}", getpid());
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return new std::filesystem::path(d);
  }();
  return *dir;
}

/// Removes the process's scratch directory at exit.
struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    std::filesystem::remove_all(processDir(), ec);
  }
} cleanup;

} // namespace

mobagen_shape smallShape(int64_t batch, int64_t lq, int64_t lk) {
  mobagen_shape s{};
  s.batch = batch;
  s.total_q = batch * lq;
  s.total_k = batch * lk;
  s.max_seqlen_q = lq;
  s.max_seqlen_k = lk;
  s.num_q_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 64;
  s.dtype = MOBAGEN_DTYPE_BF16;
  return s;
}

const TestBundle &smallBundle() {
  static const TestBundle bundle = [] {
    TestBundle b;
    b.config = {.blockSize = 16, .topK = 3, .headDim = 64, .numQHeads = 4, .numKvHeads = 2, .causal = true,
                .dtype = DType::BF16, .target = "sm_80", .scale = std::nullopt};
    // Two variants of pool_keys and gate_topk (the default first), the default attention.
    cli::BundleOptions options;
    options.only = {{"pool_keys", {"w2", "w4"}}, {"gate_topk", {"m16w2", "m16w4"}}};
    auto files = cli::generateBundle(b.config, options);
    if (!files) {
      ADD_FAILURE() << "generating the test bundle: " << files.status().message();
      return b;
    }
    b.files = std::move(*files);
    b.dir = processDir() / "small";
    if (Status s = cli::writeBundle(b.files, b.dir); !s)
      ADD_FAILURE() << s.message();
    return b;
  }();
  return bundle;
}

std::filesystem::path scratchDir(const std::string &name) {
  auto dir = processDir() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path editedBundle(const TestBundle &bundle, const std::string &name,
                                   const std::function<void(nlohmann::json &)> &editManifest,
                                   const std::function<void(cli::BundleFiles &)> &editFiles) {
  cli::BundleFiles files = bundle.files;
  if (editManifest) {
    nlohmann::json manifest = nlohmann::json::parse(files.front().second);
    editManifest(manifest);
    files.front().second = manifest.dump(2);
  }
  if (editFiles) {
    editFiles(files);
    // The edited PTX and cubins get their hashes, as a generator writing them
    // would record (so a test reaches the check it is about); other files
    // (an embedding header) stay unlisted, as mobagen generate leaves them.
    nlohmann::json manifest = nlohmann::json::parse(files.front().second, nullptr, false);
    bool rehashed = false;
    if (manifest.is_object() && manifest.contains("files"))
      for (const auto &[file, bytes] : files)
        if (file.ends_with(".ptx") || file.ends_with(".cubin")) {
          const std::string hash = bundle::fileHash(bytes);
          if (manifest["files"].value(file, "") != hash) {
            manifest["files"][file] = hash;
            rehashed = true;
          }
        }
    if (rehashed)
      files.front().second = manifest.dump(2);
  }
  const auto dir = scratchDir(name);
  if (Status s = cli::writeBundle(files, dir); !s)
    ADD_FAILURE() << s.message();
  return dir;
}

} // namespace mobagen::testing
