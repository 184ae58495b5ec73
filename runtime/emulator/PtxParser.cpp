//===- PtxParser.cpp - PTX module structure, scopes and symbols ------------===//
//
// Grammar handled (PTX ISA chapters 4-5, 10-11): module directives (.version,
// .target, .address_size), .entry and .func with their .param lists and
// performance directives, .reg (with %r<N> ranges), .shared/.local variables
// with alignment and array sizes (.extern .shared arrays are the dynamic shared
// memory), labels, predicated instructions, and nested { } scopes that own their
// registers and labels. Debug sections (.file, .loc, .section) are skipped.
//
//===----------------------------------------------------------------------===//
#include "runtime/emulator/PtxParser.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <optional>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "runtime/emulator/PtxLexer.h"

namespace mobagen::emu {
namespace {

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

uint32_t alignUp(uint32_t v, uint32_t a) { return a ? (v + a - 1) / a * a : v; }

std::optional<SpecialReg> specialReg(std::string_view s) {
  static const std::unordered_map<std::string_view, SpecialReg> table{
      {"%tid.x", SpecialReg::TidX},         {"%tid.y", SpecialReg::TidY},
      {"%tid.z", SpecialReg::TidZ},         {"%ntid.x", SpecialReg::NtidX},
      {"%ntid.y", SpecialReg::NtidY},       {"%ntid.z", SpecialReg::NtidZ},
      {"%ctaid.x", SpecialReg::CtaidX},     {"%ctaid.y", SpecialReg::CtaidY},
      {"%ctaid.z", SpecialReg::CtaidZ},     {"%nctaid.x", SpecialReg::NctaidX},
      {"%nctaid.y", SpecialReg::NctaidY},   {"%nctaid.z", SpecialReg::NctaidZ},
      {"%laneid", SpecialReg::LaneId},      {"%warpid", SpecialReg::WarpId},
      {"%nwarpid", SpecialReg::NWarpId},    {"%lanemask_eq", SpecialReg::LanemaskEq},
      {"%lanemask_lt", SpecialReg::LanemaskLt}, {"%lanemask_le", SpecialReg::LanemaskLe},
      {"%lanemask_gt", SpecialReg::LanemaskGt}, {"%lanemask_ge", SpecialReg::LanemaskGe},
      {"%clock", SpecialReg::Clock},        {"%clock64", SpecialReg::Clock64},
      {"%globaltimer", SpecialReg::GlobalTimer}, {"%smid", SpecialReg::SmId},
      {"%dynamic_smem_size", SpecialReg::DynamicSmemSize},
      {"%total_smem_size", SpecialReg::TotalSmemSize},
  };
  auto it = table.find(s);
  if (it == table.end())
    return std::nullopt;
  return it->second;
}

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

  // ---- module level ----
  Status parseModule() {
    while (peek().kind != TokKind::End) {
      const Token &t = peek();
      if (t.is(".version") || t.is(".address_size") || t.is(".file") || t.is(".loc")) {
        next();
        skipLine(t.line);
      } else if (t.is(".target")) {
        next();
        module_.target = std::string(peek().text);
        skipLine(t.line);
      } else if (t.is(".section")) {
        next();
        next();
        if (peek().is("{"))
          skipBalanced();
      } else if (t.is(".visible") || t.is(".weak") || t.is(".extern") || t.is(".common")) {
        next();
        externPending_ |= t.is(".extern");
      } else if (t.is(".entry") || t.is(".func")) {
        next();
        MOBAGEN_RETURN_IF_ERROR(parseFunction(t.is(".entry")));
        externPending_ = false;
      } else if (t.is(".shared")) {
        next();
        MOBAGEN_RETURN_IF_ERROR(parseVariable(Space::Shared, /*moduleScope=*/true));
      } else if (t.is(".global") || t.is(".const")) {
        next();
        MOBAGEN_RETURN_IF_ERROR(parseModuleVariable(t.is(".global") ? Space::Global : Space::Const));
        externPending_ = false;
      } else if (t.is(".pragma")) {
        while (!peek().is(";") && peek().kind != TokKind::End)
          next();
        next();
      } else {
        return error(t.line, "unexpected '{}' at module scope", t.text);
      }
    }
    return Status::success();
  }

  /// .global/.const [.align N] .type name[N]... [= value | = {values}];
  Status parseModuleVariable(Space space) {
    ModuleVariable var;
    var.space = space;
    Type type = Type::None;
    const uint32_t line = peek().line;
    while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
      const Token &m = next();
      if (m.is(".align")) {
        auto v = parseUnsigned();
        if (!v) return v.status();
        var.align = uint32_t(*v);
        continue;
      }
      Inst probe;
      if (!decodeOpcode("mov" + std::string(m.text), probe).ok() || probe.type == Type::None)
        return error(m.line, "unexpected '{}' in a variable declaration", m.text);
      type = probe.type;
    }
    if (type == Type::None || peek().kind != TokKind::Ident)
      return error(line, "expected a type and a name in a .{} declaration", spaceName(space));
    var.name = std::string(next().text);
    const unsigned elem = typeBytes(type);
    uint64_t count = 1;
    bool unsized = false;
    while (accept("[")) {
      if (accept("]")) {
        unsized = true;
        continue;
      }
      auto v = parseUnsigned();
      if (!v) return v.status();
      count *= *v;
      MOBAGEN_RETURN_IF_ERROR(expect("]"));
    }
    std::vector<uint8_t> bytes;
    if (accept("=")) {
      // A scalar or a (possibly nested) brace list of numbers, flattened.
      int depth = 0;
      do {
        if (accept("{")) { ++depth; continue; }
        if (accept("}")) { --depth; continue; }
        if (accept(",")) continue;
        const bool negative = accept("-");
        const Token &t = next();
        if (t.kind != TokKind::Number)
          return error(t.line, "initializer of '{}': only numbers are supported, found '{}'", var.name, t.text);
        floatLiteral_ = false;
        auto value = parseNumber(t);
        if (!value) return value.status();
        uint64_t bits = uint64_t(value->imm);
        if (floatLiteral_) {
          double d = std::bit_cast<double>(bits);
          if (negative) d = -d;
          bits = elem == 8 ? std::bit_cast<uint64_t>(d) : std::bit_cast<uint32_t>(float(d));
        } else if (negative) {
          bits = uint64_t(-int64_t(bits));
        }
        floatLiteral_ = false;
        for (unsigned b = 0; b < elem; ++b)
          bytes.push_back(uint8_t(bits >> (8 * b)));
      } while (depth > 0 && peek().kind != TokKind::End);
    }
    MOBAGEN_RETURN_IF_ERROR(expect(";"));
    if (unsized)
      count = bytes.size() / elem;
    if (bytes.size() > count * elem)
      return error(line, "'{}' has {} initializer bytes but {} bytes of storage", var.name, bytes.size(),
                   count * elem);
    if (count * elem > (1u << 30))
      return error(line, "variable '{}' is {} bytes; the emulator's limit is 1 GiB", var.name, count * elem);
    bytes.resize(count * elem, 0);
    var.init = std::move(bytes);
    var.align = std::max(var.align, elem);
    moduleVars_[var.name] = uint32_t(module_.variables.size());
    module_.variables.push_back(std::move(var));
    return Status::success();
  }

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

  Status parseVariable(Space space, bool moduleScope) {
    uint32_t align = 0, elem = 0;
    std::string name;
    const uint32_t line = peek().line;
    while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
      const Token &m = next();
      if (m.is(".align")) {
        auto v = parseUnsigned();
        if (!v) return v.status();
        align = uint32_t(*v);
      } else {
        Inst probe;
        Type type = Type::None;
        // A type such as .b8 or .f32 gives the element size.
        std::string op = "mov" + std::string(m.text);
        if (decodeOpcode(op, probe).ok() && probe.type != Type::None)
          type = probe.type;
        if (type == Type::None)
          return error(m.line, "unexpected '{}' in a variable declaration", m.text);
        elem = typeBytes(type);
      }
    }
    if (peek().kind != TokKind::Ident)
      return error(line, "expected a variable name but found '{}'", peek().text);
    name = std::string(next().text);
    uint64_t count = 1;
    bool unsized = false;
    while (accept("[")) {
      if (accept("]")) {
        unsized = true;
        continue;
      }
      auto v = parseUnsigned();
      if (!v) return v.status();
      count *= *v;
      MOBAGEN_RETURN_IF_ERROR(expect("]"));
    }
    if (peek().is("=")) // initializers are only meaningful for .global/.const
      return error(line, "initializer on '{}' is not supported", name);
    MOBAGEN_RETURN_IF_ERROR(expect(";"));
    if (elem == 0)
      return error(line, "variable '{}' has no type", name);
    align = std::max(align, elem);
    const uint64_t size = count * elem;
    if (size > (1u << 30))
      return error(line, "variable '{}' is {} bytes; the emulator's limit is 1 GiB", name, size);
    if (space == Space::Shared) {
      SharedVar var{name, align, uint32_t(size), unsized || externPending_};
      if (moduleScope)
        moduleShared_.push_back(var);
      else
        kernelShared_.push_back(var);
    } else { // local
      kernel_.localBytes = alignUp(kernel_.localBytes, align);
      symbols_[name] = Symbol{Space::Local, kernel_.localBytes};
      kernel_.localBytes += uint32_t(size);
    }
    externPending_ = false;
    return Status::success();
  }

  // ---- functions ----
  Status parseFunction(bool isEntry) {
    kernel_ = Kernel();
    kernel_.isEntry = isEntry;
    symbols_.clear();
    scopes_.clear();
    pending_.clear();
    kernelShared_.clear();
    if (!isEntry && accept("(")) { // return parameters of a .func
      while (!peek().is(")")) {
        MOBAGEN_RETURN_IF_ERROR(parseParam());
        kernel_.params.back().isReturn = true;
        if (!accept(","))
          break;
      }
      MOBAGEN_RETURN_IF_ERROR(expect(")"));
    }
    if (peek().kind != TokKind::Ident)
      return error(peek().line, "expected a kernel name but found '{}'", peek().text);
    kernel_.name = std::string(next().text);
    if (accept("(")) {
      while (!peek().is(")")) {
        MOBAGEN_RETURN_IF_ERROR(parseParam());
        if (!accept(","))
          break;
      }
      MOBAGEN_RETURN_IF_ERROR(expect(")"));
    }
    // Performance directives: .maxntid, .reqntid, .minnctapersm, .maxnreg, .noreturn ...
    while (!peek().is("{") && !peek().is(";") && peek().kind != TokKind::End) {
      const Token &d = next();
      if (d.is(".maxntid") || d.is(".reqntid")) {
        uint64_t product = 1;
        do {
          auto v = parseUnsigned();
          if (!v) return v.status();
          product *= *v;
        } while (accept(","));
        kernel_.maxThreads = uint32_t(product);
      }
    }
    if (accept(";"))
      return Status::success(); // a prototype
    MOBAGEN_RETURN_IF_ERROR(expect("{"));
    scopes_.push_back(Scope{});
    current_ = 0;
    MOBAGEN_RETURN_IF_ERROR(parseBody());
    return finishFunction();
  }

  Status parseParam() {
    const uint32_t line = peek().line;
    MOBAGEN_RETURN_IF_ERROR(expect(".param"));
    uint32_t align = 0, elem = 0;
    while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
      const Token &m = next();
      if (m.is(".align")) {
        auto v = parseUnsigned();
        if (!v) return v.status();
        align = uint32_t(*v);
      } else if (m.is(".ptr") || m.is(".global") || m.is(".shared") || m.is(".const") ||
                 m.is(".local")) {
        continue;
      } else {
        Inst probe;
        if (!decodeOpcode("mov" + std::string(m.text), probe).ok() || probe.type == Type::None)
          return error(m.line, "unexpected '{}' in a .param declaration", m.text);
        elem = typeBytes(probe.type);
      }
    }
    if (peek().kind != TokKind::Ident)
      return error(line, "expected a parameter name but found '{}'", peek().text);
    Param p;
    p.name = std::string(next().text);
    uint64_t count = 1;
    while (accept("[")) {
      auto v = parseUnsigned();
      if (!v) return v.status();
      count *= *v;
      MOBAGEN_RETURN_IF_ERROR(expect("]"));
    }
    if (elem == 0)
      return error(line, "parameter '{}' has no type", p.name);
    align = std::max(align, elem);
    p.size = uint32_t(count * elem);
    p.offset = alignUp(kernel_.paramBytes, align);
    kernel_.paramBytes = p.offset + p.size;
    symbols_[p.name] = Symbol{Space::Param, p.offset};
    kernel_.params.push_back(p);
    return Status::success();
  }

  Status parseCallParam() {
    Kernel saved;
    std::swap(saved.params, kernel_.params);
    const uint32_t savedBytes = kernel_.paramBytes;
    kernel_.paramBytes = kernel_.callParamBytes;
    Status s = parseParam();
    if (s) {
      const Param p = kernel_.params.back();
      kernel_.callParamBytes = kernel_.paramBytes;
      symbols_[p.name] = Symbol{Space::Param, kCallParamBase + p.offset};
    }
    std::swap(saved.params, kernel_.params);
    kernel_.paramBytes = savedBytes;
    if (s)
      MOBAGEN_RETURN_IF_ERROR(expect(";"));
    return s;
  }

  /// call[.uni] [(ret, ...),] func[, (arg, ...)]; every ret and arg is a .param variable.
  Status parseCall(Inst &inst, uint32_t line) {
    std::vector<Operand> rets, args;
    auto paramList = [&](std::vector<Operand> &out) -> Status {
      while (!peek().is(")")) {
        const Token &t = next();
        auto sym = symbols_.find(std::string(t.text));
        if (sym == symbols_.end() || sym->second.space != Space::Param)
          return error(line, "call arguments must be .param variables; '{}' is not", t.text);
        Operand o;
        o.kind = OperandKind::Address;
        o.space = Space::Param;
        o.imm = sym->second.offset;
        out.push_back(o);
        if (!accept(","))
          break;
      }
      return expect(")");
    };
    if (accept("(")) {
      MOBAGEN_RETURN_IF_ERROR(paramList(rets));
      MOBAGEN_RETURN_IF_ERROR(expect(","));
    }
    const Token &callee = next();
    if (callee.kind != TokKind::Ident)
      return error(line, "expected a function name after call, found '{}'", callee.text);
    if (accept(",")) {
      MOBAGEN_RETURN_IF_ERROR(expect("("));
      MOBAGEN_RETURN_IF_ERROR(paramList(args));
    }
    if (!peek().is(";"))
      return error(line, "indirect calls (with a prototype) are not implemented");
    next();
    inst.firstOperand = uint32_t(kernel_.operands.size());
    inst.numOperands = uint8_t(rets.size() + args.size());
    inst.vec = uint8_t(rets.size());
    for (const auto *list : {&rets, &args})
      for (const Operand &o : *list)
        kernel_.operands.push_back(o);
    module_.calls.push_back(CallSite{module_.kernels.size(), uint32_t(kernel_.code.size()), std::string(callee.text)});
    return Status::success();
  }

  Status parseBody() {
    while (true) {
      const Token &t = peek();
      if (t.kind == TokKind::End)
        return error(t.line, "unexpected end of file in '{}'", kernel_.name);
      if (t.is("}")) {
        next();
        if (scopes_[current_].parent < 0)
          return Status::success();
        current_ = scopes_[current_].parent;
        continue;
      }
      if (t.is("{")) {
        next();
        Scope s;
        s.parent = current_;
        scopes_.push_back(std::move(s));
        current_ = int(scopes_.size()) - 1;
        continue;
      }
      if (t.is(".reg")) {
        next();
        MOBAGEN_RETURN_IF_ERROR(parseRegDecl());
        continue;
      }
      if (t.is(".local") || t.is(".shared")) {
        next();
        MOBAGEN_RETURN_IF_ERROR(parseVariable(t.is(".local") ? Space::Local : Space::Shared, false));
        continue;
      }
      if (t.is(".extern")) {
        next();
        externPending_ = true;
        continue;
      }
      if (t.is(".param")) { // a call sequence's parameter: per-thread, written with st.param
        MOBAGEN_RETURN_IF_ERROR(parseCallParam());
        continue;
      }
      if (t.is(".loc") || t.is(".file")) {
        next();
        skipLine(t.line);
        continue;
      }
      if (t.is(".pragma")) {
        while (!peek().is(";") && peek().kind != TokKind::End)
          next();
        next();
        continue;
      }
      if (t.kind == TokKind::Ident && peek(1).is(":")) {
        std::string label(t.text);
        next();
        next();
        if (!scopes_[current_].labels.emplace(label, uint32_t(kernel_.code.size())).second)
          return error(t.line, "label '{}' defined twice in one scope", label);
        continue;
      }
      MOBAGEN_RETURN_IF_ERROR(parseInstruction());
    }
  }

  Status parseRegDecl() {
    const Token &typeTok = next();
    Inst probe;
    if (typeTok.kind != TokKind::Ident || !decodeOpcode("mov" + std::string(typeTok.text), probe).ok() ||
        probe.type == Type::None)
      return error(typeTok.line, "unsupported register type '{}'", typeTok.text);
    while (true) {
      const Token &nameTok = next();
      if (nameTok.kind != TokKind::Ident)
        return error(nameTok.line, "expected a register name but found '{}'", nameTok.text);
      if (accept("<")) {
        auto n = parseUnsigned();
        if (!n) return n.status();
        MOBAGEN_RETURN_IF_ERROR(expect(">"));
        if (*n > (1u << 20))
          return error(nameTok.line, "{} registers named {}: over the limit of 2^20", *n, nameTok.text);
        for (uint64_t i = 0; i < *n; ++i)
          addReg(std::string(nameTok.text) + std::to_string(i), probe.type);
      } else {
        addReg(std::string(nameTok.text), probe.type);
      }
      if (!accept(","))
        break;
    }
    return expect(";");
  }

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

  Expected<Operand> parseScalar(uint32_t line) {
    const Token &t = next();
    Operand o;
    if (t.is("!")) {
      auto inner = parseScalar(line);
      if (!inner) return inner;
      inner->negate = true;
      return inner;
    }
    if (t.is("-")) {
      auto inner = parseScalar(line);
      if (!inner) return inner;
      if (inner->kind != OperandKind::Imm)
        return error(line, "'-' before a non-constant operand");
      if (floatLiteral_)
        inner->imm = std::bit_cast<int64_t>(-std::bit_cast<double>(inner->imm));
      else
        inner->imm = -inner->imm;
      return inner;
    }
    floatLiteral_ = false;
    if (t.kind == TokKind::Number)
      return parseNumber(t);
    if (t.kind != TokKind::Ident)
      return error(line, "unexpected '{}' in an operand", t.text);
    const std::string name(t.text);
    if (name == "_") {
      o.kind = OperandKind::Sink;
      return o;
    }
    if (auto sr = specialReg(name)) {
      o.kind = OperandKind::Special;
      o.special = *sr;
      return o;
    }
    if (auto reg = findReg(name)) {
      o.kind = OperandKind::Reg;
      o.reg = *reg;
      return o;
    }
    if (name[0] == '%')
      return error(line, "unknown register {}", name);
    // A symbol: its address in its own state space; or a label (resolved later).
    o.kind = OperandKind::Imm;
    o.reg = kNoReg;
    pendingName_ = name;
    return o;
  }

  Expected<Operand> parseNumber(const Token &t) {
    Operand o;
    o.kind = OperandKind::Imm;
    std::string_view s = t.text;
    auto hex = [&](std::string_view digits, uint64_t &v) {
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
      return ec == std::errc() && p == digits.data() + digits.size();
    };
    uint64_t v = 0;
    if (s.size() == 10 && (s.starts_with("0f") || s.starts_with("0F")) && hex(s.substr(2), v)) {
      // Single-precision bits, kept as a double so any float type can take it.
      o.imm = std::bit_cast<int64_t>(double(std::bit_cast<float>(uint32_t(v))));
      floatLiteral_ = true;
      return o;
    }
    if (s.size() == 18 && (s.starts_with("0d") || s.starts_with("0D")) && hex(s.substr(2), v)) {
      o.imm = int64_t(v);
      floatLiteral_ = true;
      return o;
    }
    if (s.find_first_of(".eE") != std::string_view::npos && !s.starts_with("0x") &&
        !s.starts_with("0X")) {
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || p != s.data() + s.size())
        return error(t.line, "malformed number '{}'", s);
      o.imm = std::bit_cast<int64_t>(d);
      floatLiteral_ = true;
      return o;
    }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      s.remove_prefix(2);
      base = 16;
    } else if (s.size() > 1 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
      s.remove_prefix(2);
      base = 2;
    } else if (s.size() > 1 && s[0] == '0') {
      base = 8;
    }
    if (!s.empty() && (s.back() == 'U' || s.back() == 'u'))
      s.remove_suffix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p != s.data() + s.size())
      return error(t.line, "malformed number '{}'", t.text);
    o.imm = int64_t(v);
    return o;
  }

  /// Parses one operand; symbols become Imm with their offset, labels are kept by name.
  Status parseOperand(uint32_t line, RawOperand &raw, Type instType) {
    pendingName_.clear();
    if (accept("{")) {
      raw.op.kind = OperandKind::Vector;
      while (true) {
        auto e = parseScalar(line);
        if (!e) return e.status();
        if (!pendingName_.empty())
          return error(line, "unknown register '{}' in a vector operand", pendingName_);
        raw.elements.push_back(*e);
        if (!accept(","))
          break;
      }
      return expect("}");
    }
    if (accept("[")) {
      raw.op.kind = OperandKind::Address;
      raw.op.reg = kNoReg;
      raw.op.imm = 0;
      bool first = true;
      while (!peek().is("]")) {
        bool negative = false;
        if (!first) {
          if (accept("+")) {
          } else if (accept("-")) {
            negative = true;
          } else {
            return error(line, "unexpected '{}' in an address", peek().text);
          }
        }
        auto e = parseScalar(line);
        if (!e) return e.status();
        if (!pendingName_.empty()) {
          auto sym = symbols_.find(pendingName_);
          if (sym == symbols_.end() && !sharedLookup(pendingName_, raw.op) && !variableLookup(pendingName_, raw.op))
            return error(line, "unknown symbol '{}'", pendingName_);
          if (sym != symbols_.end()) {
            raw.op.space = sym->second.space;
            raw.op.imm += sym->second.offset;
          }
          pendingName_.clear();
        } else if (e->kind == OperandKind::Reg) {
          if (raw.op.reg != kNoReg || negative)
            return error(line, "an address takes one base register");
          raw.op.reg = e->reg;
        } else if (e->kind == OperandKind::Imm) {
          raw.op.imm += negative ? -e->imm : e->imm;
        } else {
          return error(line, "unsupported address operand");
        }
        first = false;
      }
      next();
      return Status::success();
    }
    auto e = parseScalar(line);
    if (!e) return e.status();
    raw.op = *e;
    if (!pendingName_.empty()) {
      auto sym = symbols_.find(pendingName_);
      if (sym != symbols_.end()) {
        raw.op.imm = sym->second.offset;
        raw.op.space = sym->second.space;
      } else if (!sharedLookup(pendingName_, raw.op) && !variableLookup(pendingName_, raw.op)) {
        raw.label = pendingName_;
      }
      pendingName_.clear();
    } else if (raw.op.kind == OperandKind::Imm && floatLiteral_) {
      // A float literal takes the instruction's float type.
      const double d = std::bit_cast<double>(raw.op.imm);
      if (typeBytes(instType) != 8) // f32 bits; f16/bf16 operations convert from f32
        raw.op.imm = std::bit_cast<uint32_t>(float(d));
    }
    return Status::success();
  }

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

  Status parseInstruction() {
    Inst inst;
    const size_t statementStart = pos_;
    const uint32_t line = peek().line;
    inst.line = line;
    if (accept("@")) {
      bool neg = accept("!");
      const Token &p = next();
      auto reg = findReg(std::string(p.text));
      if (!reg)
        return error(line, "unknown predicate register '{}'", p.text);
      inst.guard = *reg;
      inst.guardNegated = neg;
    }
    const Token &opTok = next();
    if (opTok.kind != TokKind::Ident)
      return error(line, "expected an instruction but found '{}'", opTok.text);
    if (Status s = decodeOpcode(opTok.text, inst); !s)
      return error(line, "{}", s.message());

    if (inst.op == Op::Call) {
      const size_t start = pos_ - 1;
      MOBAGEN_RETURN_IF_ERROR(parseCall(inst, line));
      inst.cls = OpClass::Control;
      kernel_.code.push_back(inst);
      std::string text;
      for (size_t i = start; i < pos_; ++i)
        text += std::string(i > start && tokens_[i].kind == TokKind::Ident ? " " : "") + std::string(tokens_[i].text);
      kernel_.text.push_back(text);
      return Status::success();
    }
    std::vector<RawOperand> raws;
    operandCursor_ = 0;
    while (!peek().is(";")) {
      if (peek().kind == TokKind::End)
        return error(line, "missing ';' after '{}'", opTok.text);
      RawOperand raw;
      MOBAGEN_RETURN_IF_ERROR(parseOperand(line, raw, inst.type));
      raws.push_back(std::move(raw));
      ++operandCursor_;
      if (accept("|")) // setp's second destination, shfl's predicate destination
        continue;
      if (!accept(","))
        break;
    }
    MOBAGEN_RETURN_IF_ERROR(expect(";"));
    if (raws.size() > 255)
      return error(line, "too many operands");

    inst.firstOperand = uint32_t(kernel_.operands.size());
    inst.numOperands = uint8_t(raws.size());
    for (RawOperand &raw : raws)
      kernel_.operands.push_back(raw.op);
    for (size_t i = 0; i < raws.size(); ++i) {
      if (raws[i].op.kind == OperandKind::Vector) {
        Operand &v = kernel_.operands[inst.firstOperand + i];
        v.reg = uint32_t(kernel_.operands.size());
        v.count = uint16_t(raws[i].elements.size());
        for (const Operand &e : raws[i].elements)
          kernel_.operands.push_back(e);
      }
      if (!raws[i].label.empty()) {
        if (inst.op != Op::Bra)
          return error(line, "unknown symbol '{}'", raws[i].label);
        pending_.push_back({uint32_t(kernel_.code.size()), raws[i].label, current_, line});
      }
    }
    inst.cls = opClass(inst.op);
    if (inst.cls == OpClass::Float && !isFloat(inst.type))
      inst.cls = OpClass::Integer;
    kernel_.code.push_back(inst);
    // The statement's text, for messages.
    std::string text;
    for (size_t i = statementStart; i < pos_; ++i) {
      const std::string_view cur = tokens_[i].text;
      if (!text.empty()) {
        const std::string_view prev = tokens_[i - 1].text;
        const bool glueLeft = cur == "," || cur == ";" || cur == "]" || cur == ")" || cur == "}" ||
                              cur == "|" || cur == "+" || (cur == "-" && prev != ",");
        const bool glueRight = prev == "[" || prev == "(" || prev == "{" || prev == "@" || prev == "!" ||
                               prev == "|" || prev == "+" || prev == "-";
        if (!glueLeft && !glueRight)
          text += ' ';
      }
      text += cur;
    }
    kernel_.text.push_back(std::move(text));
    if (Status s = checkOperands(inst, kernel_); !s)
      return error(line, "'{}': {}", kernel_.text.back(), s.message());
    return Status::success();
  }

  Status finishFunction() {
    for (const PendingBranch &b : pending_) {
      bool found = false;
      for (int s = b.scope; s >= 0 && !found; s = scopes_[s].parent) {
        auto it = scopes_[s].labels.find(b.label);
        if (it != scopes_[s].labels.end()) {
          kernel_.code[b.inst].target = it->second;
          found = true;
        }
      }
      if (!found)
        return error(b.line, "branch to unknown label '{}'", b.label);
    }
    // Shared memory layout: module variables, then the function's, then dynamic.
    uint32_t offset = 0, dynAlign = 16;
    std::unordered_map<std::string, uint32_t> sharedOffsets;
    for (const auto *list : {&moduleShared_, &kernelShared_})
      for (const SharedVar &v : *list) {
        if (v.isExtern) {
          dynAlign = std::max(dynAlign, v.align);
          continue;
        }
        offset = alignUp(offset, v.align);
        sharedOffsets[v.name] = offset;
        offset += v.size;
      }
    kernel_.staticSharedBytes = offset;
    kernel_.dynamicSharedOffset = alignUp(offset, dynAlign);
    for (const auto *list : {&moduleShared_, &kernelShared_})
      for (const SharedVar &v : *list)
        if (v.isExtern)
          sharedOffsets[v.name] = kernel_.dynamicSharedOffset;
    for (const auto &[index, name] : sharedRefs_)
      kernel_.operands[index].imm += sharedOffsets.at(name);
    sharedRefs_.clear();
    if (kernel_.code.empty() || (kernel_.code.back().op != Op::Ret && kernel_.code.back().op != Op::Exit &&
                                 kernel_.code.back().op != Op::Bra)) {
      // Falling off the end of a function is a return (the ISA lets ret be omitted).
      Inst ret;
      ret.op = Op::Ret;
      ret.line = kernel_.code.empty() ? 0 : kernel_.code.back().line;
      ret.firstOperand = uint32_t(kernel_.operands.size());
      kernel_.code.push_back(ret);
      kernel_.text.push_back("ret (implicit)");
    }
    module_.kernels.push_back(std::move(kernel_));
    return Status::success();
  }

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

} // namespace

Expected<Module> parsePtx(std::string_view text, std::string_view name) {
  auto module = Parser(text, name).run();
  if (!module)
    return module;
  if (Status linked = linkCalls(*module); !linked)
    return linked;
  return module;
}

} // namespace mobagen::emu
