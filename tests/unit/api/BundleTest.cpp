// Loading format-2 bundles: what a valid bundle yields, the bundle hash, and one
// test per validation error (the message names the file, the field and the value).
#include "runtime/bundle/Bundle.h"
#include "tests/unit/api/TestBundles.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mobagen::testing {
namespace {

using bundle::Bundle;
using bundle::KernelKind;
using json = nlohmann::json;

std::vector<bundle::FileView> views(const cli::BundleFiles &files) {
  std::vector<bundle::FileView> v;
  for (const auto &[name, bytes] : files)
    v.push_back({name, bytes});
  return v;
}

/// Loads an edited copy and returns the error message ("" if it loaded).
std::string loadError(const std::string &name, const std::function<void(json &)> &edit,
                      const std::function<void(cli::BundleFiles &)> &editFiles = {}) {
  auto loaded = Bundle::fromDirectory(editedBundle(smallBundle(), name, edit, editFiles));
  return loaded ? std::string() : loaded.status().message();
}

TEST(Bundle, LoadsConfigKernelsAndVariants) {
  auto b = Bundle::fromDirectory(smallBundle().dir);
  ASSERT_TRUE(b) << b.status().message();
  const bundle::BundleConfig &c = b->config();
  EXPECT_EQ(c.blockSize, 16);
  EXPECT_EQ(c.topK, 3);
  EXPECT_EQ(c.headDim, 64);
  EXPECT_EQ(c.numQHeads, 4);
  EXPECT_EQ(c.numKvHeads, 2);
  EXPECT_TRUE(c.causal);
  EXPECT_EQ(c.dtype, DType::BF16);
  EXPECT_EQ(c.target, "sm_80");
  EXPECT_FALSE(c.scale.has_value());
  EXPECT_EQ(c.canonical(), "block_size=16 top_k=3 head_dim=64 num_q_heads=4 num_kv_heads=2 causal=true "
                           "dtype=bf16 target=sm_80 scale=default");
  EXPECT_EQ(b->mobagenVersion(), "0.1.0");

  const bundle::BundleKernel &pool = b->kernel(KernelKind::PoolKeys);
  ASSERT_EQ(pool.variants.size(), 2u);
  EXPECT_EQ(pool.variants[0].id, "w2");
  EXPECT_EQ(pool.variants[0].entry, "pool_keys_w2");
  EXPECT_EQ(pool.variants[0].ptxFile, "pool_keys.w2.ptx");
  EXPECT_EQ(pool.variants[0].threads, 64u);
  EXPECT_EQ(pool.variants[0].rowsPerProgram, 0u);
  EXPECT_EQ(pool.variants[1].id, "w4");
  EXPECT_EQ(pool.variants[1].threads, 128u);
  EXPECT_EQ(pool.params.size(), 4u);
  EXPECT_EQ(pool.findVariant("w4"), std::optional<size_t>(1));
  EXPECT_EQ(pool.findVariant("w64"), std::nullopt);

  const bundle::BundleKernel &gate = b->kernel(KernelKind::GateTopK);
  ASSERT_EQ(gate.variants.size(), 2u);
  EXPECT_EQ(gate.variants[1].id, "m16w4");
  EXPECT_EQ(gate.variants[1].rowsPerProgram, 16u);
  EXPECT_EQ(gate.params.size(), 7u);
  const bundle::BundleKernel &scatter = b->kernel(KernelKind::RouteScatter);
  ASSERT_EQ(scatter.variants.size(), 1u);
  EXPECT_EQ(scatter.variants[0].id, "r64b64w4");
  EXPECT_EQ(scatter.variants[0].rowsPerProgram, 64u);
  EXPECT_EQ(scatter.params.size(), 7u);
  const bundle::BundleKernel &blocks = b->kernel(KernelKind::SparseAttentionBlocks);
  ASSERT_EQ(blocks.variants.size(), 1u);
  EXPECT_EQ(blocks.variants[0].id, "m32n16w4r"); // the 16-key block resident, one key tile
  EXPECT_EQ(blocks.params.size(), 10u);
  const bundle::BundleKernel &merge = b->kernel(KernelKind::SparseAttentionMerge);
  EXPECT_EQ(merge.variants[0].rowsPerProgram, 64u);
  EXPECT_EQ(merge.params.size(), 11u);
  EXPECT_TRUE(bundle::ptxDeclaresEntry(b->ptx(KernelKind::SparseAttentionMerge, 0), "sparse_attention_merge_m64n16w8s2"));
  EXPECT_EQ(bundle::ptxEntryCount(b->ptx(KernelKind::GateTopK, 1)), 1u);
}

TEST(Bundle, EmbeddedFilesLoadLikeTheDirectoryAndHashTheSame) {
  auto fromDir = Bundle::fromDirectory(smallBundle().dir);
  auto fromMemory = Bundle::fromFiles(views(smallBundle().files), "small_bundle");
  ASSERT_TRUE(fromDir) << fromDir.status().message();
  ASSERT_TRUE(fromMemory) << fromMemory.status().message();
  EXPECT_NE(fromDir->hash(), 0u);
  EXPECT_EQ(fromDir->hash(), fromMemory->hash());
  EXPECT_EQ(fromMemory->origin(), "small_bundle");
  EXPECT_EQ(fromMemory->kernel(KernelKind::GateTopK).variants[1].entry, "gate_topk_m16w4");
}

TEST(Bundle, HashCoversNamedFilesOnly) {
  auto base = Bundle::fromDirectory(smallBundle().dir);
  ASSERT_TRUE(base);
  // A file the manifest does not name (e.g. the embedding header) changes nothing.
  auto withHeader = Bundle::fromDirectory(editedBundle(smallBundle(), "hash-extra", {}, [](cli::BundleFiles &f) {
    f.emplace_back("small.h", "/* embedding header */");
  }));
  ASSERT_TRUE(withHeader);
  EXPECT_EQ(withHeader->hash(), base->hash());
  // One more byte in one kernel's PTX changes it.
  auto changedPtx = Bundle::fromDirectory(editedBundle(smallBundle(), "hash-ptx", {}, [](cli::BundleFiles &f) {
    for (auto &[name, bytes] : f)
      if (name == "gate_topk.m16w4.ptx")
        bytes += "\n// edited\n";
  }));
  ASSERT_TRUE(changedPtx);
  EXPECT_NE(changedPtx->hash(), base->hash());
}

TEST(Bundle, UnknownFieldsAreTolerated) {
  EXPECT_EQ(loadError("unknown-fields",
                      [](json &m) {
                        m["generated_at"] = "2026-11-28";
                        m["config"]["future_knob"] = {1, 2};
                        m["kernels"][1]["variants"][0]["occupancy"] = 0.5;
                        m["kernels"][2]["notes"] = "x";
                      }),
            "");
}

TEST(Bundle, CubinAndResourcesAreRead) {
  auto dir = editedBundle(
      smallBundle(), "cubin",
      [](json &m) {
        m["kernels"][0]["variants"][0]["cubin"] = "pool_keys.w2.sm_80.cubin";
        m["kernels"][0]["variants"][0]["resources"] = {{"registers", 40}, {"stack_bytes", 0},
                                                       {"spill_store_bytes", 0}, {"spill_load_bytes", 0},
                                                       {"shared_bytes", 4096}};
      },
      [](cli::BundleFiles &f) { f.emplace_back("pool_keys.w2.sm_80.cubin", std::string("\x7f" "ELF", 4)); });
  auto b = Bundle::fromDirectory(dir);
  ASSERT_TRUE(b) << b.status().message();
  const bundle::KernelVariant &v = b->kernel(KernelKind::PoolKeys).variants[0];
  EXPECT_EQ(v.cubinFile, "pool_keys.w2.sm_80.cubin");
  ASSERT_TRUE(v.resources);
  EXPECT_EQ(v.resources->registers, 40);
  EXPECT_EQ(v.resources->sharedBytes, 4096);
  EXPECT_EQ(b->file("pool_keys.w2.sm_80.cubin").size(), 4u);
}

TEST(BundleErrors, MissingDirectoryAndManifest) {
  auto none = Bundle::fromDirectory(scratchDir("nothing") / "absent");
  ASSERT_FALSE(none);
  EXPECT_NE(none.status().message().find("absent': no such directory"), std::string::npos) << none.status().message();
  auto empty = Bundle::fromDirectory(scratchDir("empty"));
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.status().message().find("empty/manifest.json: no such file"), std::string::npos)
      << empty.status().message();
}

TEST(BundleErrors, ManifestNotJson) {
  const std::string e = loadError("not-json", {}, [](cli::BundleFiles &f) { f.front().second = "{\"format\": "; });
  EXPECT_NE(e.find("manifest.json: not valid JSON"), std::string::npos) << e;
}

// Found by tests/fuzz/manifest_fuzzer (corpus: number_overflow.json): nlohmann throws
// out_of_range, not parse_error, for a number no double holds.
TEST(BundleErrors, NumberOverflowIsInvalidJson) {
  const std::string e = loadError("overflow", {}, [](cli::BundleFiles &f) {
    f.front().second = "{\"format\": \"mobagen-bundle\", \"format_version\": 1e400}";
  });
  EXPECT_NE(e.find("manifest.json: not valid JSON (in the value of \"format_version\"): number overflow parsing '1e400'"),
            std::string::npos)
      << e;
}

// Found by tests/fuzz/manifest_fuzzer (corpus: deep_100000.json): the message for a
// wrongly typed value serialized it recursively and overflowed the stack.
TEST(BundleErrors, DeepNestingIsRefusedBeforeParsing) {
  const std::string e = loadError("deep", {}, [](cli::BundleFiles &f) {
    f.front().second = "{\"config\": {\"block_size\": " + std::string(100000, '[') + std::string(100000, ']') + "}}";
  });
  EXPECT_NE(e.find("manifest.json: nesting deeper than 64 levels at byte"), std::string::npos)
      << e;
  // 64 levels are still parsed (and then refused for what they hold).
  const std::string ok = loadError("deep64", {}, [](cli::BundleFiles &f) {
    f.front().second = std::string(63, '[') + "{}" + std::string(63, ']');
  });
  EXPECT_NE(ok.find("the manifest = "), std::string::npos) << ok;
}

TEST(BundleErrors, FormatAndVersion) {
  EXPECT_NE(loadError("format", [](json &m) { m["format"] = "onnx"; })
                .find("manifest.json: format = \"onnx\" is not a mobagen kernel bundle"),
            std::string::npos);
  const std::string v1 = loadError("v1", [](json &m) { m["format_version"] = 1; });
  EXPECT_NE(v1.find("format_version = 1 is not supported: this runtime reads format 4"), std::string::npos) << v1;
  const std::string text = loadError("v-text", [](json &m) { m["format_version"] = "2"; });
  EXPECT_NE(text.find("format_version = \"2\" has type string; expected an integer"), std::string::npos) << text;
  const std::string missing = loadError("no-version", [](json &m) { m.erase("mobagen_version"); });
  EXPECT_NE(missing.find("mobagen_version is missing"), std::string::npos) << missing;
}

TEST(BundleErrors, ConfigFieldTypesAndRanges) {
  const std::pair<std::function<void(json &)>, std::string> cases[] = {
      {[](json &m) { m["config"]["block_size"] = 0; },
       "config.block_size = 0 is out of range: must be in [1, 2147483647]"},
      {[](json &m) { m["config"]["block_size"] = "512"; },
       "config.block_size = \"512\" has type string; expected an integer"},
      {[](json &m) { m["config"]["top_k"] = 1.5; }, "config.top_k = 1.5 has type number; expected an integer"},
      {[](json &m) { m["config"]["head_dim"] = 4096; }, "config.head_dim = 4096 is out of range: must be in [1, 1024]"},
      {[](json &m) { m["config"]["num_kv_heads"] = 5; }, "config.num_kv_heads = 5 is out of range: must be in [1, 4]"},
      {[](json &m) {
         m["config"]["num_q_heads"] = 6;
         m["config"]["num_kv_heads"] = 4;
       },
       "config.num_kv_heads = 4 does not divide num_q_heads = 6"},
      {[](json &m) { m["config"]["causal"] = 1; }, "config.causal = 1 has type integer; expected a boolean"},
      {[](json &m) { m["config"]["dtype"] = "fp32"; },
       "config.dtype = \"fp32\" is not supported: expected \"bf16\" or \"fp16\""},
      {[](json &m) { m["config"]["target"] = "gfx90a"; }, "config.target = \"gfx90a\" is not a GPU architecture"},
      {[](json &m) { m["config"]["scale"] = -0.5; }, "config.scale = -0.5 is invalid: must be finite and > 0"},
      {[](json &m) { m["config"].erase("scale"); }, "config.scale is missing"},
      {[](json &m) { m["config"] = 3; }, "config = 3 has type integer; expected an object"},
  };
  int i = 0;
  for (const auto &[edit, expected] : cases) {
    const std::string e = loadError(fmt::format("config-{}", i++), edit);
    EXPECT_NE(e.find("manifest.json: " + expected), std::string::npos) << "expected: " << expected << "\ngot: " << e;
  }
}

TEST(BundleErrors, WorkspaceAndKernelList) {
  const std::pair<std::function<void(json &)>, std::string> cases[] = {
      {[](json &m) { m["workspace"].erase(1); }, "workspace has no buffer named \"selected\""},
      {[](json &m) { m["workspace"] = {{"kbar", "f32"}, {"selected", "i32"}}; }, // format 1's object
       "workspace = {\"kbar\":\"f32\",\"selected\":\"i32\"} has type object; expected an array of buffers"},
      {[](json &m) { m["kernels"].erase(2); },
       "kernels has 4 entries; expected 5 (pool_keys, gate_topk, route_scatter, "
       "sparse_attention_blocks, sparse_attention_merge)"},
      {[](json &m) { std::swap(m["kernels"][0], m["kernels"][1]); },
       "kernels[0].name = \"gate_topk\" is out of launch order: expected \"pool_keys\""},
      {[](json &m) { m["kernels"][3]["params"].erase(8); },
       "kernels[3].params has 9 entries; sparse_attention_blocks takes 10"},
      {[](json &m) { m["kernels"][2]["variants"][0]["rows_per_program"] = 0; },
       "kernels[2].variants[0].rows_per_program = 0 is out of range: must be in [1, 65536]"},
      {[](json &m) { m["kernels"][3]["variants"][0]["rows_per_program"] = 4; },
       "kernels[3].variants[0].rows_per_program = 4 is out of range: must be in [0, 0]"},
      {[](json &m) { m["kernels"][1]["grid"] = {"x"}; }, "kernels[1].grid = [\"x\"] has type array; expected an "
                                                          "array of 3 dimensions"},
      {[](json &m) { m["kernels"][1]["variants"] = json::array(); },
       "kernels[1].variants is empty: a kernel needs at least one variant"},
  };
  int i = 0;
  for (const auto &[edit, expected] : cases) {
    const std::string e = loadError(fmt::format("kernels-{}", i++), edit);
    EXPECT_NE(e.find(expected), std::string::npos) << "expected: " << expected << "\ngot: " << e;
  }
}

TEST(BundleErrors, DeepOrOverflowingJsonIsAnErrorNamingTheField) {
  // 100,000 nested arrays used to parse, then overflow the stack when the type
  // error serialized the value.
  const std::string deep = loadError("deep", {}, [](cli::BundleFiles &f) {
    auto &text = f.front().second;
    const size_t at = text.find("\"block_size\":");
    ASSERT_NE(at, std::string::npos);
    const size_t value = text.find_first_of("0123456789", at);
    const size_t end = text.find_first_not_of("0123456789", value);
    text = text.substr(0, value) + std::string(100000, '[') + std::string(100000, ']') + text.substr(end);
  });
  EXPECT_THAT(deep, ::testing::HasSubstr("manifest.json: nesting deeper than 64 levels at byte "));
  EXPECT_THAT(deep, ::testing::HasSubstr(": a manifest nests at most 64"));
  const std::string overflow = loadError("overflow", {}, [](cli::BundleFiles &f) {
    auto &text = f.front().second;
    const size_t at = text.find("\"scale\":");
    ASSERT_NE(at, std::string::npos);
    const size_t end = text.find_first_of(",}", at);
    text = text.substr(0, at) + "\"scale\": 1e400" + text.substr(end);
  });
  EXPECT_THAT(overflow, ::testing::HasSubstr("manifest.json: not valid JSON (in the value of \"scale\"): number "
                                             "overflow parsing '1e400'"));
  EXPECT_EQ(overflow.find("[json.exception"), std::string::npos) << overflow;
}

TEST(BundleErrors, WorkspaceGridAndKnobsAreValidated) {
  const std::pair<std::function<void(json &)>, std::string> cases[] = {
      {[](json &m) { m["workspace"][0]["dtype"] = "f16"; },
       "workspace[0].dtype = \"f16\" is not kbar's element type: expected \"f32\""},
      {[](json &m) { m["workspace"][1]["shape"] = {"total_q", "num_q_heads"}; },
       "workspace[1].shape = [\"total_q\",\"num_q_heads\"] is not selected's shape: expected "
       "[\"total_q\",\"num_q_heads\",\"top_k\"]"},
      {[](json &m) { m["workspace"][2]["name"] = "scratch"; },
       "workspace[2].name = \"scratch\" is not a workspace buffer of format 4"},
      {[](json &m) { m["workspace"][2]["name"] = "kbar"; }, "workspace[2].name = \"kbar\" repeats an earlier buffer"},
      {[](json &m) { m["kernels"][1]["grid"][0] = "num_q_heads"; },
       "kernels[1].grid[0] = \"num_q_heads\" is not how gate_topk is launched: expected "
       "\"ceil(max_seqlen_q / rows_per_program)\""},
      {[](json &m) { m["kernels"][0]["grid"][2] = 1; }, "kernels[0].grid[2] = 1 has type integer; expected a string"},
      {[](json &m) { m["kernels"][0]["variants"][0]["knobs"]["num_warps"] = -2; },
       "kernels[0].variants[0].knobs.num_warps = -2 is out of range: must be in [0, 2147483647]"},
      {[](json &m) { m["kernels"][0]["variants"][0]["knobs"]["Bad Name"] = 1; },
       "kernels[0].variants[0].knobs has the key \"Bad Name\": knob names are 1 to 64 of [a-z0-9_]"},
  };
  int i = 0;
  for (const auto &[edit, expected] : cases) {
    const std::string e = loadError(fmt::format("validated-{}", i++), edit);
    EXPECT_NE(e.find("manifest.json: " + expected), std::string::npos) << "expected: " << expected << "\ngot: " << e;
  }
}

TEST(BundleErrors, Variants) {
  const std::pair<std::function<void(json &)>, std::string> cases[] = {
      {[](json &m) { m["kernels"][0]["variants"][1]["id"] = "R32-w4"; },
       "kernels[0].variants[1].id = \"R32-w4\" is invalid: must be non-empty and only [a-z0-9]"},
      {[](json &m) { m["kernels"][1]["variants"][1] = m["kernels"][1]["variants"][0]; },
       "kernels[1].variants[1].id = \"m16w2\" repeats an earlier variant of gate_topk"},
      {[](json &m) { m["kernels"][0]["variants"][0]["entry"] = "pool_keys"; },
       "kernels[0].variants[0].entry = \"pool_keys\" does not match the variant: expected \"pool_keys_w2\""},
      {[](json &m) { m["kernels"][0]["variants"][0]["ptx"] = "../pool_keys.w2.ptx"; },
       "kernels[0].variants[0].ptx = \"../pool_keys.w2.ptx\" is not a plain file name inside the bundle"},
      {[](json &m) {
         m["kernels"][0]["variants"][1]["ptx"] = "pool_keys.w2.ptx"; // declares pool_keys_w2 only
       },
       "kernels[0].variants[1].entry = \"pool_keys_w4\" is not an .entry of pool_keys.w2.ptx"},
      {[](json &m) { m["kernels"][2]["variants"][0]["threads"] = 100; },
       "kernels[2].variants[0].threads = 100 is invalid: must be a multiple of 32 in [32, 1024]"},
      {[](json &m) { m["kernels"][2]["variants"][0]["threads"] = 2048; },
       "kernels[2].variants[0].threads = 2048 is out of range: must be in [32, 1024]"},
      {[](json &m) { m["kernels"][1]["variants"][0]["rows_per_program"] = 0; },
       "kernels[1].variants[0].rows_per_program = 0 is out of range: must be in [1, 65536]"},
      {[](json &m) { m["kernels"][0]["variants"][0]["rows_per_program"] = 16; },
       "kernels[0].variants[0].rows_per_program = 16 is out of range: must be in [0, 0]"},
      {[](json &m) { m["kernels"][2]["variants"][0]["dynamic_shared_bytes"] = -1; },
       "kernels[2].variants[0].dynamic_shared_bytes = -1 is out of range"},
      {[](json &m) { m["kernels"][2]["variants"][0]["knobs"]["block_m"] = "16"; },
       "kernels[2].variants[0].knobs.block_m = \"16\" has type string; expected an integer"},
      {[](json &m) { m["kernels"][2]["variants"][0]["resources"] = {{"registers", -3}}; },
       "kernels[2].variants[0].resources.registers = -3 is out of range"},
      {[](json &m) { m["kernels"][2]["variants"][0]["cubin"] = "sparse.sm_80.cubin"; },
       "sparse.sm_80.cubin: no such file"},
  };
  int i = 0;
  for (const auto &[edit, expected] : cases) {
    const std::string e = loadError(fmt::format("variants-{}", i++), edit);
    EXPECT_NE(e.find(expected), std::string::npos) << "expected: " << expected << "\ngot: " << e;
  }
}

TEST(BundleErrors, MissingOrMultiEntryPtx) {
  const std::string missing = loadError("missing-ptx", {}, [](cli::BundleFiles &f) {
    std::erase_if(f, [](const auto &file) { return file.first == "gate_topk.m16w4.ptx"; });
  });
  EXPECT_NE(missing.find("kernels[1].variants[1].ptx = \"gate_topk.m16w4.ptx\": "), std::string::npos)
      << missing;
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;
  // A module with a second entry appended (two kernels' PTX in one file).
  const std::string two = loadError("two-entries", {}, [](cli::BundleFiles &f) {
    std::string other;
    for (const auto &[name, bytes] : f)
      if (name == "pool_keys.w4.ptx")
        other = bytes;
    for (auto &[name, bytes] : f)
      if (name == "pool_keys.w2.ptx")
        bytes += other;
  });
  EXPECT_NE(two.find("kernels[0].variants[0].ptx = \"pool_keys.w2.ptx\" declares 2 .entry kernels"),
            std::string::npos)
      << two;
}

TEST(BundleErrors, EmbeddedFiles) {
  cli::BundleFiles files = smallBundle().files;
  files.push_back(files[1]);
  auto dup = Bundle::fromFiles(views(files), "dup_bundle");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.status().message().find("bundle 'dup_bundle': file 8 is named \"" + files[1].first +
                                        "\", like an earlier file"),
            std::string::npos)
      << dup.status().message();
  files.pop_back();
  files.pop_back(); // the last variant's PTX
  auto missing = Bundle::fromFiles(views(files), "short_bundle");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("no file named \"sparse_attention_merge.m64n16w8s2.ptx\" among the bundle's 7 "
                                            "files"),
            std::string::npos)
      << missing.status().message();
}

TEST(BundleTarget, WhichDevicesRunWhichTargets) {
  EXPECT_TRUE(bundle::checkTargetRuns("sm_80", 8, 0));
  EXPECT_TRUE(bundle::checkTargetRuns("sm_80", 9, 0));
  EXPECT_TRUE(bundle::checkTargetRuns("sm_90", 10, 0));
  EXPECT_TRUE(bundle::checkTargetRuns("sm_90a", 9, 0));
  Status old = bundle::checkTargetRuns("sm_80", 7, 5);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.message(), "the bundle's target sm_80 cannot run on a device of compute capability 7.5: sm_80 needs "
                           "8.0 or later");
  Status specific = bundle::checkTargetRuns("sm_90a", 10, 0);
  ASSERT_FALSE(specific);
  EXPECT_NE(specific.message().find("sm_90a needs exactly 9.0"), std::string::npos);
  EXPECT_FALSE(bundle::checkTargetRuns("sm_100", 9, 0));
  EXPECT_FALSE(bundle::checkTargetRuns("gfx90a", 9, 0));
}

} // namespace
} // namespace mobagen::testing
