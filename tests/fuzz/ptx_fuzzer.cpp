//===- ptx_fuzzer.cpp - libFuzzer target for the emulator's PTX front end ---===//
//
// Runs the PTX lexer, parser and decoder (parsePtx) and then the call linker on
// arbitrary text. Every input must give a Module or a Status naming the line; the
// emulator loads PTX from bundles and from `mobagen emu`, both outside input.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/emulator/PtxParser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  auto module = mobagen::emu::parsePtx(text, "fuzz.ptx");
  if (!module)
    return 0;
  (void)mobagen::emu::linkCalls(*module);
  return 0;
}
