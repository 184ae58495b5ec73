#include "runtime/support/Quote.h"

#include <fmt/format.h>

namespace mobagen {

std::string quoteBounded(std::string_view text, size_t limit) {
  std::string out = "\"";
  const std::string_view shown = text.substr(0, limit);
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
  if (shown.size() < text.size())
    out += fmt::format("... ({} bytes)", text.size());
  return out;
}

} // namespace mobagen
