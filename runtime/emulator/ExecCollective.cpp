//===- ExecCollective.cpp - shfl.sync, vote.sync, redux.sync ---------------===//
//
// Called once every participating lane has arrived (Interpreter.cpp). Each
// reads all of its inputs from every lane before writing any output, following
// the pseudo-code of PTX ISA 9.7.8.6 (shfl.sync), 9.7.13.7 (vote.sync) and
// 9.7.13.8 (redux.sync).
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <bit>

#include "runtime/emulator/Interpreter.h"

namespace mobagen::emu {

Status CtaRunner::execCollective(Warp &w, const Inst &inst, uint32_t group) {
  const Kernel &k = kernel();
  for (unsigned i = 1; i < inst.numOperands; ++i) {
    const bool secondDest = inst.op == Op::Shfl && inst.numOperands == 6 && i == 1;
    if (!secondDest && !(inst.op == Op::Shfl && i == 2 + (inst.numOperands == 6)))
      MOBAGEN_RETURN_IF_ERROR(checkWritten(w, k.operand(inst, i), group, inst));
  }
  const Operand &d = k.operand(inst, 0);
  uint64_t in[32] = {};

  if (inst.op == Op::Shfl) {
    const bool hasPred = inst.numOperands == 6;
    const unsigned ai = hasPred ? 2 : 1;
    for (uint32_t m = group; m; m &= m - 1) { // snapshot of a
      const unsigned l = std::countr_zero(m);
      if (k.operand(inst, ai).kind != OperandKind::Reg || (w.written[k.operand(inst, ai).reg] >> l & 1))
        in[l] = read(w, k.operand(inst, ai), l);
    }
    for (uint32_t m = group; m; m &= m - 1) {
      const unsigned lane = std::countr_zero(m);
      const uint32_t b = uint32_t(read(w, k.operand(inst, ai + 1), lane)) & 31;
      const uint32_t c = uint32_t(read(w, k.operand(inst, ai + 2), lane));
      const uint32_t cval = c & 31, segmask = (c >> 8) & 31;
      const uint32_t maxLane = (lane & segmask) | (cval & ~segmask), minLane = lane & segmask;
      int j = 0;
      bool pval = false;
      switch (ShflMode(inst.sub)) {
      case ShflMode::Up: j = int(lane) - int(b); pval = j >= int(maxLane); break;
      case ShflMode::Down: j = int(lane + b); pval = j <= int(maxLane); break;
      case ShflMode::Bfly: j = int(lane ^ b); pval = j <= int(maxLane); break;
      case ShflMode::Idx: j = int(minLane | (b & ~segmask)); pval = j <= int(maxLane); break;
      }
      if (!pval)
        j = int(lane);
      if (!(group >> j & 1))
        return fault(w, lane, inst,
                     fmt::format("shfl.sync reads lane {}, which is not taking part (the result is undefined)", j));
      const Operand &a = k.operand(inst, ai);
      if (a.kind == OperandKind::Reg && !(w.written[a.reg] >> j & 1) && ctx_.checkUninitialized)
        return fault(w, lane, inst,
                     fmt::format("shfl.sync reads register {} of lane {}, which was never written",
                                 kernel().regs[a.reg].name, j));
      if (d.kind == OperandKind::Reg)
        write(w, d.reg, lane, in[j]);
      if (hasPred && k.operand(inst, 1).kind == OperandKind::Reg)
        write(w, k.operand(inst, 1).reg, lane, pval);
    }
    return Status::success();
  }

  for (uint32_t m = group; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    in[l] = read(w, k.operand(inst, 1), l);
  }
  if (inst.op == Op::Vote) {
    uint32_t ballot = 0;
    for (uint32_t m = group; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      if (in[l] & 1)
        ballot |= 1u << l;
    }
    uint64_t r = 0;
    switch (VoteMode(inst.sub)) {
    case VoteMode::All: r = ballot == group; break;
    case VoteMode::Any: r = ballot != 0; break;
    case VoteMode::Uni: r = ballot == 0 || ballot == group; break;
    case VoteMode::Ballot: r = ballot; break;
    }
    for (uint32_t m = group; m; m &= m - 1)
      if (d.kind == OperandKind::Reg)
        write(w, d.reg, std::countr_zero(m), r);
    return Status::success();
  }

  // redux.sync
  const bool isSigned = inst.type == Type::S32;
  uint64_t acc = 0;
  bool first = true;
  for (uint32_t m = group; m; m &= m - 1) {
    const uint32_t v = uint32_t(in[std::countr_zero(m)]);
    if (first) {
      acc = v;
      first = false;
      continue;
    }
    switch (AtomOp(inst.sub)) {
    case AtomOp::Add: acc = uint32_t(acc + v); break;
    case AtomOp::Min: acc = isSigned ? uint32_t(std::min(int32_t(acc), int32_t(v))) : std::min<uint32_t>(uint32_t(acc), v); break;
    case AtomOp::Max: acc = isSigned ? uint32_t(std::max(int32_t(acc), int32_t(v))) : std::max<uint32_t>(uint32_t(acc), v); break;
    case AtomOp::And: acc &= v; break;
    case AtomOp::Or: acc |= v; break;
    case AtomOp::Xor: acc ^= v; break;
    default:
      return fault(w, std::countr_zero(group), inst, "redux.sync supports add, min, max, and, or, xor");
    }
  }
  for (uint32_t m = group; m; m &= m - 1)
    if (d.kind == OperandKind::Reg)
      write(w, d.reg, std::countr_zero(m), acc);
  return Status::success();
}

} // namespace mobagen::emu
