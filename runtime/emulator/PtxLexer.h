//===- PtxLexer.h - Tokens of PTX text --------------------------------------===//
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mobagen::emu {

enum class TokKind : uint8_t {
  Ident,  // opcodes with their modifiers (ld.global.u32), directives (.reg), names, %regs, $labels
  Number, // 12, 0x1F, 0f3F800000, 0d3FF0000000000000, 1.5
  String,
  Punct, // one of { } [ ] ( ) , ; : + - @ ! < > = |
  End,
};

struct Token {
  TokKind kind = TokKind::End;
  std::string_view text;
  uint32_t line = 0;
  bool is(std::string_view s) const { return text == s && kind != TokKind::String; }
};

/// Splits PTX into tokens; comments are dropped. Never fails: a stray character
/// becomes a one-character Punct token that the parser rejects with its line.
std::vector<Token> lexPtx(std::string_view text);

} // namespace mobagen::emu
