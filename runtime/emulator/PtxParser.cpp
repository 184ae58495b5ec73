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

#include <cmath>
#include <cstring>

#include "runtime/emulator/PtxParserImpl.h"

namespace mobagen::emu {
namespace detail {

Status Parser::parseModule() {
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

Status Parser::parseModuleVariable(Space space) {
  ModuleVariable var;
  var.space = space;
  Type type = Type::None;
  const uint32_t line = peek().line;
  while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
    const Token &m = next();
    if (m.is(".align")) {
      auto v = parseAlign();
      if (!v) return v.status();
      var.align = *v;
      continue;
    }
    type = declaredType(m.text);
    if (type == Type::None)
      return error(m.line, "unexpected '{}' in a variable declaration", m.text);
  }
  if (type == Type::None || peek().kind != TokKind::Ident)
    return error(line, "expected a type and a name in a .{} declaration", spaceName(space));
  var.name = std::string(next().text);
  const unsigned elem = typeBytes(type);
  bool unsized = false;
  auto dims = parseArrayDims(line, unsized);
  if (!dims)
    return dims.status();
  uint64_t count = *dims;
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

Status Parser::parseVariable(Space space, bool moduleScope) {
  uint32_t align = 0, elem = 0;
  std::string name;
  const uint32_t line = peek().line;
  while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
    const Token &m = next();
    if (m.is(".align")) {
      auto v = parseAlign();
      if (!v) return v.status();
      align = *v;
    } else {
      // A type such as .b8 or .f32 gives the element size.
      const Type type = declaredType(m.text);
      if (type == Type::None)
        return error(m.line, "unexpected '{}' in a variable declaration", m.text);
      elem = typeBytes(type);
    }
  }
  if (peek().kind != TokKind::Ident)
    return error(line, "expected a variable name but found '{}'", peek().text);
  name = std::string(next().text);
  bool unsized = false;
  auto dims = parseArrayDims(line, unsized);
  if (!dims)
    return dims.status();
  const uint64_t count = *dims;
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

Status Parser::parseFunction(bool isEntry) {
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
      // Up to three dimensions, each >= 1, whose product is a block size: it is
      // bounded by 1024 (the CTA limit of every target) before it is multiplied
      // further, so it cannot wrap.
      constexpr uint64_t kMaxBlockThreads = 1024;
      uint64_t dims[3] = {1, 1, 1};
      std::string written;
      uint64_t product = 1;
      size_t n = 0;
      do {
        auto v = parseUnsigned();
        if (!v) return v.status();
        if (n == 3)
          return error(d.line, "{} has more than 3 dimensions", d.text);
        written += fmt::format("{}{}", n ? ", " : "", *v);
        if (*v == 0)
          return error(d.line, "{} {}: dimension {} is 0; each must be at least 1", d.text, written, n);
        dims[n++] = *v;
        if (*v > kMaxBlockThreads || product * *v > kMaxBlockThreads)
          return error(d.line, "{} {}: the block of {} x {} threads exceeds the limit of {} threads", d.text,
                       written, product, *v, kMaxBlockThreads);
        product *= *v;
      } while (accept(","));
      kernel_.maxThreads = uint32_t(product);
      if (d.is(".reqntid"))
        for (int i = 0; i < 3; ++i)
          kernel_.reqntid[i] = uint32_t(dims[i]);
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

Status Parser::parseParam() {
  const uint32_t line = peek().line;
  MOBAGEN_RETURN_IF_ERROR(expect(".param"));
  uint32_t align = 0, elem = 0;
  Type elemType = Type::None;
  while (peek().kind == TokKind::Ident && peek().text[0] == '.') {
    const Token &m = next();
    if (m.is(".align")) {
      auto v = parseAlign();
      if (!v) return v.status();
      align = *v;
    } else if (m.is(".ptr") || m.is(".global") || m.is(".shared") || m.is(".const") ||
               m.is(".local")) {
      continue;
    } else {
      const Type type = declaredType(m.text);
      if (type == Type::None)
        return error(m.line, "unexpected '{}' in a .param declaration", m.text);
      elem = typeBytes(type);
      elemType = type;
    }
  }
  if (peek().kind != TokKind::Ident)
    return error(line, "expected a parameter name but found '{}'", peek().text);
  Param p;
  p.name = std::string(next().text);
  p.type = elemType;
  bool unsized = false;
  auto count = parseArrayDims(line, unsized);
  if (!count)
    return count.status();
  if (unsized)
    return error(line, "parameter '{}' is an unsized array", p.name);
  if (elem == 0)
    return error(line, "parameter '{}' has no type", p.name);
  // Kernel parameters are at most 32764 bytes in all (PTX ISA, CUDA 12.1+).
  if (*count * elem > 32764)
    return error(line, "parameter '{}' is {} bytes; kernel parameters hold at most 32764",
                 p.name, *count * elem);
  align = std::max(align, elem);
  p.size = uint32_t(*count * elem);
  p.offset = alignUp(kernel_.paramBytes, align);
  kernel_.paramBytes = p.offset + p.size;
  symbols_[p.name] = Symbol{Space::Param, p.offset};
  kernel_.params.push_back(p);
  return Status::success();
}

Status Parser::parseCallParam() {
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

Status Parser::finishFunction() {
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

} // namespace detail

Expected<Module> parsePtx(std::string_view text, std::string_view name) {
  auto module = detail::Parser(text, name).run();
  if (!module)
    return module;
  if (Status linked = linkCalls(*module); !linked)
    return linked;
  return module;
}

} // namespace mobagen::emu
