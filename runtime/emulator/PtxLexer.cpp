//===- PtxLexer.cpp - Tokens of PTX text ------------------------------------===//
#include "runtime/emulator/PtxLexer.h"

namespace mobagen::emu {
namespace {

bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c == '%' ||
         c == '.';
}
bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9') || c == ':'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

} // namespace

std::vector<Token> lexPtx(std::string_view s) {
  std::vector<Token> tokens;
  uint32_t line = 1;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
        if (s[i] == '\n')
          ++line;
        ++i;
      }
      i += 2;
      continue;
    }
    const size_t start = i;
    Token tok;
    tok.line = line;
    if (c == '"') {
      ++i;
      while (i < n && s[i] != '"' && s[i] != '\n')
        ++i;
      tok.kind = TokKind::String;
      tok.text = s.substr(start + 1, i - start - 1);
      if (i < n && s[i] == '"')
        ++i;
    } else if (isIdentStart(c)) {
      // `::` belongs to names such as .shared::cta; a lone ':' ends a label.
      while (i < n && isIdentChar(s[i])) {
        if (s[i] == ':' && !(i + 1 < n && s[i + 1] == ':') && !(i > start && s[i - 1] == ':'))
          break;
        ++i;
      }
      tok.kind = TokKind::Ident;
      tok.text = s.substr(start, i - start);
    } else if (isDigit(c)) {
      while (i < n && (isIdentChar(s[i]) || s[i] == '.') && s[i] != ':') {
        // An exponent sign: 1.5e-3 (not in hex forms, which never contain 'e' then '-').
        if ((s[i] == 'e' || s[i] == 'E') && i + 1 < n && (s[i + 1] == '-' || s[i + 1] == '+') &&
            s[start + 1] != 'x' && s[start + 1] != 'X' && s[start + 1] != 'f' && s[start + 1] != 'd')
          ++i;
        ++i;
      }
      tok.kind = TokKind::Number;
      tok.text = s.substr(start, i - start);
    } else {
      ++i;
      tok.kind = TokKind::Punct;
      tok.text = s.substr(start, 1);
    }
    tokens.push_back(tok);
  }
  tokens.push_back(Token{TokKind::End, {}, line});
  return tokens;
}

} // namespace mobagen::emu
