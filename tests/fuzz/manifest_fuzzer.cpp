//===- manifest_fuzzer.cpp - libFuzzer target for the bundle manifest loader ===//
//
// Loads arbitrary bytes as manifest.json through Bundle::fromFiles, the in-memory
// loader that `mobagen generate --header` bundles and directory bundles share.
// So that mutations get past the file checks into the kernel and variant
// validation, every "<kernel>.<id>.ptx" string in the input is given a small PTX
// file declaring the entry "<kernel>_<id>" the manifest would name. The loader must
// give a Bundle or a Status for every input: no crash, no uncaught exception.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle/Bundle.h"

namespace {

bool isNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'; }

/// The quoted names ending in ".ptx" in the manifest text.
std::set<std::string> ptxNames(std::string_view text) {
  std::set<std::string> names;
  for (size_t end = text.find(".ptx\""); end != std::string_view::npos; end = text.find(".ptx\"", end + 1)) {
    size_t begin = end;
    while (begin > 0 && isNameChar(text[begin - 1]))
      --begin;
    if (begin > 0 && text[begin - 1] == '"' && begin < end)
      names.emplace(text.substr(begin, end + 4 - begin));
  }
  return names;
}

/// A module declaring the entry "<kernel>_<id>" for the file "<kernel>.<id>.ptx".
std::string ptxFor(const std::string &file) {
  std::string stem = file.substr(0, file.size() - 4);
  const size_t dot = stem.find('.');
  if (dot != std::string::npos)
    stem[dot] = '_';
  return ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry " + stem + "()\n{\nret;\n}\n";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view manifest(reinterpret_cast<const char *>(data), size);
  std::vector<std::pair<std::string, std::string>> storage;
  for (const std::string &name : ptxNames(manifest))
    if (name != "manifest.json")
      storage.emplace_back(name, ptxFor(name));
  std::vector<mobagen::bundle::FileView> files{{"manifest.json", manifest}};
  for (const auto &[name, text] : storage)
    files.push_back({name, text});
  (void)mobagen::bundle::Bundle::fromFiles(files, "fuzz");
  return 0;
}
