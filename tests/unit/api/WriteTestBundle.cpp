//===- WriteTestBundle.cpp - a format-2 bundle directory, for the lit tests ----===//
//
// `mobagen-write-test-bundle --block-size 16 ... -o DIR` writes the bundle that
// tools/mobagen/InProcessBundle.h generates (what `mobagen run` loads when no
// --bundle is given), so the lit suite can run `mobagen run --bundle DIR`.
//
//===----------------------------------------------------------------------===//
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/mobagen/InProcessBundle.h"

int main(int argc, char **argv) {
  mobagen::compiler::MobaKernelConfig config;
  std::string dtype = "bf16", dir;
  CLI::App app("Writes a format-2 MoBA kernel bundle (test helper)");
  app.add_option("--block-size", config.blockSize)->required();
  app.add_option("--top-k", config.topK)->required();
  app.add_option("--head-dim", config.headDim)->required();
  app.add_option("--num-q-heads", config.numQHeads)->required();
  app.add_option("--num-kv-heads", config.numKvHeads)->required();
  app.add_flag("--causal,!--non-causal", config.causal);
  app.add_option("--dtype", dtype)->check(CLI::IsMember({"bf16", "fp16"}));
  app.add_option("--target", config.target);
  app.add_option("-o", dir)->required();
  CLI11_PARSE(app, argc, argv);
  config.dtype = *mobagen::parseDType(dtype);
  auto files = mobagen::cli::generateBundle(config);
  if (!files) {
    fmt::print(stderr, "mobagen-write-test-bundle: error: {}\n", files.status().message());
    return 1;
  }
  if (mobagen::Status s = mobagen::cli::writeBundle(*files, dir); !s) {
    fmt::print(stderr, "mobagen-write-test-bundle: error: {}\n", s.message());
    return 1;
  }
  return 0;
}
