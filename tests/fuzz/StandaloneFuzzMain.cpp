//===- StandaloneFuzzMain.cpp - Runs a fuzz target over files, without libFuzzer ===//
//
// For targets whose libraries cannot carry libFuzzer's instrumentation (the MLIR
// dialects, linked against Debian's libMLIR): calls LLVMFuzzerTestOneInput once per
// file named on the command line, or per file in a directory named there, and
// reports how many ran. A crash or abort in the target fails the run.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool runFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

} // namespace

int main(int argc, char **argv) {
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto &entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) {
          if (!runFile(entry.path()))
            return 1;
          ++ran;
        }
    } else {
      if (!runFile(arg))
        return 1;
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "usage: %s FILE|DIR...: no input ran\n", argv[0]);
    return 1;
  }
  std::printf("ran %zu inputs\n", ran);
  return 0;
}
