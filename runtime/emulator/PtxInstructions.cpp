//===- PtxInstructions.cpp - PTX statements, instructions and operands -----===//
//
// Inside a function body: .reg declarations (with %r<N> ranges), labels,
// nested { } scopes, call sequences, and instructions with their guard,
// decoded opcode and operands: registers (searched from the innermost scope
// outwards), special registers, immediates (0f/0d hex floats, decimal floats
// that take the instruction's type), vectors {a, b}, addresses [reg+imm] and
// [symbol+imm], and symbols resolved to their state-space offsets.
//
//===----------------------------------------------------------------------===//
#include <cstring>

#include "runtime/emulator/PtxParserImpl.h"

namespace mobagen::emu::detail {

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

Status Parser::parseCall(Inst &inst, uint32_t line) {
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

Status Parser::parseBody() {
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

Status Parser::parseRegDecl() {
  const Token &typeTok = next();
  const Type type = typeTok.kind == TokKind::Ident ? declaredType(typeTok.text) : Type::None;
  if (type == Type::None)
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
        addReg(std::string(nameTok.text) + std::to_string(i), type);
    } else {
      addReg(std::string(nameTok.text), type);
    }
    if (!accept(","))
      break;
  }
  return expect(";");
}

Expected<Operand> Parser::parseScalar(uint32_t line) {
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

Expected<Operand> Parser::parseNumber(const Token &t) {
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

Status Parser::parseOperand(uint32_t line, RawOperand &raw, Type instType) {
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

Status Parser::parseInstruction() {
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

} // namespace mobagen::emu::detail
