//===- GenerateCommand.cpp - `mobagen generate`: a configuration's kernel bundle
//
// Writes, for one MoBA configuration, bundle format v2 (docs/bundle.md): one PTX
// module per tuning variant of each kernel (all variants of the tuning space, or
// each kernel's default), a manifest that says how to launch them, with --cubin a
// cubin per variant and ptxas's resources, and with --header NAME a C header that
// embeds every file of the bundle. The bundle is what a host without LLVM/MLIR
// loads.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/mobagen/Commands.h"
#include "tools/mobagen/InProcessBundle.h"
#include "tools/mobagen/OutputSet.h"
#include "tools/mobagen/ScaleOption.h"

namespace mobagen::cli {
namespace {

struct GenerateOptions {
  compiler::MobaKernelConfig config;
  std::string dtype = "bf16";
  double scale = 0.0;
  bool haveScale = false;
  bool cubin = false;
  std::string variants = "all";
  std::string header;
  unsigned threads = 0;
  unsigned optLevel = 3;
  std::string outputDir = "mobagen-bundle";
};

/// A C identifier that is not a C or C++ keyword (the header's names start with it).
Status checkHeaderName(const std::string &name) {
  static const std::set<std::string> keywords = {
      "auto", "bool", "break", "case", "char", "class", "const", "continue", "default",
      "delete", "do", "double", "else", "enum", "extern", "false", "float", "for", "goto",
      "if", "inline", "int", "long", "namespace", "new", "operator", "private", "protected",
      "public", "register", "restrict", "return", "short", "signed", "sizeof", "static",
      "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename",
      "union", "unsigned", "using", "virtual", "void", "volatile", "while"};
  const bool identifier =
      !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
      std::all_of(name.begin(), name.end(), [](char ch) {
        return ch == '_' || std::isalnum(static_cast<unsigned char>(ch));
      });
  if (!identifier)
    return Status::errorf("--header '{}' is not a C identifier (letters, digits and '_', not "
                          "starting with a digit)",
                          name);
  if (keywords.count(name))
    return Status::errorf("--header '{}' is a C/C++ keyword; pick another name", name);
  return Status::success();
}

/// The C header embedding `files` (docs/bundle.md, "Embedding header").
std::string embeddingHeader(const std::string &name, const BundleFiles &files) {
  std::string out = fmt::format(
      "/* {0}.h: a mobagen kernel bundle embedded in C (docs/bundle.md), written by\n"
      "   `mobagen generate --header {0}`. C99 and C++. */\n"
      "#ifndef MOBAGEN_BUNDLE_FILE_DEFINED\n"
      "#define MOBAGEN_BUNDLE_FILE_DEFINED\n"
      "#include <stddef.h>\n"
      "typedef struct mobagen_bundle_file {{\n"
      "  const char *name;           /* file name inside the bundle, e.g. \"manifest.json\" */\n"
      "  const unsigned char *data;  /* its bytes (not NUL-terminated) */\n"
      "  size_t size;\n"
      "}} mobagen_bundle_file;\n"
      "#endif\n"
      "#ifndef MOBAGEN_BUNDLE_UNUSED\n"
      "#if defined(__GNUC__)\n"
      "#define MOBAGEN_BUNDLE_UNUSED __attribute__((unused))\n"
      "#else\n"
      "#define MOBAGEN_BUNDLE_UNUSED\n"
      "#endif\n"
      "#endif\n",
      name);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string &bytes = files[i].second;
    out += fmt::format("static const unsigned char {}_data_{}[{}] = {{", name, i,
                       std::max<size_t>(bytes.size(), 1));
    for (size_t j = 0; j < bytes.size(); ++j)
      out += fmt::format("{}0x{:02x},", j % 16 == 0 ? "\n  " : "",
                         static_cast<unsigned char>(bytes[j]));
    out += bytes.empty() ? "0};\n" : "\n};\n";
  }
  out += fmt::format("static const mobagen_bundle_file {}_files[] MOBAGEN_BUNDLE_UNUSED = {{\n",
                     name);
  for (size_t i = 0; i < files.size(); ++i)
    out += fmt::format("  {{\"{}\", {}_data_{}, {}}},\n", files[i].first, name, i,
                       files[i].second.size());
  out += fmt::format("}};\nstatic const size_t {}_file_count MOBAGEN_BUNDLE_UNUSED = {};\n", name,
                     files.size());
  return out;
}

int generateCommand(GenerateOptions o) {
  auto fail = [](const Status &status) {
    fmt::print(stderr, "mobagen generate: error: {}\n", status.message());
    return kExitFailure;
  };
  if (!o.header.empty())
    if (Status s = checkHeaderName(o.header); !s)
      return fail(s);
  o.config.dtype = *parseDType(o.dtype);
  if (o.haveScale) {
    if (Status s = checkScaleOption(o.scale); !s)
      return fail(s);
    o.config.scale = o.scale;
  }
  // The destination is checked before the (long) generation.
  if (Status s = checkBundleDestination(o.outputDir); !s)
    return fail(s);
  auto files = generateBundle(
      o.config, {.allVariants = o.variants == "all",
                 .cubin = o.cubin,
                 .threads = o.threads,
                 .optLevel = o.optLevel});
  if (!files)
    return fail(files.status());
  const auto &c = o.config;
  const size_t variantCount = bundleVariantCount(*files);

  // The bundle (and the header) go into a temporary directory beside the
  // destination and replace it whole: a failed or killed generate leaves the
  // previous bundle, never a mix.
  BundleFiles published = *files;
  if (!o.header.empty())
    published.emplace_back(o.header + ".h", embeddingHeader(o.header, *files));
  if (Status s = publishDirectory(o.outputDir, published); !s)
    return fail(s);
  fmt::print("mobagen generate: wrote manifest.json and {} kernel variant(s){}{} to {}\n",
             variantCount, o.cubin ? fmt::format(" with {} cubins", c.target) : "",
             o.header.empty() ? "" : fmt::format(", {}.h", o.header), o.outputDir);
  return kExitOk;
}

} // namespace

std::function<int()> addGenerateCommand(CLI::App &app) {
  auto options = std::make_shared<GenerateOptions>();
  GenerateOptions &o = *options;
  CLI::App *gen = app.add_subcommand(
      "generate", "Generate a configuration's MoBA kernels: PTX per tuning variant, manifest");
  gen->footer("Writes <kernel>.<variant>.ptx for the five kernels of a forward (pool_keys, gate_topk,\n"
              "route_scatter, sparse_attention_blocks, sparse_attention_merge)\n"
              "(every tuning variant, or the defaults with --variants default) and\n"
              "manifest.json (configuration, kernels, parameters, variants, launch shapes;\n"
              "with --cubin also a cubin per variant and ptxas's registers, spills and shared\n"
              "memory) to --output-dir; with --header NAME also NAME.h, a C header embedding\n"
              "those files. Format: docs/bundle.md.");
  gen->add_option("--block-size", o.config.blockSize, "Keys per block")->capture_default_str();
  gen->add_option("--top-k", o.config.topK, "Blocks per query")->capture_default_str();
  gen->add_option("--head-dim", o.config.headDim, "Head dimension D")->capture_default_str();
  gen->add_option("--num-q-heads", o.config.numQHeads, "Query heads Hq")->capture_default_str();
  gen->add_option("--num-kv-heads", o.config.numKvHeads, "Key/value heads Hkv")
      ->capture_default_str();
  gen->add_flag("--causal,!--non-causal", o.config.causal, "Causal (default) or non-causal");
  gen->add_option("--dtype", o.dtype, "Element type")
      ->check(CLI::IsMember({"bf16", "fp16"}))
      ->capture_default_str();
  gen->add_option("--target", o.config.target, "GPU architecture: sm_80, sm_90, sm_90a")
      ->capture_default_str();
  gen->add_option("--scale", o.scale, kScaleHelp)
      ->each([&o](const std::string &) { o.haveScale = true; });
  gen->add_option("--variants", o.variants,
                  "Tuning variants per kernel: all (the tuning space) or default")
      ->check(CLI::IsMember({"all", "default"}))
      ->capture_default_str();
  gen->add_flag("--cubin", o.cubin, "Also assemble a cubin per variant for --target (nvJitLink)");
  gen->add_option("--header", o.header,
                  "Also write NAME.h, a C header embedding the bundle (NAME: a C identifier)");
  gen->add_option("--threads", o.threads, "Threads generating variants (0: one per core)")
      ->capture_default_str();
  gen->add_option("--opt-level", o.optLevel,
                  "LLVM -O level before PTX code generation: 3, or 2 to generate ~20% faster "
                  "(docs/perf.md), or 1")
      ->check(CLI::Range(1u, 3u))
      ->capture_default_str();
  gen->add_option("-o,--output-dir", o.outputDir, "Bundle directory")->capture_default_str();
  return [options] { return generateCommand(*options); };
}

} // namespace mobagen::cli
