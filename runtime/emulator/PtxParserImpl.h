//===- PtxParserImpl.h - The PTX parser's state (internal) ------------------===//
//
// Shared by PtxParser.cpp (module structure, declarations, functions) and
// PtxInstructions.cpp (statements, instructions and operands).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <bit>
#include <charconv>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/emulator/PtxLexer.h"
#include "runtime/emulator/PtxParser.h"

namespace mobagen::emu::detail {

struct Symbol {
  Space space;
  uint32_t offset;
};

struct Scope {
  int parent = -1;
  std::unordered_map<std::string, uint32_t> regs;
  std::unordered_map<std::string, uint32_t> labels;
};

struct PendingBranch {
  uint32_t inst;
  std::string label;
  int scope;
  uint32_t line;
};

struct SharedVar {
  std::string name;
  uint32_t align, size;
  bool isExtern;
};

inline uint32_t alignUp(uint32_t v, uint32_t a) { return a ? (v + a - 1) / a * a : v; }

/// %tid.x, %laneid, ...: the special register a name denotes, if any.
std::optional<SpecialReg> specialReg(std::string_view name);

/// One module's parse: a cursor over its tokens, the function being built, its
/// scope tree (registers and labels per { }), and the symbols it can name.
class Parser {
public:
  Parser(std::string_view text, std::string_view name) : tokens_(lexPtx(text)), name_(name) {
    module_.name = std::string(name);
  }

  Expected<Module> run() {
    Status status = parseModule();
    if (!status)
      return status;
    return std::move(module_);
  }

private:
  // ---- token helpers ----
  const Token &peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token &next() {
    const Token &t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size())
      ++pos_;
    return t;
  }
  bool accept(std::string_view s) {
    if (peek().is(s)) {
      next();
      return true;
    }
    return false;
  }
  template <typename... Args> Status error(uint32_t line, fmt::format_string<Args...> f, Args &&...a) {
    return Status::error(fmt::format("{}:{}: ", name_, line) + fmt::format(f, std::forward<Args>(a)...));
  }
  Status expect(std::string_view s) {
    if (accept(s))
      return Status::success();
    return error(peek().line, "expected '{}' but found '{}'", s, peek().text);
  }
  void skipLine(uint32_t line) {
    while (peek().kind != TokKind::End && peek().line == line)
      next();
  }
  void skipBalanced() { // at '{'
    int depth = 0;
    do {
      if (peek().is("{")) ++depth;
      if (peek().is("}")) --depth;
      next();
    } while (depth > 0 && peek().kind != TokKind::End);
  }
  /// The value of `.align N`: PTX ISA 5.4.5 requires a power of two.
  Expected<uint32_t> parseAlign() {
    const uint32_t line = peek().line;
    auto v = parseUnsigned();
    if (!v)
      return v.status();
    if (*v == 0 || !std::has_single_bit(*v) || *v > (uint64_t{1} << 31))
      return error(line, ".align {} is invalid: the alignment must be a power of two in [1, 2^31]", *v);
    return uint32_t(*v);
  }
  Expected<uint64_t> parseUnsigned() {
    const Token &t = next();
    uint64_t v = 0;
    std::string_view s = t.text;
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      s.remove_prefix(2);
      base = 16;
    }
    if (!s.empty() && (s.back() == 'U' || s.back() == 'u'))
      s.remove_suffix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (t.kind != TokKind::Number || ec != std::errc() || p != s.data() + s.size())
      return error(t.line, "expected a number but found '{}'", t.text);
    return v;
  }

  /// The type a declaration qualifier such as `.b8` or `.f32` names (decoded as
  /// the type suffix of a mov), or Type::None when it is not a type.
  Type declaredType(std::string_view qualifier) {
    Inst probe;
    if (!decodeOpcode("mov" + std::string(qualifier), probe).ok())
      return Type::None;
    return probe.type;
  }

  /// The element count of `[N][M]...` after a variable's name (1 without
  /// brackets); `unsized` is set by an empty `[]`. A count past 2^32 elements is
  /// an error, so that a corrupt declaration cannot overflow the size.
  Expected<uint64_t> parseArrayDims(int line, bool &unsized) {
    uint64_t count = 1;
    unsized = false;
    while (accept("[")) {
      if (accept("]")) {
        unsized = true;
        continue;
      }
      auto v = parseUnsigned();
      if (!v)
        return v.status();
      if (*v != 0 && count > (uint64_t{1} << 32) / *v)
        return error(line, "array of {} x {} elements exceeds 2^32 elements", count, *v);
      count *= *v;
      MOBAGEN_RETURN_IF_ERROR(expect("]"));
    }
    return count;
  }

  // ---- module level ----
  Status parseModule();

  /// .global/.const [.align N] .type name[N]... [= value | = {values}];
  Status parseModuleVariable(Space space);

  /// A module variable's address: Imm (or Address) with the variable recorded, so
  /// loading the module adds where it was allocated.
  bool variableLookup(const std::string &name, Operand &op) {
    auto it = moduleVars_.find(name);
    if (it == moduleVars_.end())
      return false;
    op.variable = it->second;
    op.space = module_.variables[it->second].space;
    return true;
  }

  Status parseVariable(Space space, bool moduleScope);

  // ---- functions ----
  Status parseFunction(bool isEntry);

  Status parseParam();

  Status parseCallParam();

  /// call[.uni] [(ret, ...),] func[, (arg, ...)]; every ret and arg is a .param variable.
  Status parseCall(Inst &inst, uint32_t line);

  Status parseBody();

  Status parseRegDecl();

  void addReg(std::string name, Type type) {
    scopes_[current_].regs[name] = uint32_t(kernel_.regs.size());
    kernel_.regs.push_back(RegInfo{std::move(name), type});
  }

  std::optional<uint32_t> findReg(const std::string &name) const {
    for (int s = current_; s >= 0; s = scopes_[s].parent) {
      auto it = scopes_[s].regs.find(name);
      if (it != scopes_[s].regs.end())
        return it->second;
    }
    return std::nullopt;
  }

  // ---- instructions ----
  struct RawOperand {
    Operand op;
    std::vector<Operand> elements; // Vector
    std::string label;             // an identifier that is no register or symbol
  };

  Expected<Operand> parseScalar(uint32_t line);

  Expected<Operand> parseNumber(const Token &t);

  /// Parses one operand; symbols become Imm with their offset, labels are kept by name.
  Status parseOperand(uint32_t line, RawOperand &raw, Type instType);

  /// Shared variables get offsets when the function ends (module ones first); until
  /// then a reference is recorded and patched.
  bool sharedLookup(const std::string &name, Operand &op) {
    auto isNamed = [&](const SharedVar &v) { return v.name == name; };
    if (std::none_of(moduleShared_.begin(), moduleShared_.end(), isNamed) &&
        std::none_of(kernelShared_.begin(), kernelShared_.end(), isNamed))
      return false;
    op.space = Space::Shared;
    sharedRefs_.push_back({uint32_t(kernel_.operands.size() + operandCursor_), name});
    return true;
  }

  Status parseInstruction();

  Status finishFunction();

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::string name_;
  Module module_;
  Kernel kernel_;
  std::vector<Scope> scopes_;
  int current_ = 0;
  std::unordered_map<std::string, Symbol> symbols_;
  std::vector<PendingBranch> pending_;
  std::vector<SharedVar> moduleShared_, kernelShared_;
  std::unordered_map<std::string, uint32_t> moduleVars_;
  std::vector<std::pair<uint32_t, std::string>> sharedRefs_;
  std::string pendingName_;
  uint32_t operandCursor_ = 0;
  bool externPending_ = false;
  bool floatLiteral_ = false;
};

} // namespace mobagen::emu::detail
