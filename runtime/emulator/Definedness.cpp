//===- Definedness.cpp - Undefined register bytes, propagated like memcheck -===//
//
// PTX registers start undefined, and LLVM legitimately computes with undefined
// parts: it packs a half into a vector whose other half was never written,
// operates on the pair, and extracts the defined half. Faulting on the first
// read of the never-written register would reject correct kernels, so ALU and
// conversion instructions propagate definedness per byte instead (packing,
// unpacking and f16x2/bf16x2 lanes exactly; anything else all-or-nothing), and
// the fault comes where an undefined value is observed: an address, stored
// data, a predicate, a barrier id, a collective's input.
//
//===----------------------------------------------------------------------===//
#include <bit>

#include "runtime/emulator/Interpreter.h"

namespace mobagen::emu {

bool CtaRunner::sourcesDefined(const Warp &w, const Inst &inst, unsigned first, uint32_t mask) const {
  const Kernel &k = kernel();
  for (unsigned i = first; i < inst.numOperands; ++i) {
    const Operand &op = k.operand(inst, i);
    if (op.kind == OperandKind::Reg && (w.written[op.reg] & mask) != mask)
      return false;
    if (op.kind == OperandKind::Vector)
      for (unsigned e = 0; e < op.count; ++e) {
        const Operand &el = k.operands[op.reg + e];
        if (el.kind == OperandKind::Reg && (w.written[el.reg] & mask) != mask)
          return false;
      }
  }
  return true;
}

void CtaRunner::propagateDefinedness(Warp &w, const Inst &inst, unsigned first, uint32_t mask,
                                     const uint8_t (*src)[32]) {
  const Kernel &k = kernel();
  const Operand &d = k.operand(inst, 0);
  const unsigned bytes = typeBytes(inst.type);
  auto full = [](unsigned n) { return uint8_t(n >= 8 ? 0xff : (1u << n) - 1); };
  auto regBytes = [&](const Operand &op) { return op.kind == OperandKind::Reg ? typeBytes(k.regs[op.reg].type) : 8u; };
  // Where the undefined bytes come from: the first source that was never written
  // (or the origin of a source that holds undefined bytes).
  auto originOf = [&](unsigned lane) -> std::pair<uint32_t, uint32_t> {
    for (unsigned i = first; i < inst.numOperands; ++i) {
      const Operand &op = k.operand(inst, i);
      const unsigned count = op.kind == OperandKind::Vector ? op.count : 1;
      for (unsigned e = 0; e < count; ++e) {
        const Operand &r = op.kind == OperandKind::Vector ? k.operands[op.reg + e] : op;
        if (r.kind != OperandKind::Reg || (w.written[r.reg] >> lane & 1))
          continue;
        if (w.assigned[r.reg] >> lane & 1)
          return w.undefinedOrigin[r.reg];
        return {r.reg, inst.line};
      }
    }
    return {kNoReg, inst.line};
  };
  auto set = [&](const Operand &dst, unsigned lane, uint8_t defined) {
    if (dst.kind != OperandKind::Reg)
      return;
    const uint8_t need = full(typeBytes(k.regs[dst.reg].type));
    if ((defined & need) == need)
      return; // write() already marked it defined
    const auto origin = originOf(lane);
    writeUndefined(w, dst.reg, lane, w.regs[size_t(dst.reg) * 32 + lane], defined & need);
    w.undefinedOrigin[dst.reg] = origin;
  };
  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned lane = std::countr_zero(m);
    // Pack: mov.bN d, {a, b, ...}: each element's bytes.
    if (inst.op == Op::Mov && k.operand(inst, 1).kind == OperandKind::Vector) {
      const Operand &v = k.operand(inst, 1);
      const unsigned part = bytes / v.count;
      uint8_t defined = 0;
      for (unsigned e = 0; e < v.count; ++e)
        if ((src[1 + e][lane] & full(part)) == full(part))
          defined |= uint8_t(full(part) << (part * e));
      set(d, lane, defined);
      continue;
    }
    // Unpack: mov.bN {a, b, ...}, s: each element from its bytes of s.
    if (inst.op == Op::Mov && d.kind == OperandKind::Vector) {
      const unsigned part = bytes / d.count;
      for (unsigned e = 0; e < d.count; ++e)
        set(k.operands[d.reg + e], lane, uint8_t((src[1][lane] >> (part * e)) & full(part)));
      continue;
    }
    if (inst.op == Op::Mov) {
      set(d, lane, src[1][lane]);
      continue;
    }
    // Packed halves: each 16-bit half is defined when it is in every source.
    if (inst.type == Type::F16x2 || inst.type == Type::BF16x2) {
      uint8_t defined = 0;
      if (inst.op == Op::Cvt) { // cvt.rn.{f16,bf16}x2.f32 d, hi, lo
        if ((src[1][lane] & 0xf) == 0xf)
          defined |= 0xc;
        if (inst.numOperands > 2 && (src[2][lane] & 0xf) == 0xf)
          defined |= 0x3;
      } else {
        defined = 0xf;
        for (unsigned i = first; i < inst.numOperands; ++i)
          defined &= src[i][lane] | 0xf0;
        defined = uint8_t(((defined & 0x3) == 0x3 ? 0x3 : 0) | ((defined & 0xc) == 0xc ? 0xc : 0));
      }
      set(d, lane, defined);
      continue;
    }
    // selp d, a, b, p: the selected source's bytes, when p is defined.
    if (inst.op == Op::Selp) {
      if (src[3][lane] == 0) {
        set(d, lane, 0);
        continue;
      }
      const Operand &p = k.operand(inst, 3);
      const bool pickA = read(w, p, lane) != 0;
      set(d, lane, src[pickA ? 1 : 2][lane]);
      continue;
    }
    // Everything else: defined only when every source is.
    bool all = true;
    for (unsigned i = first; i < inst.numOperands; ++i)
      all &= (src[i][lane] & full(regBytes(k.operand(inst, i)))) == full(regBytes(k.operand(inst, i)));
    set(d, lane, all ? 0xff : 0);
    if (inst.op == Op::Setp && first == 2)
      set(k.operand(inst, 1), lane, all ? 0xff : 0);
  }
}

} // namespace mobagen::emu
