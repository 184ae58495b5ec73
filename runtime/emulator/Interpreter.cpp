//===- Interpreter.cpp - Warp scheduling, barriers, deadlock reports -------===//
#include "runtime/emulator/Interpreter.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace mobagen::emu {
namespace {

constexpr unsigned kQuantum = 512; // warp steps before the next warp gets a turn

std::string laneList(uint32_t mask) {
  std::string out;
  for (unsigned l = 0; l < 32;) {
    if (!(mask >> l & 1)) {
      ++l;
      continue;
    }
    unsigned e = l;
    while (e + 1 < 32 && (mask >> (e + 1) & 1))
      ++e;
    if (!out.empty())
      out += ",";
    out += e == l ? std::to_string(l) : fmt::format("{}-{}", l, e);
    l = e + 1;
  }
  return out.empty() ? "none" : out;
}

bool isCollective(Op op) {
  return op == Op::Bar || op == Op::BarWarpSync || op == Op::Shfl || op == Op::Vote ||
         op == Op::Redux || op == Op::Ldmatrix || op == Op::Mma;
}

} // namespace

CtaRunner::CtaRunner(const LaunchContext &ctx, Dim ctaId) : ctx_(ctx), ctaId_(ctaId) {
  const Kernel &k = *ctx.kernel;
  numThreads_ = ctx.block.x * ctx.block.y * ctx.block.z;
  const uint32_t numWarps = (numThreads_ + 31) / 32;
  warps_.resize(numWarps);
  const size_t numRegs = k.regs.size();
  regMask_.resize(numRegs);
  for (size_t r = 0; r < numRegs; ++r) {
    const unsigned bytes = typeBytes(k.regs[r].type);
    regMask_[r] = bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
  }
  for (uint32_t i = 0; i < numWarps; ++i) {
    Warp &w = warps_[i];
    w.id = i;
    const uint32_t threads = std::min<uint32_t>(32, numThreads_ - i * 32);
    w.existMask = threads == 32 ? 0xffffffffu : (1u << threads) - 1;
    w.running = w.existMask;
    for (unsigned l = 0; l < 32; ++l)
      w.state[l] = (w.existMask >> l & 1) ? LaneState::Running : LaneState::Exited;
    w.regs.assign(numRegs * 32, 0);
    w.written.assign(numRegs, 0);
    w.assigned.assign(numRegs, 0);
    w.definedBytes.assign(numRegs * 32, 0);
    w.undefinedOrigin.assign(numRegs, {kNoReg, 0});
  }
  const size_t sharedBytes = size_t(k.dynamicSharedOffset) + ctx.dynamicSharedBytes;
  shared_.assign(std::max<size_t>(sharedBytes, k.staticSharedBytes), 0);
  sharedShadow_.assign(shared_.size(), SharedShadow{});
  local_.assign(size_t(k.localBytes) * numThreads_, 0);
  localInit_.assign(local_.size(), 0);
  callFrame_.assign(size_t(k.callParamBytes) * numThreads_, 0);
  callFrameInit_.assign(callFrame_.size(), 0);
}

std::string CtaRunner::threadName(uint32_t t) const {
  const uint32_t x = t % ctx_.block.x, y = (t / ctx_.block.x) % ctx_.block.y,
                 z = t / (ctx_.block.x * ctx_.block.y);
  return fmt::format("thread ({},{},{})", x, y, z);
}

std::string CtaRunner::where(const Inst &inst) const {
  const Kernel &k = kernel();
  const size_t index = &inst - k.code.data();
  return fmt::format("kernel '{}', line {} `{}`", k.name, inst.line,
                     index < k.text.size() ? k.text[index] : std::string("?"));
}

Status CtaRunner::fault(const Warp &w, unsigned lane, const Inst &inst, const std::string &what) const {
  return Status::errorf("{}, CTA ({},{},{}), {}: {}", where(inst), ctaId_.x, ctaId_.y, ctaId_.z,
                        threadName(threadIndex(w, lane)), what);
}

uint64_t CtaRunner::readSpecial(Warp &w, const Operand &op, unsigned lane) {
  switch (op.kind) {
  case OperandKind::Special: {
    const uint32_t t = threadIndex(w, lane);
    const Dim &b = ctx_.block, &g = ctx_.grid;
    switch (op.special) {
    case SpecialReg::TidX: return t % b.x;
    case SpecialReg::TidY: return (t / b.x) % b.y;
    case SpecialReg::TidZ: return t / (b.x * b.y);
    case SpecialReg::NtidX: return b.x;
    case SpecialReg::NtidY: return b.y;
    case SpecialReg::NtidZ: return b.z;
    case SpecialReg::CtaidX: return ctaId_.x;
    case SpecialReg::CtaidY: return ctaId_.y;
    case SpecialReg::CtaidZ: return ctaId_.z;
    case SpecialReg::NctaidX: return g.x;
    case SpecialReg::NctaidY: return g.y;
    case SpecialReg::NctaidZ: return g.z;
    case SpecialReg::LaneId: return lane;
    case SpecialReg::WarpId: return w.id;
    case SpecialReg::NWarpId: return warps_.size();
    case SpecialReg::LanemaskEq: return 1u << lane;
    case SpecialReg::LanemaskLt: return (1u << lane) - 1;
    case SpecialReg::LanemaskLe: return uint32_t((2ull << lane) - 1);
    case SpecialReg::LanemaskGt: return ~uint32_t((2ull << lane) - 1);
    case SpecialReg::LanemaskGe: return ~((1u << lane) - 1);
    case SpecialReg::Clock: case SpecialReg::Clock64: case SpecialReg::GlobalTimer:
      return counters_.totalWarpInstructions();
    case SpecialReg::SmId: return 0;
    case SpecialReg::DynamicSmemSize: return ctx_.dynamicSharedBytes;
    case SpecialReg::TotalSmemSize: return shared_.size();
    }
    return 0;
  }
  default:
    return 0;
  }
}

Status CtaRunner::checkWritten(Warp &w, const Operand &op, uint32_t mask, const Inst &inst) {
  if (!ctx_.checkUninitialized)
    return Status::success();
  auto check = [&](uint32_t reg) -> Status {
    const uint32_t missing = mask & ~w.written[reg];
    if (missing) {
      const unsigned lane = std::countr_zero(missing);
      if (w.assigned[reg] >> lane & 1) {
        const auto [origin, line] = w.undefinedOrigin[reg];
        return fault(w, lane, inst,
                     fmt::format("register {} holds an undefined value here (defined bytes 0x{:02x}): it was "
                                 "computed from register {}, read at line {} but never written",
                                 kernel().regs[reg].name, w.definedBytes[size_t(reg) * 32 + lane],
                                 origin == kNoReg ? std::string("?") : kernel().regs[origin].name, line));
      }
      return fault(w, lane, inst,
                   fmt::format("read of register {} that was never written", kernel().regs[reg].name));
    }
    return Status::success();
  };
  if (op.kind == OperandKind::Reg)
    return check(op.reg);
  if (op.kind == OperandKind::Address && op.reg != kNoReg)
    return check(op.reg);
  if (op.kind == OperandKind::Vector)
    for (unsigned i = 0; i < op.count; ++i) {
      const Operand &e = kernel().operands[op.reg + i];
      if (e.kind == OperandKind::Reg)
        MOBAGEN_RETURN_IF_ERROR(check(e.reg));
    }
  return Status::success();
}

uint32_t CtaRunner::guardMask(Warp &w, const Inst &inst, uint32_t mask, Status &status) {
  if (inst.guard == kNoReg)
    return mask;
  Operand g;
  g.kind = OperandKind::Reg;
  g.reg = inst.guard;
  status = checkWritten(w, g, mask, inst);
  uint32_t exec = 0;
  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    if ((w.regs[size_t(inst.guard) * 32 + l] != 0) != inst.guardNegated)
      exec |= 1u << l;
  }
  return exec;
}

Status CtaRunner::run() {
  const Kernel &k = kernel();
  while (true) {
    bool anyProgress = false, allDone = true;
    for (Warp &w : warps_) {
      for (unsigned i = 0; i < kQuantum; ++i) {
        bool progressed = false;
        MOBAGEN_RETURN_IF_ERROR(step(w, progressed));
        if (!progressed)
          break;
        anyProgress = true;
      }
      if (w.liveMask())
        allDone = false;
    }
    if (allDone)
      break;
    if (!anyProgress)
      return deadlockReport();
    if (ctx_.abort && ctx_.abort->load(std::memory_order_relaxed))
      return Status::error("aborted: another CTA failed");
    if (ctx_.instructionLimit && counters_.totalWarpInstructions() > ctx_.instructionLimit) {
      std::string pcs;
      for (const Warp &w : warps_)
        if (w.running)
          pcs += fmt::format("; warp {} at line {}", w.id,
                             k.code[w.pc[std::countr_zero(w.running)]].line);
      return Status::errorf("kernel '{}', CTA ({},{},{}): exceeded the limit of {} warp instructions "
                            "per CTA (an endless loop?){}",
                            k.name, ctaId_.x, ctaId_.y, ctaId_.z, ctx_.instructionLimit, pcs);
    }
  }
  counters_.ctas = 1;
  counters_.executedCtas = 1;
  return Status::success();
}

Status CtaRunner::step(Warp &w, bool &progressed) {
  if (!w.running) {
    progressed = false;
    return Status::success();
  }
  const Kernel &k = kernel();
  uint32_t pc, mask;
  if (w.uniform) {
    pc = w.pc[std::countr_zero(w.running)];
    mask = w.running;
  } else {
    pc = ~0u;
    mask = 0;
    for (uint32_t m = w.running; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      if (w.pc[l] < pc) {
        pc = w.pc[l];
        mask = 1u << l;
      } else if (w.pc[l] == pc) {
        mask |= 1u << l;
      }
    }
  }
  progressed = true;
  if (pc >= k.code.size())
    return Status::errorf("kernel '{}': a lane ran past the last instruction", k.name);
  const Inst &inst = k.code[pc];
  Status status = Status::success();
  const uint32_t exec = guardMask(w, inst, mask, status);
  MOBAGEN_RETURN_IF_ERROR(status);
  counters_.warpInstructions[size_t(inst.cls)]++;
  counters_.threadInstructions += std::popcount(exec);

  auto advance = [&](uint32_t lanes) {
    for (uint32_t m = lanes; m; m &= m - 1)
      w.pc[std::countr_zero(m)]++;
  };

  switch (inst.op) {
  case Op::Bra: {
    if ((inst.flags & kUni) && exec != mask && exec != 0)
      return fault(w, std::countr_zero(mask & ~exec), inst,
                   fmt::format("bra.uni diverged: lanes {} branch, lanes {} do not", laneList(exec),
                               laneList(mask & ~exec)));
    for (uint32_t m = exec; m; m &= m - 1)
      w.pc[std::countr_zero(m)] = inst.target;
    advance(mask & ~exec);
    if (exec != mask && exec != 0)
      w.uniform = false;
    break;
  }
  case Op::Trap:
    if (exec)
      return fault(w, std::countr_zero(exec), inst, "trap executed (the kernel aborted itself)");
    advance(mask);
    break;
  case Op::Activemask: // the lanes executing this instruction together
    for (uint32_t m = exec; m; m &= m - 1)
      write(w, kernel().operand(inst, 0).reg, std::countr_zero(m), mask);
    advance(mask);
    break;
  case Op::Ret:
  case Op::Exit:
    for (uint32_t m = exec; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      w.state[l] = LaneState::Exited;
      w.exitLine[l] = inst.line;
    }
    w.running &= ~exec;
    advance(mask & ~exec);
    if (exec != mask)
      w.uniform = false;
    break;
  default:
    if (isCollective(inst.op) && !(inst.op == Op::Bar && !(inst.flags & kAligned))) {
      advance(mask & ~exec);
      if (exec != mask)
        w.uniform = false;
      if (exec)
        MOBAGEN_RETURN_IF_ERROR(arriveCollective(w, inst, pc, exec));
      break;
    }
    if (inst.op == Op::Bar) { // barrier.sync without .aligned: threads arrive one by one
      advance(mask & ~exec);
      if (exec)
        MOBAGEN_RETURN_IF_ERROR(arriveBarrier(w, inst, exec));
      w.uniform = false;
      break;
    }
    if (exec) {
      switch (opClass(inst.op)) {
      case OpClass::Memory:
        if (inst.op == Op::CpAsync || inst.op == Op::CpAsyncCommit || inst.op == Op::CpAsyncWait ||
            inst.op == Op::CpAsyncWaitAll)
          status = execCpAsync(w, inst, exec);
        else if (inst.op != Op::Fence)
          status = execMemory(w, inst, exec);
        break;
      case OpClass::Convert:
        status = execConvert(w, inst, exec);
        break;
      default:
        status = execAlu(w, inst, exec);
        break;
      }
      MOBAGEN_RETURN_IF_ERROR(status);
    }
    advance(mask);
    break;
  }
  if (!w.uniform && w.running) {
    const uint32_t first = w.pc[std::countr_zero(w.running)];
    bool same = true;
    for (uint32_t m = w.running; m && same; m &= m - 1)
      same = w.pc[std::countr_zero(m)] == first;
    w.uniform = same;
  }
  return Status::success();
}

Status CtaRunner::arriveCollective(Warp &w, const Inst &inst, uint32_t pc, uint32_t mask) {
  // Every arriving lane names the same member mask (shfl/vote/redux/bar.warp.sync);
  // the .aligned ones need the whole warp.
  uint32_t required = w.existMask;
  const bool hasMemberMask = inst.op == Op::Shfl || inst.op == Op::Vote || inst.op == Op::Redux ||
                             inst.op == Op::BarWarpSync;
  if (hasMemberMask) {
    const Operand &m = kernel().operand(inst, inst.numOperands - 1);
    MOBAGEN_RETURN_IF_ERROR(checkWritten(w, m, mask, inst));
    const unsigned first = std::countr_zero(mask);
    required = uint32_t(read(w, m, first));
    for (uint32_t r = mask; r; r &= r - 1) {
      const unsigned l = std::countr_zero(r);
      const uint32_t mine = uint32_t(read(w, m, l));
      if (mine != required)
        return fault(w, l, inst,
                     fmt::format("membermask 0x{:08x} differs from lane {}'s 0x{:08x}", mine, first, required));
      if (!(mine >> l & 1))
        return fault(w, l, inst, fmt::format("the executing lane {} is not in membermask 0x{:08x}", l, mine));
    }
    if (required & ~w.existMask)
      return fault(w, first, inst,
                   fmt::format("membermask 0x{:08x} names lanes {} that are not threads of the CTA",
                               required, laneList(required & ~w.existMask)));
  }
  for (uint32_t r = mask; r; r &= r - 1) {
    const unsigned l = std::countr_zero(r);
    w.state[l] = LaneState::WaitCollective;
  }
  w.running &= ~mask;
  w.uniform = false;

  uint32_t waiting = 0;
  for (uint32_t r = required; r; r &= r - 1) {
    const unsigned l = std::countr_zero(r);
    if (w.state[l] == LaneState::WaitCollective && w.pc[l] == pc)
      waiting |= 1u << l;
  }
  if (waiting != required)
    return Status::success(); // the others have not arrived yet
  const uint32_t group = waiting | mask;
  for (uint32_t r = group; r; r &= r - 1) {
    const unsigned l = std::countr_zero(r);
    w.state[l] = LaneState::Running;
    w.pc[l] = pc + 1;
  }
  w.running |= group;
  switch (inst.op) {
  case Op::Bar:
    return arriveBarrier(w, inst, group);
  case Op::BarWarpSync:
    w.warpSyncEpoch++;
    return Status::success();
  case Op::Ldmatrix:
    return execLdmatrix(w, inst, group);
  case Op::Mma:
    return execMma(w, inst, group);
  default:
    return execCollective(w, inst, group);
  }
}

Status CtaRunner::arriveBarrier(Warp &w, const Inst &inst, uint32_t mask) {
  const BarKind kind = BarKind(inst.sub);
  // bar.sync / bar.arrive a{, b}; bar.red.op d, a{, b}, {!}c (PTX ISA 9.7.13.1).
  const bool isRed = kind != BarKind::Sync && kind != BarKind::Arrive;
  const unsigned idIndex = isRed ? 1 : 0;
  const bool hasCount = inst.numOperands == (isRed ? 4 : 2);
  const unsigned first = std::countr_zero(mask);
  for (unsigned i = idIndex; i < inst.numOperands; ++i)
    MOBAGEN_RETURN_IF_ERROR(checkWritten(w, kernel().operand(inst, i), mask, inst));
  const uint64_t id = read(w, kernel().operand(inst, idIndex), first);
  if (id >= 16)
    return fault(w, first, inst, fmt::format("barrier id {} is out of range 0..15", id));
  uint32_t expected = numThreads_;
  if (hasCount) {
    expected = uint32_t(read(w, kernel().operand(inst, idIndex + 1), first));
    if (expected % 32 != 0 || expected == 0)
      return fault(w, first, inst,
                   fmt::format("barrier thread count {} is not a positive multiple of the warp size", expected));
    if (expected > ((numThreads_ + 31) & ~31u))
      return fault(w, first, inst,
                   fmt::format("barrier thread count {} exceeds the CTA's {} threads", expected, numThreads_));
  }
  Barrier &b = barriers_[id];
  if (b.arrived > 0 && b.expected != expected)
    return fault(w, first, inst,
                 fmt::format("barrier mismatch: barrier {} expects {} threads here but {} at line {}", id,
                             expected, b.expected, b.line));
  // bar.sync and bar.arrive may share a barrier (producer/consumer); a bar.red must
  // meet the same bar.red.
  const bool otherIsRed = BarKind(b.kind) != BarKind::Sync && BarKind(b.kind) != BarKind::Arrive;
  if (b.arrived > 0 && (isRed || otherIsRed) && b.kind != uint8_t(kind))
    return fault(w, first, inst,
                 fmt::format("barrier mismatch: barrier {} is used by bar.red and another barrier instruction "
                             "(line {}) at once", id, b.line));
  b.expected = expected;
  b.line = inst.line;
  if (isRed) {
    b.kind = uint8_t(kind);
    const Operand &c = kernel().operand(inst, inst.numOperands - 1);
    for (uint32_t r = mask; r; r &= r - 1)
      (read(w, c, std::countr_zero(r)) != 0 ? b.redTrue : b.redFalse)++;
    w.redDest = kernel().operand(inst, 0).kind == OperandKind::Reg ? kernel().operand(inst, 0).reg : kNoReg;
  } else {
    b.kind = uint8_t(kind);
    w.redDest = kNoReg;
  }
  // A warp arriving at an .aligned barrier counts its live threads (PTX ISA: the
  // count grows by the warp size for a full warp).
  b.arrived += std::popcount(mask);
  if (kind != BarKind::Arrive) {
    for (uint32_t r = mask; r; r &= r - 1) {
      const unsigned l = std::countr_zero(r);
      w.state[l] = LaneState::WaitBarrier;
    }
    w.running &= ~mask;
    w.uniform = false;
    w.barrierId = uint8_t(id);
    b.waitingWarps.push_back(w.id);
  }
  if (b.arrived >= b.expected) {
    const BarKind redKind = BarKind(b.kind);
    const uint64_t result = redKind == BarKind::RedPopc ? b.redTrue
                            : redKind == BarKind::RedAnd ? uint64_t(b.redFalse == 0)
                                                         : uint64_t(b.redTrue > 0);
    for (uint32_t wid : b.waitingWarps) {
      Warp &o = warps_[wid];
      for (unsigned l = 0; l < 32; ++l)
        if (o.state[l] == LaneState::WaitBarrier) {
          o.state[l] = LaneState::Running;
          o.running |= 1u << l;
          if (o.redDest != kNoReg)
            write(o, o.redDest, l, result);
        }
      o.redDest = kNoReg;
      o.uniform = false;
    }
    b.waitingWarps.clear();
    b.arrived = 0;
    b.expected = 0;
    b.redTrue = b.redFalse = 0;
    ctaEpoch_++; // every shared access before the barrier is ordered before every one after
  }
  return Status::success();
}

Status CtaRunner::deadlockReport() {
  const Kernel &k = kernel();
  std::string report;
  // A collective that can never complete is reported as such first.
  for (const Warp &w : warps_) {
    uint32_t waiting = 0, exited = 0;
    for (unsigned l = 0; l < 32; ++l) {
      if (!(w.existMask >> l & 1))
        continue;
      if (w.state[l] == LaneState::WaitCollective)
        waiting |= 1u << l;
      if (w.state[l] == LaneState::Exited)
        exited |= 1u << l;
    }
    if (!waiting)
      continue;
    const unsigned l0 = std::countr_zero(waiting);
    const Inst &inst = k.code[w.pc[l0]];
    uint32_t same = 0;
    for (uint32_t r = waiting; r; r &= r - 1)
      if (w.pc[std::countr_zero(r)] == w.pc[l0])
        same |= 1u << std::countr_zero(r);
    std::string others;
    if (same != waiting) {
      const unsigned l1 = std::countr_zero(waiting & ~same);
      others = fmt::format("lanes {} wait at line {} instead", laneList(waiting & ~same), k.code[w.pc[l1]].line);
    }
    if (exited) {
      if (!others.empty())
        others += "; ";
      others += fmt::format("lanes {} exited (line {})", laneList(exited), w.exitLine[std::countr_zero(exited)]);
    }
    return fault(w, l0, inst,
                 fmt::format("collective mismatch: lanes {} of warp {} wait at {} (line {}) for the rest "
                             "of its participants, which can never arrive: {}",
                             laneList(same), w.id, opName(inst.op), inst.line, others));
  }
  for (const Warp &w : warps_) {
    uint32_t atBarrier = 0, exited = 0;
    for (unsigned l = 0; l < 32; ++l) {
      if (!(w.existMask >> l & 1))
        continue;
      if (w.state[l] == LaneState::WaitBarrier)
        atBarrier |= 1u << l;
      if (w.state[l] == LaneState::Exited)
        exited |= 1u << l;
    }
    report += fmt::format("; warp {}:", w.id);
    if (atBarrier) {
      const Inst &inst = k.code[w.pc[std::countr_zero(atBarrier)] - 1];
      const Barrier &b = barriers_[w.barrierId];
      report += fmt::format(" lanes {} wait at line {} `{}` ({} of {} threads arrived)", laneList(atBarrier),
                            inst.line, k.text[&inst - k.code.data()], b.arrived, b.expected);
    }
    if (exited)
      report += fmt::format(" lanes {} exited (line {})", laneList(exited), w.exitLine[std::countr_zero(exited)]);
  }
  return Status::errorf("kernel '{}', CTA ({},{},{}): deadlock: no warp can make progress{}", k.name,
                        ctaId_.x, ctaId_.y, ctaId_.z, report);
}

} // namespace mobagen::emu
