//===- Bundle.h - A kernel bundle (format 3), loaded and validated ----------===//
//
// A bundle is what a host needs to run one MoBA configuration without LLVM or
// MLIR: manifest.json and one PTX module per kernel variant (docs/bundle.md).
// It comes from a directory or from memory (the files a `mobagen generate
// --header` header embeds). Loading validates everything the launcher relies on
// (format and version, every config field's type and range, the five kernels in
// launch order, each variant's id, entry, PTX file and launch shape); unknown
// fields are ignored so that newer writers stay readable. Every error names the
// bundle, the file, the field and the value.
//
// The bundle hash (XXH3-64) covers the manifest and every file the manifest names
// (PTX, cubin), each as its name and bytes, in name order: a bundle loaded from a
// directory and the same bundle embedded in a header hash the same; any change to
// a kernel's text changes it. Tuning cache keys carry it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/support/FloatFormats.h"
#include "runtime/support/Status.h"

namespace mobagen::bundle {

/// The configuration a bundle was generated for (manifest "config").
struct BundleConfig {
  int64_t blockSize = 0;
  int64_t topK = 0;
  int64_t headDim = 0;
  int64_t numQHeads = 0;
  int64_t numKvHeads = 0;
  bool causal = true;
  DType dtype = DType::BF16;
  std::string target; ///< "sm_80", "sm_90", "sm_90a"
  std::optional<double> scale; ///< nullopt: 1/sqrt(head_dim)

  /// One line naming every field, e.g. "block_size=512 top_k=3 ... scale=default";
  /// the tuning key's configuration text.
  std::string canonical() const;
};

/// The five kernels of a forward, in launch order (docs/design/sparse-attention.md).
enum class KernelKind : size_t {
  PoolKeys = 0,
  GateTopK = 1,
  RouteScatter = 2,
  SparseAttentionBlocks = 3,
  SparseAttentionMerge = 4,
};
constexpr size_t kKernelCount = 5;
constexpr std::array<std::string_view, kKernelCount> kKernelNames = {
    "pool_keys", "gate_topk", "route_scatter", "sparse_attention_blocks", "sparse_attention_merge"};
/// Arguments each kernel takes (format 4 launch order).
constexpr std::array<size_t, kKernelCount> kKernelParamCounts = {4, 7, 7, 10, 11};

/// "pool_keys, gate_topk, ...": the kernels in launch order, for messages.
std::string kernelNameList();

/// What a kernel's grid x counts (y is num_kv_heads for pool_keys, num_q_heads
/// otherwise; z is the batch).
enum class GridX {
  KeyBlocks, ///< max_b ceil(Lk_b / block_size): one program per key block
  QueryRows, ///< ceil(max_seqlen_q / rows_per_program)
};
constexpr std::array<GridX, kKernelCount> kKernelGridX = {GridX::KeyBlocks, GridX::QueryRows, GridX::QueryRows,
                                                          GridX::KeyBlocks, GridX::QueryRows};

struct VariantResources {
  int64_t registers = 0, stackBytes = 0, spillStoreBytes = 0, spillLoadBytes = 0,
          sharedBytes = 0;
};

/// One compiled variant of a kernel.
struct KernelVariant {
  std::string id;      ///< [a-z0-9]+, unique per kernel, e.g. "m16n8w4"
  std::string entry;   ///< "<kernel>_<id>"
  std::string ptxFile; ///< "<kernel>.<id>.ptx"
  std::string cubinFile; ///< empty without --cubin
  uint32_t threads = 0;
  uint32_t rowsPerProgram = 0; ///< query rows per program (GridX::QueryRows), else 0
  uint32_t dynamicSharedBytes = 0;
  std::vector<std::pair<std::string, int64_t>> knobs;
  std::optional<VariantResources> resources;
};

struct BundleKernel {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params; ///< name, type
  std::vector<std::string> grid; ///< how each grid dimension follows from the batch (text)
  std::vector<KernelVariant> variants; ///< the first is the default

  /// The index of the variant with this id, or nullopt.
  std::optional<size_t> findVariant(std::string_view id) const;
};

/// One file of a bundle held in memory (not owned).
struct FileView {
  std::string_view name;
  std::string_view bytes;
};

class Bundle {
public:
  static constexpr int64_t kFormatVersion = 4;

  /// Reads `dir`/manifest.json and every file it names.
  static Expected<Bundle> fromDirectory(const std::filesystem::path &dir);
  /// The same from files in memory; `origin` names the bundle in messages.
  /// Every file is copied: the views need not outlive the call.
  static Expected<Bundle> fromFiles(const std::vector<FileView> &files,
                                    std::string_view origin = "embedded bundle");

  const BundleConfig &config() const { return config_; }
  const std::array<BundleKernel, kKernelCount> &kernels() const { return kernels_; }
  const BundleKernel &kernel(KernelKind kind) const { return kernels_[size_t(kind)]; }
  /// The PTX text of a variant.
  std::string_view ptx(KernelKind kind, size_t variant) const;
  /// The bytes of a file the manifest names; empty if there is none.
  std::string_view file(std::string_view name) const;

  const std::string &mobagenVersion() const { return mobagenVersion_; }
  const std::string &compiler() const { return compiler_; }
  uint64_t hash() const { return hash_; }
  /// Where it came from: the directory or the origin given to fromFiles.
  const std::string &origin() const { return origin_; }

  /// Assembles a validated bundle (the loader's last step).
  static Bundle make(BundleConfig config, std::array<BundleKernel, kKernelCount> kernels,
                     std::map<std::string, std::string, std::less<>> files, std::string mobagenVersion,
                     std::string compiler, std::string origin, uint64_t hash);

private:

  BundleConfig config_;
  std::array<BundleKernel, kKernelCount> kernels_;
  std::map<std::string, std::string, std::less<>> files_;
  std::string mobagenVersion_, compiler_, origin_;
  uint64_t hash_ = 0;
};

/// Whether a device of compute capability major.minor can run PTX for `target`
/// ("sm_80" runs on 8.0 and later; "sm_90a" only on 9.0); an error names both.
Status checkTargetRuns(std::string_view target, int computeMajor, int computeMinor);

/// Whether a PTX module declares an entry named `entry` (`.entry entry(`).
bool ptxDeclaresEntry(std::string_view ptx, std::string_view entry);
/// The number of `.entry` declarations in a PTX module.
size_t ptxEntryCount(std::string_view ptx);

} // namespace mobagen::bundle
