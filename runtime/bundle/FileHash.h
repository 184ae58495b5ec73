//===- FileHash.h - the content hash a manifest records per bundle file ----===//
//
// "xxh3_64:<16 hex digits>": XXH3 64-bit, seed 0, of the file's bytes
// (docs/bundle.md, "File hashes"). One definition for the writer
// (tools/mobagen/InProcessBundle), the reader (Bundle.cpp) and the tests.
// Users link PkgConfig::XXHASH.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <xxhash.h>

namespace mobagen::bundle {

inline std::string fileHash(std::string_view bytes) {
  return fmt::format("xxh3_64:{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

} // namespace mobagen::bundle
