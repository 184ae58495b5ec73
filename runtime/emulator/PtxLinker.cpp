//===- PtxLinker.cpp - Inline .func calls into the kernels ------------------===//
//
// LLVM's NVPTX backend emits a call as a "call sequence": a { } scope that
// declares .param variables, st.param of the arguments, call (ret), f, (args),
// and ld.param of the results. The interpreter runs a warp's lanes by PC, so
// rather than keeping per-lane call stacks, every call is inlined at load time:
// the callee's code is appended to the kernel with fresh registers, its local
// frame and call-sequence params appended to the caller's, its formal params
// renamed to the caller's .param variables, `ret` turned into a branch back
// after the call, and the call itself into a branch to the copy. A call guarded
// by a predicate stays guarded, so lanes that skip it simply fall through.
// Recursion (which PTX allows) is reported as not implemented.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <unordered_map>

#include "runtime/emulator/PtxParser.h"

namespace mobagen::emu {
namespace {

constexpr int kMaxDepth = 32;

uint32_t alignUp(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

Status inlineCall(Kernel &k, uint32_t at, const Kernel &f, std::vector<std::string> &callees,
                  std::vector<int> &depths, const std::vector<std::string> &fCallees) {
  const Inst call = k.code[at];
  const unsigned numRets = call.vec, numArgs = call.numOperands - call.vec;
  std::vector<const Param *> rets, args;
  for (const Param &p : f.params)
    (p.isReturn ? rets : args).push_back(&p);
  if (rets.size() != numRets || args.size() != numArgs)
    return Status::errorf("call to '{}' (line {}) passes {} argument(s) and {} result(s); '{}' takes {} and {}",
                          f.name, call.line, numArgs, numRets, f.name, args.size(), rets.size());

  const uint32_t regBase = uint32_t(k.regs.size());
  for (const RegInfo &r : f.regs)
    k.regs.push_back(RegInfo{f.name + ":" + r.name, r.type});
  const uint32_t localBase = alignUp(k.localBytes, 16);
  k.localBytes = localBase + f.localBytes;
  const uint32_t callBase = alignUp(k.callParamBytes, 16);
  k.callParamBytes = callBase + f.callParamBytes;

  auto remapParam = [&](int64_t offset) -> int64_t {
    if (offset >= int64_t(kCallParamBase))
      return offset + callBase;
    for (unsigned i = 0; i < rets.size(); ++i)
      if (offset >= rets[i]->offset && offset < rets[i]->offset + rets[i]->size)
        return k.operand(call, i).imm + (offset - rets[i]->offset);
    for (unsigned i = 0; i < args.size(); ++i)
      if (offset >= args[i]->offset && offset < args[i]->offset + args[i]->size)
        return k.operand(call, numRets + i).imm + (offset - args[i]->offset);
    return -1;
  };
  auto remap = [&](Operand o) -> Expected<Operand> {
    if (o.kind == OperandKind::Reg)
      o.reg += regBase;
    if (o.kind == OperandKind::Address && o.reg != kNoReg)
      o.reg += regBase;
    if ((o.kind == OperandKind::Address || o.kind == OperandKind::Imm) && o.space == Space::Local)
      o.imm += localBase;
    if ((o.kind == OperandKind::Address || o.kind == OperandKind::Imm) && o.space == Space::Param) {
      const int64_t mapped = remapParam(o.imm);
      if (mapped < 0)
        return Status::errorf("'{}' addresses param offset {} outside its parameters", f.name, o.imm);
      o.imm = mapped;
    }
    return o;
  };

  const uint32_t start = uint32_t(k.code.size());
  const int depth = depths[at] + 1;
  if (depth > kMaxDepth)
    return Status::errorf("call chain through '{}' is deeper than {} (recursion is not implemented)", f.name,
                          kMaxDepth);
  for (size_t j = 0; j < f.code.size(); ++j) {
    Inst n = f.code[j];
    if (n.guard != kNoReg)
      n.guard += regBase;
    n.firstOperand = uint32_t(k.operands.size());
    for (unsigned i = 0; i < n.numOperands; ++i) {
      auto o = remap(f.operand(f.code[j], i));
      if (!o)
        return o.status();
      k.operands.push_back(*o);
    }
    for (unsigned i = 0; i < n.numOperands; ++i) {
      Operand &v = k.operands[n.firstOperand + i];
      if (v.kind != OperandKind::Vector)
        continue;
      const uint32_t first = v.reg; // still the callee's pool index
      v.reg = uint32_t(k.operands.size());
      for (unsigned e = 0; e < v.count; ++e) {
        auto o = remap(f.operands[first + e]);
        if (!o)
          return o.status();
        k.operands.push_back(*o);
      }
    }
    if (n.op == Op::Bra)
      n.target += start;
    if (n.op == Op::Ret) { // back to the instruction after the call
      n.op = Op::Bra;
      n.cls = OpClass::Control;
      n.target = at + 1;
      n.numOperands = 0;
    }
    k.code.push_back(n);
    k.text.push_back(f.text[j]);
    callees.push_back(j < fCallees.size() ? fCallees[j] : std::string());
    depths.push_back(depth);
  }
  Inst &jump = k.code[at];
  jump.op = Op::Bra;
  jump.target = start;
  jump.numOperands = 0;
  return Status::success();
}

} // namespace

Status linkCalls(Module &module) {
  if (module.calls.empty())
    return Status::success();
  std::vector<std::vector<std::string>> callees(module.kernels.size());
  for (size_t i = 0; i < module.kernels.size(); ++i)
    callees[i].assign(module.kernels[i].code.size(), std::string());
  for (const CallSite &c : module.calls)
    callees[c.kernel][c.inst] = c.callee;
  // Bodies as parsed, before any inlining (a callee's own calls are inlined with it).
  const std::vector<Kernel> original = module.kernels;
  std::unordered_map<std::string, size_t> byName;
  for (size_t i = 0; i < original.size(); ++i)
    if (!original[i].isEntry)
      byName[original[i].name] = i;

  for (size_t ki = 0; ki < module.kernels.size(); ++ki) {
    Kernel &k = module.kernels[ki];
    if (!k.isEntry)
      continue;
    std::vector<std::string> &names = callees[ki];
    std::vector<int> depths(k.code.size(), 0);
    for (uint32_t i = 0; i < k.code.size(); ++i) {
      if (k.code[i].op != Op::Call)
        continue;
      auto it = byName.find(names[i]);
      if (it == byName.end())
        return Status::errorf("{}:{}: call to '{}', which has no body in this module", module.name,
                              k.code[i].line, names[i]);
      const Kernel &f = original[it->second];
      if (f.code.empty())
        return Status::errorf("{}:{}: call to '{}', which is only declared", module.name, k.code[i].line,
                              names[i]);
      if (Status s = inlineCall(k, i, f, names, depths, callees[it->second]); !s)
        return Status::errorf("{}:{}: {}", module.name, k.code[i].line, s.message());
    }
  }
  module.calls.clear();
  return Status::success();
}

} // namespace mobagen::emu
