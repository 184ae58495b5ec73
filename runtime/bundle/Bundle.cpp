//===- Bundle.cpp - Loading and validating a format-4 kernel bundle ---------===//
#include "runtime/bundle/Bundle.h"
#include "runtime/bundle/FileHash.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "runtime/support/FileRead.h"
#include "runtime/support/Quote.h"

namespace mobagen::bundle {
namespace {

using json = nlohmann::json;

constexpr std::string_view kManifest = "manifest.json";

/// Reads a named file of the bundle: from a directory or from memory.
using FileSource = std::function<Expected<std::string>(const std::string &name)>;

// The manifest's limits. A manifest mobagen writes is a few KB and nests 5
// levels deep; the limits are far above that and far below what could exhaust
// the stack of a recursive walk (json::dump, the destructor) or memory.
constexpr size_t kMaxManifestBytes = 16u << 20;
constexpr size_t kMaxJsonDepth = 64;

/// The value of a JSON node for messages: its compact text, ASCII-escaped, cut
/// short. Containers are summarized by their size rather than dumped whole.
std::string show(const json &value) {
  if (value.is_structured() && value.size() > 16)
    return fmt::format("{} of {} entries", value.is_array() ? "an array" : "an object", value.size());
  std::string text = value.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return text;
}

/// Refuses JSON text that nests deeper than kMaxJsonDepth before it is parsed,
/// so no recursive walk of the parsed value can overflow the stack. Strings
/// are skipped with their escapes, so brackets inside them do not count.
Status checkJsonDepth(std::string_view text, const std::string &prefix) {
  size_t depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return Status::errorf("{}nesting deeper than {} levels at byte {}: a manifest nests at most {}", prefix,
                              depth - 1, i, kMaxJsonDepth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return Status::success();
}

/// "[json.exception.out_of_range.406] number overflow parsing '1e400'" without
/// the library's tag, bounded.
std::string jsonCause(const json::exception &e) {
  std::string_view what = e.what();
  if (what.starts_with("[json.exception.")) {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos)
      what.remove_prefix(close + 2);
  }
  return std::string(what.substr(0, 200));
}

/// The last object key a SAX pass over `text` reads before the error the DOM
/// parse reported: a value the library refuses (a number out of double's range,
/// '1e400') is named by the field it is under. It runs only after a failed parse,
/// so a valid manifest is parsed once, without a per-event callback.
std::string lastKeyBeforeError(std::string_view text) {
  struct LastKey : json::json_sax_t {
    std::string last;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t &) override { return true; }
    bool string(string_t &) override { return true; }
    bool binary(binary_t &) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t &k) override {
      last = k;
      return true;
    }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string &, const json::exception &) override { return false; }
  } sax;
  (void)json::sax_parse(text, &sax);
  return sax.last;
}

std::string typeName(const json &value) {
  return value.is_number_integer() ? "integer" : std::string(value.type_name());
}

/// Validates the manifest; every message is prefixed with where it is.
class ManifestReader {
public:
  explicit ManifestReader(std::string origin) : prefix_(fmt::format("bundle '{}': {}: ", origin, kManifest)) {}

  Status error(std::string_view field, const std::string &what) const {
    return Status::errorf("{}{} {}", prefix_, field, what);
  }
  Status missing(std::string_view field) const { return error(field, "is missing"); }
  Status wrongType(std::string_view field, const json &value, std::string_view expected) const {
    return error(field, fmt::format("= {} has type {}; expected {}", show(value), typeName(value), expected));
  }

  /// `object[key]` when present, else nullptr.
  static const json *member(const json &object, std::string_view key) {
    auto it = object.find(std::string(key));
    return it == object.end() ? nullptr : &*it;
  }

  Expected<std::string> string(const json &object, std::string_view key, std::string_view field) const {
    const json *v = member(object, key);
    if (!v)
      return missing(field);
    if (!v->is_string())
      return wrongType(field, *v, "a string");
    return v->get<std::string>();
  }

  /// An integer in [lo, hi]; `rule` says why the range is what it is.
  Expected<int64_t> integer(const json &object, std::string_view key, std::string_view field, int64_t lo,
                            int64_t hi) const {
    const json *v = member(object, key);
    if (!v)
      return missing(field);
    if (!v->is_number_integer())
      return wrongType(field, *v, "an integer");
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      return error(field, fmt::format("= {} is out of range: must be in [{}, {}]", show(*v), lo, hi));
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi)
      return error(field, fmt::format("= {} is out of range: must be in [{}, {}]", x, lo, hi));
    return x;
  }

  Expected<bool> boolean(const json &object, std::string_view key, std::string_view field) const {
    const json *v = member(object, key);
    if (!v)
      return missing(field);
    if (!v->is_boolean())
      return wrongType(field, *v, "a boolean");
    return v->get<bool>();
  }

  /// A file name the manifest names: plain (no directories), present in the bundle.
  Expected<std::string> fileName(const json &object, std::string_view key, std::string_view field) const {
    auto name = string(object, key, field);
    if (!name)
      return name;
    if (name->empty() || *name == "." || *name == ".." ||
        name->find_first_of("/\\") != std::string::npos)
      return error(field, fmt::format("= {} is not a plain file name inside the bundle", quoteBounded(*name)));
    return name;
  }

  const std::string &prefix() const { return prefix_; }

private:
  std::string prefix_;
};

#define MOBAGEN_ASSIGN_OR_RETURN(lhs, expr)                                                          \
  auto lhs##_or = (expr);                                                                            \
  if (!lhs##_or)                                                                                     \
    return lhs##_or.status();                                                                        \
  auto lhs = std::move(*lhs##_or)

bool isVariantId(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

/// Parses "sm_80" / "sm_90a" into (major, minor, arch-specific).
std::optional<std::tuple<int, int, bool>> parseTarget(std::string_view target) {
  if (target.substr(0, 3) != "sm_")
    return std::nullopt;
  std::string_view digits = target.substr(3);
  bool specific = false;
  if (!digits.empty() && digits.back() == 'a') {
    specific = true;
    digits.remove_suffix(1);
  }
  if (digits.size() < 2 || digits.size() > 3 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int number = std::stoi(std::string(digits));
  return std::make_tuple(number / 10, number % 10, specific);
}

Expected<BundleConfig> readConfig(const ManifestReader &r, const json &manifest) {
  const json *c = ManifestReader::member(manifest, "config");
  if (!c)
    return r.missing("config");
  if (!c->is_object())
    return r.wrongType("config", *c, "an object");
  constexpr int64_t kInt32Max = INT32_MAX;
  BundleConfig config;
  MOBAGEN_ASSIGN_OR_RETURN(blockSize, r.integer(*c, "block_size", "config.block_size", 1, kInt32Max));
  MOBAGEN_ASSIGN_OR_RETURN(topK, r.integer(*c, "top_k", "config.top_k", 1, kInt32Max));
  MOBAGEN_ASSIGN_OR_RETURN(headDim, r.integer(*c, "head_dim", "config.head_dim", 1, 1024));
  // Query heads are a grid dimension (y <= 65535).
  MOBAGEN_ASSIGN_OR_RETURN(numQHeads, r.integer(*c, "num_q_heads", "config.num_q_heads", 1, 65535));
  MOBAGEN_ASSIGN_OR_RETURN(numKvHeads, r.integer(*c, "num_kv_heads", "config.num_kv_heads", 1, numQHeads));
  if (numQHeads % numKvHeads != 0)
    return r.error("config.num_kv_heads",
                   fmt::format("= {} does not divide num_q_heads = {}", numKvHeads, numQHeads));
  MOBAGEN_ASSIGN_OR_RETURN(causal, r.boolean(*c, "causal", "config.causal"));
  MOBAGEN_ASSIGN_OR_RETURN(dtype, r.string(*c, "dtype", "config.dtype"));
  if (dtype != "bf16" && dtype != "fp16")
    return r.error("config.dtype", fmt::format("= {} is not supported: expected \"bf16\" or \"fp16\"", quoteBounded(dtype)));
  MOBAGEN_ASSIGN_OR_RETURN(target, r.string(*c, "target", "config.target"));
  if (!parseTarget(target))
    return r.error("config.target",
                   fmt::format("= {} is not a GPU architecture: expected sm_<major><minor>[a], e.g. sm_80, sm_90a",
                               quoteBounded(target)));
  const json *scale = ManifestReader::member(*c, "scale");
  if (!scale)
    return r.missing("config.scale");
  if (!scale->is_null()) {
    if (!scale->is_number())
      return r.wrongType("config.scale", *scale, "a number or null");
    const double s = scale->get<double>();
    if (!std::isfinite(s) || s <= 0)
      return r.error("config.scale", fmt::format("= {} is invalid: must be finite and > 0", s));
    config.scale = s;
  }
  config.blockSize = blockSize;
  config.topK = topK;
  config.headDim = headDim;
  config.numQHeads = numQHeads;
  config.numKvHeads = numKvHeads;
  config.causal = causal;
  config.dtype = dtype == "bf16" ? DType::BF16 : DType::F16;
  config.target = target;
  return config;
}

/// The workspace of format 4, as the launcher allocates it (docs/bundle.md).
struct WorkspaceBuffer {
  std::string_view name, dtype;
  std::array<std::string_view, 4> shape; // unused trailing dimensions empty
};
constexpr WorkspaceBuffer kWorkspace[] = {
    {"kbar", "f32", {"total_blocks", "num_kv_heads", "head_dim", ""}},
    {"selected", "i32", {"total_q", "num_q_heads", "top_k", ""}},
    {"ranks", "i32", {"total_q", "num_q_heads", "top_k", ""}},
    {"block_counts", "i32", {"total_blocks", "num_q_heads", "", ""}},
    {"block_offsets", "i32", {"total_blocks", "num_q_heads", "", ""}},
    {"routed", "i32", {"total_q", "num_q_heads", "top_k", ""}},
    {"partial_out", "f32", {"total_q", "num_q_heads", "top_k", "head_dim"}},
    {"partial_lse", "f32", {"total_q", "num_q_heads", "top_k", ""}},
};

/// The grid a kernel of format 4 is launched on (docs/bundle.md).
std::array<std::string_view, 3> expectedGrid(size_t kernel) {
  constexpr std::string_view kByRows = "ceil(max_seqlen_q / rows_per_program)";
  constexpr std::string_view kByBlocks = "max_blocks_per_sequence";
  const std::string_view x = kKernelGridX[kernel] == GridX::QueryRows ? kByRows : kByBlocks;
  return {x, kernel == 0 ? "num_kv_heads" : "num_q_heads", "batch"};
}

Status readWorkspace(const ManifestReader &r, const json &manifest) {
  const json *w = ManifestReader::member(manifest, "workspace");
  if (!w)
    return r.missing("workspace");
  if (!w->is_array())
    return r.wrongType("workspace", *w, "an array of buffers");
  std::set<std::string> names;
  for (size_t i = 0; i < w->size(); ++i) {
    const std::string field = fmt::format("workspace[{}]", i);
    if (!(*w)[i].is_object())
      return r.wrongType(field, (*w)[i], "an object");
    auto name = r.string((*w)[i], "name", field + ".name");
    if (!name)
      return name.status();
    // The launcher allocates the workspace by name with its own types and
    // shapes; a manifest that says otherwise was written for another layout.
    auto known = std::find_if(std::begin(kWorkspace), std::end(kWorkspace),
                              [&](const WorkspaceBuffer &b) { return b.name == *name; });
    if (known == std::end(kWorkspace))
      return r.error(field + ".name", fmt::format("= {} is not a workspace buffer of format {}", quoteBounded(*name),
                                                  Bundle::kFormatVersion));
    if (!names.insert(*name).second)
      return r.error(field + ".name", fmt::format("= {} repeats an earlier buffer", quoteBounded(*name)));
    auto dtype = r.string((*w)[i], "dtype", field + ".dtype");
    if (!dtype)
      return dtype.status();
    if (*dtype != known->dtype)
      return r.error(field + ".dtype", fmt::format("= {} is not {}'s element type: expected \"{}\"",
                                                   quoteBounded(*dtype), known->name, known->dtype));
    const json *shape = ManifestReader::member((*w)[i], "shape");
    if (!shape)
      return r.missing(field + ".shape");
    json expected = json::array();
    for (std::string_view d : known->shape)
      if (!d.empty())
        expected.push_back(d);
    if (*shape != expected)
      return r.error(field + ".shape", fmt::format("= {} is not {}'s shape: expected {}", show(*shape), known->name,
                                                   expected.dump()));
  }
  for (const char *needed :
       {"kbar", "selected", "block_counts", "block_offsets", "routed", "partial_out", "partial_lse"})
    if (!names.count(needed))
      return r.error("workspace", fmt::format("has no buffer named \"{}\"", needed));
  return Status::success();
}

Expected<KernelVariant> readVariant(const ManifestReader &r, const json &v, const std::string &field,
                                    std::string_view kernel, const FileSource &source,
                                    std::map<std::string, std::string, std::less<>> &files) {
  if (!v.is_object())
    return r.wrongType(field, v, "an object");
  KernelVariant variant;
  MOBAGEN_ASSIGN_OR_RETURN(id, r.string(v, "id", field + ".id"));
  if (!isVariantId(id))
    return r.error(field + ".id", fmt::format("= {} is invalid: must be non-empty and only [a-z0-9]", quoteBounded(id)));
  MOBAGEN_ASSIGN_OR_RETURN(entry, r.string(v, "entry", field + ".entry"));
  const std::string expectedEntry = fmt::format("{}_{}", kernel, id);
  if (entry != expectedEntry)
    return r.error(field + ".entry", fmt::format("= {} does not match the variant: expected \"{}\"", quoteBounded(entry),
                                                 expectedEntry));
  MOBAGEN_ASSIGN_OR_RETURN(ptxFile, r.fileName(v, "ptx", field + ".ptx"));
  if (!files.count(ptxFile)) {
    auto bytes = source(ptxFile);
    if (!bytes)
      return r.error(field + ".ptx", fmt::format("= \"{}\": {}", ptxFile, bytes.status().message()));
    files.emplace(ptxFile, std::move(*bytes));
  }
  const std::string &ptx = files.find(ptxFile)->second;
  if (!ptxDeclaresEntry(ptx, entry))
    return r.error(field + ".entry",
                   fmt::format("= \"{}\" is not an .entry of {} (it declares {} entries)", entry, ptxFile,
                               ptxEntryCount(ptx)));
  if (size_t n = ptxEntryCount(ptx); n != 1)
    return r.error(field + ".ptx", fmt::format("= \"{}\" declares {} .entry kernels; a variant's module holds "
                                               "exactly one",
                                               ptxFile, n));
  if (ManifestReader::member(v, "cubin")) {
    MOBAGEN_ASSIGN_OR_RETURN(cubinFile, r.fileName(v, "cubin", field + ".cubin"));
    if (!files.count(cubinFile)) {
      auto bytes = source(cubinFile);
      if (!bytes)
        return r.error(field + ".cubin", fmt::format("= \"{}\": {}", cubinFile, bytes.status().message()));
      files.emplace(cubinFile, std::move(*bytes));
    }
    variant.cubinFile = cubinFile;
  }
  MOBAGEN_ASSIGN_OR_RETURN(threads, r.integer(v, "threads", field + ".threads", 32, 1024));
  if (threads % 32 != 0)
    return r.error(field + ".threads", fmt::format("= {} is invalid: must be a multiple of 32 in [32, 1024]",
                                                   threads));
  const size_t kind = size_t(std::find(kKernelNames.begin(), kKernelNames.end(), kernel) - kKernelNames.begin());
  const bool byRows = kKernelGridX[kind] == GridX::QueryRows;
  MOBAGEN_ASSIGN_OR_RETURN(rows, r.integer(v, "rows_per_program", field + ".rows_per_program", byRows ? 1 : 0,
                                           byRows ? 65536 : 0));
  MOBAGEN_ASSIGN_OR_RETURN(dynamicShared, r.integer(v, "dynamic_shared_bytes", field + ".dynamic_shared_bytes",
                                                    0, INT32_MAX));
  if (const json *knobs = ManifestReader::member(v, "knobs")) {
    if (!knobs->is_object())
      return r.wrongType(field + ".knobs", *knobs, "an object of integers");
    for (const auto &[name, value] : knobs->items()) {
      const bool plainName = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!plainName)
        return r.error(field + ".knobs", fmt::format("has the key {}: knob names are 1 to 64 of [a-z0-9_]",
                                                     quoteBounded(name)));
      auto knob = r.integer(*knobs, name, fmt::format("{}.knobs.{}", field, name), 0, INT32_MAX);
      if (!knob)
        return knob.status();
      variant.knobs.emplace_back(name, *knob);
    }
  }
  if (const json *res = ManifestReader::member(v, "resources")) {
    if (!res->is_object())
      return r.wrongType(field + ".resources", *res, "an object");
    VariantResources out;
    const std::pair<const char *, int64_t *> fields[] = {
        {"registers", &out.registers},           {"stack_bytes", &out.stackBytes},
        {"spill_store_bytes", &out.spillStoreBytes}, {"spill_load_bytes", &out.spillLoadBytes},
        {"shared_bytes", &out.sharedBytes}};
    for (const auto &[key, slot] : fields) {
      if (!ManifestReader::member(*res, key))
        continue; // a writer may report a subset
      auto value = r.integer(*res, key, fmt::format("{}.resources.{}", field, key), 0, INT32_MAX);
      if (!value)
        return value.status();
      *slot = *value;
    }
    variant.resources = out;
  }
  variant.id = id;
  variant.entry = entry;
  variant.ptxFile = ptxFile;
  variant.threads = uint32_t(threads);
  variant.rowsPerProgram = uint32_t(rows);
  variant.dynamicSharedBytes = uint32_t(dynamicShared);
  return variant;
}

Expected<BundleKernel> readKernel(const ManifestReader &r, const json &k, size_t index, const FileSource &source,
                                  std::map<std::string, std::string, std::less<>> &files) {
  const std::string field = fmt::format("kernels[{}]", index);
  if (!k.is_object())
    return r.wrongType(field, k, "an object");
  BundleKernel kernel;
  MOBAGEN_ASSIGN_OR_RETURN(name, r.string(k, "name", field + ".name"));
  if (name != kKernelNames[index])
    return r.error(field + ".name",
                   fmt::format("= {} is out of launch order: expected \"{}\" (order: {})", quoteBounded(name),
                               kKernelNames[index], kernelNameList()));
  kernel.name = name;
  const json *params = ManifestReader::member(k, "params");
  if (!params)
    return r.missing(field + ".params");
  if (!params->is_array())
    return r.wrongType(field + ".params", *params, "an array");
  if (params->size() != kKernelParamCounts[index])
    return r.error(field + ".params", fmt::format("has {} entries; {} takes {}", params->size(), name,
                                                  kKernelParamCounts[index]));
  for (size_t i = 0; i < params->size(); ++i) {
    const std::string pf = fmt::format("{}.params[{}]", field, i);
    if (!(*params)[i].is_object())
      return r.wrongType(pf, (*params)[i], "an object");
    MOBAGEN_ASSIGN_OR_RETURN(pname, r.string((*params)[i], "name", pf + ".name"));
    MOBAGEN_ASSIGN_OR_RETURN(ptype, r.string((*params)[i], "type", pf + ".type"));
    kernel.params.emplace_back(pname, ptype);
  }
  const json *grid = ManifestReader::member(k, "grid");
  if (!grid)
    return r.missing(field + ".grid");
  if (!grid->is_array() || grid->size() != 3)
    return r.wrongType(field + ".grid", *grid, "an array of 3 dimensions");
  // The launcher computes the grid itself; the strings document it and must
  // say what the launcher does, or the bundle was written for another launch.
  const auto wantGrid = expectedGrid(index);
  for (size_t d = 0; d < 3; ++d) {
    const json &dim = (*grid)[d];
    const std::string df = fmt::format("{}.grid[{}]", field, d);
    if (!dim.is_string())
      return r.wrongType(df, dim, "a string");
    if (dim.get<std::string>() != wantGrid[d])
      return r.error(df, fmt::format("= {} is not how {} is launched: expected \"{}\"",
                                     quoteBounded(dim.get<std::string>()), name, wantGrid[d]));
    kernel.grid.push_back(dim.get<std::string>());
  }
  const json *variants = ManifestReader::member(k, "variants");
  if (!variants)
    return r.missing(field + ".variants");
  if (!variants->is_array())
    return r.wrongType(field + ".variants", *variants, "an array");
  if (variants->empty())
    return r.error(field + ".variants", "is empty: a kernel needs at least one variant");
  for (size_t i = 0; i < variants->size(); ++i) {
    const std::string vf = fmt::format("{}.variants[{}]", field, i);
    MOBAGEN_ASSIGN_OR_RETURN(variant, readVariant(r, (*variants)[i], vf, name, source, files));
    if (kernel.findVariant(variant.id))
      return r.error(vf + ".id", fmt::format("= \"{}\" repeats an earlier variant of {}", variant.id, name));
    kernel.variants.push_back(std::move(variant));
  }
  return kernel;
}

uint64_t hashFiles(const std::map<std::string, std::string, std::less<>> &files) {
  XXH3_state_t *state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const auto &[name, bytes] : files) { // std::map: name order
    XXH3_64bits_update(state, name.data(), name.size() + 1); // with its NUL: names cannot run together
    uint8_t size[8];
    for (int i = 0; i < 8; ++i)
      size[i] = uint8_t(uint64_t(bytes.size()) >> (8 * i));
    XXH3_64bits_update(state, size, sizeof size);
    XXH3_64bits_update(state, bytes.data(), bytes.size());
  }
  const uint64_t digest = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return digest;
}

/// A bundle file: a PTX module is under 1 MB and a manifest under kMaxManifestBytes;
/// 256 MiB bounds what one read allocates. Errors carry the real cause (no such file,
/// permission denied, is a directory).
Expected<std::string> readWholeFile(const std::filesystem::path &path) {
  return readRegularFile(path.string(), uint64_t(256) << 20);
}

/// `source`, checking each file it returns against the manifest's "files" map
/// (name -> "xxh3_64:<16 hex digits>", written by mobagen generate). A manifest
/// without the map (hand-written) is read unchecked; with it, a file it does not
/// list or whose bytes hash differently is an error naming the file and both hashes.
Expected<FileSource> verifiedSource(const std::string &origin, const json &manifest,
                                    const FileSource &source) {
  const auto it = manifest.find("files");
  if (it == manifest.end())
    return source;
  if (!it->is_object())
    return Status::errorf("bundle '{}': manifest.json: files must be an object of name -> "
                          "\"xxh3_64:<hex>\"",
                          origin);
  std::map<std::string, std::string> expected;
  for (const auto &[name, value] : it->items()) {
    if (!value.is_string())
      return Status::errorf("bundle '{}': manifest.json: files.\"{}\" must be a string "
                            "\"xxh3_64:<16 hex digits>\"",
                            origin, name.substr(0, 64));
    expected.emplace(name, value.get<std::string>());
  }
  return FileSource([origin, source, expected = std::move(expected)](
                        const std::string &name) -> Expected<std::string> {
    auto bytes = source(name);
    if (!bytes)
      return bytes;
    const auto want = expected.find(name);
    if (want == expected.end())
      return Status::errorf("{} is not listed in manifest.json's files (no hash to check it "
                            "against)",
                            name);
    const std::string actual = fileHash(*bytes);
    if (actual != want->second)
      return Status::errorf("{} does not match its hash in manifest.json: expected {}, actual {} "
                            "(the file was changed or truncated; regenerate the bundle)",
                            name, want->second.substr(0, 40), actual);
    return bytes;
  });
}

Expected<Bundle> load(const std::string &origin, const FileSource &source) {
  const ManifestReader r(origin);
  auto text = source(std::string(kManifest));
  if (!text)
    return Status::errorf("bundle '{}': {}", origin, text.status().message());
  if (text->size() > kMaxManifestBytes)
    return Status::errorf("{}{} bytes exceed the limit of {} bytes", r.prefix(), text->size(), kMaxManifestBytes);
  MOBAGEN_RETURN_IF_ERROR(checkJsonDepth(*text, r.prefix()));
  json manifest;
  try {
    manifest = json::parse(*text);
  } catch (const json::exception &e) {
    const std::string key = lastKeyBeforeError(*text);
    return Status::errorf("{}not valid JSON{}: {}", r.prefix(),
                          key.empty() ? "" : fmt::format(" (in the value of {})", quoteBounded(key)),
                          jsonCause(e));
  }
  if (!manifest.is_object())
    return r.wrongType("the manifest", manifest, "an object");
  MOBAGEN_ASSIGN_OR_RETURN(format, r.string(manifest, "format", "format"));
  if (format != "mobagen-bundle")
    return r.error("format", fmt::format("= {} is not a mobagen kernel bundle: expected \"mobagen-bundle\"",
                                         quoteBounded(format)));
  const json *version = ManifestReader::member(manifest, "format_version");
  if (!version)
    return r.missing("format_version");
  if (!version->is_number_integer())
    return r.wrongType("format_version", *version, "an integer");
  if (version->get<int64_t>() != Bundle::kFormatVersion)
    return r.error("format_version",
                   fmt::format("= {} is not supported: this runtime reads format {}{}", version->get<int64_t>(),
                               Bundle::kFormatVersion,
                               version->get<int64_t>() == 1 ? " (regenerate the bundle with mobagen generate)"
                                                            : ""));
  MOBAGEN_ASSIGN_OR_RETURN(mobagenVersion, r.string(manifest, "mobagen_version", "mobagen_version"));
  std::string compiler;
  if (ManifestReader::member(manifest, "compiler")) {
    auto c = r.string(manifest, "compiler", "compiler");
    if (!c)
      return c.status();
    compiler = *c;
  }
  MOBAGEN_ASSIGN_OR_RETURN(config, readConfig(r, manifest));
  MOBAGEN_RETURN_IF_ERROR(readWorkspace(r, manifest));

  const json *kernels = ManifestReader::member(manifest, "kernels");
  if (!kernels)
    return r.missing("kernels");
  if (!kernels->is_array())
    return r.wrongType("kernels", *kernels, "an array");
  if (kernels->size() != kKernelCount)
    return r.error("kernels", fmt::format("has {} entries; expected {} ({})", kernels->size(), kKernelCount,
                                          kernelNameList()));
  MOBAGEN_ASSIGN_OR_RETURN(verified, verifiedSource(origin, manifest, source));
  std::map<std::string, std::string, std::less<>> files;
  files.emplace(std::string(kManifest), std::move(*text));
  std::array<BundleKernel, kKernelCount> parsed;
  for (size_t i = 0; i < kKernelCount; ++i) {
    MOBAGEN_ASSIGN_OR_RETURN(kernel, readKernel(r, (*kernels)[i], i, verified, files));
    parsed[i] = std::move(kernel);
  }
  return Bundle::make(std::move(config), std::move(parsed), std::move(files), mobagenVersion, compiler,
                      origin, hashFiles(files));
}

} // namespace

std::string BundleConfig::canonical() const {
  return fmt::format("block_size={} top_k={} head_dim={} num_q_heads={} num_kv_heads={} causal={} dtype={} "
                     "target={} scale={}",
                     blockSize, topK, headDim, numQHeads, numKvHeads, causal ? "true" : "false",
                     dtypeName(dtype), target, scale ? fmt::format("{:.17g}", *scale) : "default");
}

std::optional<size_t> BundleKernel::findVariant(std::string_view id) const {
  for (size_t i = 0; i < variants.size(); ++i)
    if (variants[i].id == id)
      return i;
  return std::nullopt;
}

Bundle Bundle::make(BundleConfig config, std::array<BundleKernel, kKernelCount> kernels,
                    std::map<std::string, std::string, std::less<>> files, std::string mobagenVersion,
                    std::string compiler, std::string origin, uint64_t hash) {
  Bundle b;
  b.config_ = std::move(config);
  b.kernels_ = std::move(kernels);
  b.files_ = std::move(files);
  b.mobagenVersion_ = std::move(mobagenVersion);
  b.compiler_ = std::move(compiler);
  b.origin_ = std::move(origin);
  b.hash_ = hash;
  return b;
}

Expected<Bundle> Bundle::fromDirectory(const std::filesystem::path &dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::errorf("bundle '{}': {}", dir.string(),
                          std::filesystem::exists(dir, ec) ? "not a directory" : "no such directory");
  return load(dir.string(), [&](const std::string &name) { return readWholeFile(dir / name); });
}

Expected<Bundle> Bundle::fromFiles(const std::vector<FileView> &files, std::string_view origin) {
  std::map<std::string_view, std::string_view> byName;
  for (size_t i = 0; i < files.size(); ++i)
    if (!byName.emplace(files[i].name, files[i].bytes).second)
      return Status::errorf("bundle '{}': file {} is named \"{}\", like an earlier file: names must be unique",
                            origin, i, files[i].name);
  return load(std::string(origin), [&](const std::string &name) -> Expected<std::string> {
    auto it = byName.find(name);
    if (it == byName.end())
      return Status::errorf("no file named \"{}\" among the bundle's {} files", name, files.size());
    return std::string(it->second);
  });
}

std::string_view Bundle::ptx(KernelKind kind, size_t variant) const {
  return file(kernels_[size_t(kind)].variants[variant].ptxFile);
}

std::string_view Bundle::file(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? std::string_view() : std::string_view(it->second);
}

Status checkTargetRuns(std::string_view target, int major, int minor) {
  auto parsed = parseTarget(target);
  if (!parsed)
    return Status::errorf("target '{}' is not a GPU architecture (sm_<major><minor>[a])", target);
  const auto [tMajor, tMinor, specific] = *parsed;
  const bool runs = specific ? (major == tMajor && minor == tMinor)
                             : (major > tMajor || (major == tMajor && minor >= tMinor));
  if (runs)
    return Status::success();
  return Status::errorf("the bundle's target {} cannot run on a device of compute capability {}.{}: {} needs {}",
                        target, major, minor, target,
                        specific ? fmt::format("exactly {}.{}", tMajor, tMinor)
                                 : fmt::format("{}.{} or later", tMajor, tMinor));
}

namespace {
bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}
/// Calls `visit(name)` for each `.entry name` in `ptx`.
template <typename F> void forEachEntry(std::string_view ptx, F visit) {
  constexpr std::string_view kEntry = ".entry";
  for (size_t at = ptx.find(kEntry); at != std::string_view::npos; at = ptx.find(kEntry, at + 1)) {
    const size_t end = at + kEntry.size();
    if ((at > 0 && isIdentChar(ptx[at - 1])) || end >= ptx.size() || !(ptx[end] == ' ' || ptx[end] == '\t'))
      continue;
    size_t b = end;
    while (b < ptx.size() && (ptx[b] == ' ' || ptx[b] == '\t'))
      ++b;
    size_t e = b;
    while (e < ptx.size() && isIdentChar(ptx[e]))
      ++e;
    if (e > b)
      visit(ptx.substr(b, e - b));
  }
}
} // namespace

bool ptxDeclaresEntry(std::string_view ptx, std::string_view entry) {
  bool found = false;
  forEachEntry(ptx, [&](std::string_view name) { found = found || name == entry; });
  return found;
}

size_t ptxEntryCount(std::string_view ptx) {
  size_t n = 0;
  forEachEntry(ptx, [&](std::string_view) { ++n; });
  return n;
}

std::string kernelNameList() {
  std::string list;
  for (std::string_view name : kKernelNames)
    list += fmt::format("{}{}", list.empty() ? "" : ", ", name);
  return list;
}

} // namespace mobagen::bundle
