//===- emu_args_fuzzer.cpp - libFuzzer target for `mobagen emu`'s arguments -===//
//
// Links against the object files tools/mobagen/EmuArgs.cpp and mobagen_support
// (build: add EmuArgs.cpp to the target and link mobagen_support; no file access,
// no emulator). Input: newline-separated lines; the first is a --grid value, the
// second a --block value, every further line one --arg. Checks that parsing never
// crashes or wraps: an accepted out: buffer's byte count equals the product of its
// shape and element size computed in 128 bits, and an accepted grid's thread
// product fits 32 bits.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/mobagen/EmuArgs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  size_t start = 0, line = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    const std::string part = text.substr(start, end - start);
    if (line < 2) {
      auto dim = mobagen::cli::parseEmuDim(part, line == 0 ? "grid" : "block");
      if (dim && static_cast<unsigned __int128>(dim->x) * dim->y * dim->z > UINT32_MAX)
        std::abort();
    } else if (auto arg = mobagen::cli::parseEmuArg(part);
               arg && arg->kind == mobagen::cli::EmuArg::Kind::Out) {
      unsigned __int128 bytes = arg->dtype->size;
      for (int64_t d : arg->shape) {
        bytes *= static_cast<uint64_t>(d);
        if (bytes > UINT64_MAX)
          std::abort();
      }
      if (bytes != arg->bytes || arg->shape.size() > 32)
        std::abort();
    }
    ++line;
    start = end + 1;
  }
  return 0;
}
