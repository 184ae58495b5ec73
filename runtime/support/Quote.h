//===- Quote.h - bounded, escaped quotes of outside text for messages -------===//
//
// An error message quotes what it rejects, but the rejected text comes from a
// file or a command line and may be megabytes long, binary, or hold newlines.
// quoteBounded keeps every message one line and of bounded length: control and
// non-ASCII bytes become \xNN, quotes and backslashes are escaped, and text past
// the limit is cut with a note of the full length.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mobagen {

/// The default number of input bytes a message quotes.
inline constexpr size_t kQuoteLimit = 64;

/// `"text"`, escaped, or `"prefix"... (N bytes)` when longer than `limit` bytes.
std::string quoteBounded(std::string_view text, size_t limit = kQuoteLimit);

} // namespace mobagen
