//===- ExecMemory.cpp - ld, st, atom, red and cp.async (PTX ISA 9.7.9) -----===//
//
// Every access is checked before it happens: the address must lie inside a
// live allocation (global), the CTA's shared memory, the thread's local frame
// or the kernel's parameters, and be aligned to the access size (the whole
// vector for .v2/.v4). Reads of bytes nobody wrote are faults. Shared memory
// also keeps the last writer and reader of each byte with the barrier epoch,
// so two threads touching a byte between barriers (one of them writing) is a
// reported race.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>

#include "runtime/emulator/Interpreter.h"

namespace mobagen::emu {

uint64_t CtaRunner::effectiveAddress(Warp &w, const Operand &op, unsigned lane, Space instSpace) {
  uint64_t addr = uint64_t(op.imm);
  if (op.reg != kNoReg)
    addr += w.regs[size_t(op.reg) * 32 + lane];
  else if (instSpace == Space::Generic && op.space == Space::Shared)
    addr += kSharedWindow;
  else if (instSpace == Space::Generic && op.space == Space::Local)
    addr += kLocalWindow;
  return addr;
}

Status CtaRunner::resolve(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr,
                          unsigned size, unsigned align, Access access, Resolved &out) {
  const char *verb = access == Access::Read ? "read" : access == Access::Write ? "write" : "atomic";
  if (space == Space::Generic) {
    if (addr >= kSharedWindow && addr < kSharedWindow + kWindowSize) {
      space = Space::Shared;
      addr -= kSharedWindow;
    } else if (addr >= kLocalWindow && addr < kLocalWindow + kWindowSize) {
      space = Space::Local;
      addr -= kLocalWindow;
    } else {
      space = Space::Global;
    }
  }
  if (align > 1 && addr % align != 0)
    return fault(w, lane, inst,
                 fmt::format("misaligned {}-byte {} at {} address 0x{:x} (must be a multiple of {})", size,
                             verb, spaceName(space), addr, align));
  switch (space) {
  case Space::Const:
    if (access != Access::Read)
      return fault(w, lane, inst, fmt::format("{} of constant memory at 0x{:x}: it is read-only", verb, addr));
    [[fallthrough]];
  case Space::Global: {
    GlobalMemory::Allocation *a = lastAllocation_;
    if (!a || addr < a->base || addr - a->base + size > a->size) {
      a = ctx_.global->find(addr, size);
      if (!a)
        return fault(w, lane, inst,
                     fmt::format("out-of-bounds global {}: {}", verb, ctx_.global->describeMiss(addr, size)));
      lastAllocation_ = a;
    }
    out.data = a->data.get() + (addr - a->base);
    out.init = a->init.get() + (addr - a->base);
    return Status::success();
  }
  case Space::Shared:
    if (addr + size > shared_.size())
      return fault(w, lane, inst,
                   fmt::format("out-of-bounds shared {}: offset {} + {} bytes is past the CTA's {} bytes "
                               "({} static + {} dynamic)",
                               verb, addr, size, shared_.size(), kernel().dynamicSharedOffset,
                               ctx_.dynamicSharedBytes));
    out.data = shared_.data() + addr;
    out.shadow = sharedShadow_.data() + addr;
    return Status::success();
  case Space::Local: {
    const uint32_t frame = kernel().localBytes;
    if (addr + size > frame)
      return fault(w, lane, inst,
                   fmt::format("out-of-bounds local {}: offset {} + {} bytes is past the thread's {}-byte frame",
                               verb, addr, size, frame));
    const size_t base = size_t(threadIndex(w, lane)) * frame + addr;
    out.data = local_.data() + base;
    out.init = localInit_.data() + base;
    return Status::success();
  }
  case Space::Param:
    if (addr >= kCallParamBase) { // a call sequence's .param: the thread's own, writable
      const uint32_t frame = kernel().callParamBytes;
      if (addr - kCallParamBase + size > frame)
        return fault(w, lane, inst,
                     fmt::format("call parameter access at offset {} + {} bytes is past the {}-byte call frame",
                                 addr - kCallParamBase, size, frame));
      const size_t base = size_t(threadIndex(w, lane)) * frame + (addr - kCallParamBase);
      out.data = callFrame_.data() + base;
      out.init = callFrameInit_.data() + base;
      return Status::success();
    }
    if (access != Access::Read)
      return fault(w, lane, inst, "kernel parameters are read-only");
    if (addr + size > ctx_.params.size())
      return fault(w, lane, inst,
                   fmt::format("parameter read at offset {} + {} bytes is past the {} bytes of parameters", addr,
                               size, ctx_.params.size()));
    out.data = const_cast<uint8_t *>(ctx_.params.data()) + addr;
    return Status::success();
  default:
    return fault(w, lane, inst, fmt::format("the {} state space is not implemented", spaceName(space)));
  }
}

Status CtaRunner::checkShared(Warp &w, unsigned lane, const Inst &inst, uint32_t offset, unsigned size,
                              Access access) {
  const uint16_t me = uint16_t(threadIndex(w, lane));
  const uint32_t epoch = ctaEpoch_;
  for (unsigned i = 0; i < size; ++i) {
    SharedShadow &s = sharedShadow_[offset + i];
    // Whether the previous access by `other` is ordered before this one: an
    // earlier barrier epoch, or bar.warp.sync within the same warp since.
    auto ordered = [&](uint16_t other, uint32_t otherEpoch, uint32_t otherWarpEpoch) {
      if (other == me || otherEpoch != epoch)
        return true;
      return other / 32 == me / 32 && otherWarpEpoch != w.warpSyncEpoch;
    };
    if (access == Access::Read) {
      if (ctx_.checkUninitialized && s.state == 0)
        return fault(w, lane, inst,
                     fmt::format("read of shared memory never written: offset {} (byte {} of a {}-byte read)",
                                 offset + i, i, size));
      if (s.state == 2)
        return fault(w, lane, inst,
                     fmt::format("read of shared offset {} while the cp.async by {} (line {}) that writes it is "
                                 "still in flight: no cp.async.wait_group completed it",
                                 offset + i, threadName(s.writer), s.writeLine));
      if (ctx_.checkRaces && !ordered(s.writer, s.writeEpoch, s.writeWarpEpoch))
        return fault(w, lane, inst,
                     fmt::format("shared-memory race: read of offset {} after the write by {} (line {}) with no "
                                 "barrier between them",
                                 offset + i, threadName(s.writer), s.writeLine));
      if (s.readEpoch != epoch) {
        s.reader = me;
        s.reader2 = SharedShadow::kNone;
        s.readWarp = uint16_t(me / 32);
        s.readEpoch = epoch;
        s.readLine = inst.line;
      } else if (s.reader != me && s.reader2 == SharedShadow::kNone) {
        s.reader2 = me;
      }
      if (s.readWarp != me / 32)
        s.readWarp = SharedShadow::kNone;
      s.readWarpEpoch = w.warpSyncEpoch; // the latest read's
    } else {
      if (s.state == 2)
        return fault(w, lane, inst,
                     fmt::format("write to shared offset {} while the cp.async by {} (line {}) to it is in flight",
                                 offset + i, threadName(s.writer), s.writeLine));
      if (ctx_.checkRaces && access == Access::Write) {
        if (!ordered(s.writer, s.writeEpoch, s.writeWarpEpoch))
          return fault(w, lane, inst,
                       fmt::format("shared-memory race: write of offset {} after the write by {} (line {}) with "
                                   "no barrier between them",
                                   offset + i, threadName(s.writer), s.writeLine));
        // Some reader other than this thread, in this epoch, not ordered by bar.warp.sync.
        const uint16_t other = s.reader != me ? s.reader : s.reader2;
        if (s.readEpoch == epoch && other != SharedShadow::kNone &&
            !(s.readWarp == me / 32 && s.readWarpEpoch != w.warpSyncEpoch))
          return fault(w, lane, inst,
                       fmt::format("shared-memory race: write of offset {} after the read by {} (first read at "
                                   "line {}) with no barrier between them",
                                   offset + i, threadName(other), s.readLine));
      }
      s.state = 1;
      if (access == Access::Write) {
        s.writer = me;
        s.writeEpoch = epoch;
        s.writeWarpEpoch = w.warpSyncEpoch;
        s.writeLine = inst.line;
      }
    }
  }
  return Status::success();
}

namespace {

// Global memory is shared by the CTAs running on other host threads, and CUDA code
// reads words that other CTAs update atomically (CAS loops). Plain accesses are
// therefore relaxed atomics of the access width (addresses are aligned by then), so
// a racy kernel gets some value, as in the PTX memory model, and the emulator itself
// stays free of C++ data races. On x86 these are ordinary moves.
template <typename T> void relaxedCopy(void *dst, const void *src, bool fromGlobal) {
  T v;
  if (fromGlobal) { // src is global memory, which other host threads may update
    v = std::atomic_ref<T>(*static_cast<T *>(const_cast<void *>(src))).load(std::memory_order_relaxed);
    std::memcpy(dst, &v, sizeof(T));
  } else {
    std::memcpy(&v, src, sizeof(T));
    std::atomic_ref<T>(*static_cast<T *>(dst)).store(v, std::memory_order_relaxed);
  }
}

/// Copies `size` aligned bytes from (`fromGlobal`) or to global memory.
inline void globalCopy(void *dst, const void *src, unsigned size, bool fromGlobal) {
  auto *d = static_cast<uint8_t *>(dst);
  const auto *s = static_cast<const uint8_t *>(src);
  switch (size) {
  case 1: relaxedCopy<uint8_t>(d, s, fromGlobal); return;
  case 2: relaxedCopy<uint16_t>(d, s, fromGlobal); return;
  case 4: relaxedCopy<uint32_t>(d, s, fromGlobal); return;
  default:
    for (unsigned i = 0; i + 8 <= size; i += 8)
      relaxedCopy<uint64_t>(d + i, s + i, fromGlobal);
    return;
  }
}

void markInitialized(uint8_t *init, unsigned size) {
  for (unsigned i = 0; i < size; ++i)
    std::atomic_ref<uint8_t>(init[i]).store(1, std::memory_order_relaxed);
}

bool isInitialized(uint8_t *init) { return std::atomic_ref<uint8_t>(*init).load(std::memory_order_relaxed) != 0; }

} // namespace

Status CtaRunner::load(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr, unsigned size,
                       void *out, unsigned align) {
  Resolved r;
  MOBAGEN_RETURN_IF_ERROR(resolve(w, lane, inst, space, addr, size, align, Access::Read, r));
  if (space == Space::Shared) {
    MOBAGEN_RETURN_IF_ERROR(checkShared(w, lane, inst, uint32_t(addr), size, Access::Read));
    counters_.sharedBytesRead += size;
  } else if (r.init && ctx_.checkUninitialized) {
    for (unsigned i = 0; i < size; ++i)
      if (!isInitialized(r.init + i))
        return fault(w, lane, inst,
                     fmt::format("read of {} memory never written: byte {} of a {}-byte read at 0x{:x}",
                                 spaceName(space), i, size, addr));
  }
  if (space == Space::Global || space == Space::Const) {
    counters_.globalBytesRead += size;
    globalCopy(out, r.data, size, /*fromGlobal=*/true);
  } else {
    std::memcpy(out, r.data, size);
  }
  return Status::success();
}

Status CtaRunner::store(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr, unsigned size,
                        const void *in, unsigned align) {
  Resolved r;
  MOBAGEN_RETURN_IF_ERROR(resolve(w, lane, inst, space, addr, size, align, Access::Write, r));
  if (space == Space::Shared) {
    MOBAGEN_RETURN_IF_ERROR(checkShared(w, lane, inst, uint32_t(addr), size, Access::Write));
    counters_.sharedBytesWritten += size;
  } else if (space == Space::Global) {
    markInitialized(r.init, size);
  } else if (r.init) {
    std::memset(r.init, 1, size);
  }
  if (space == Space::Global) {
    counters_.globalBytesWritten += size;
    globalCopy(r.data, in, size, /*fromGlobal=*/false);
  } else {
    std::memcpy(r.data, in, size);
  }
  return Status::success();
}

void CtaRunner::countSharedAccess(const uint32_t *offsets, uint32_t mask, unsigned size) {
  // 32 banks of 4 bytes; 8- and 16-byte accesses are served in 2 and 4 phases of
  // 16 and 8 lanes. Each phase needs as many wavefronts as the most distinct
  // words that any one bank must deliver (lanes reading one word share it).
  counters_.sharedAccesses++;
  const unsigned lanesPerPhase = size <= 4 ? 32 : size == 8 ? 16 : 8;
  const unsigned wordsPerLane = std::max(1u, size / 4);
  for (unsigned phase = 0; phase < 32; phase += lanesPerPhase) {
    uint32_t words[128];
    unsigned n = 0;
    for (unsigned l = phase; l < phase + lanesPerPhase; ++l)
      if (mask >> l & 1)
        for (unsigned j = 0; j < wordsPerLane; ++j)
          words[n++] = offsets[l] / 4 + j;
    if (n == 0)
      continue;
    // Distinct words per bank; a phase touches at most 32 lanes x 4 words.
    uint32_t bankWords[32][32];
    uint8_t perBank[32] = {};
    unsigned worst = 1;
    for (unsigned i = 0; i < n; ++i) {
      const uint32_t word = words[i], bank = word % 32;
      bool seen = false;
      for (unsigned j = 0; j < perBank[bank] && !seen; ++j)
        seen = bankWords[bank][j] == word;
      if (seen)
        continue;
      if (perBank[bank] < 32)
        bankWords[bank][perBank[bank]] = word;
      worst = std::max<unsigned>(worst, ++perBank[bank]);
    }
    counters_.sharedBankConflicts += worst - 1;
  }
}

namespace {

template <typename T> T atomicApply(AtomOp op, T old, T b, T c, bool &ok) {
  ok = true;
  switch (op) {
  case AtomOp::Add: return T(old + b);
  case AtomOp::Min: return std::min(old, b);
  case AtomOp::Max: return std::max(old, b);
  case AtomOp::Exch: return b;
  case AtomOp::Cas: return old == b ? c : old;
  default: break;
  }
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    switch (op) {
    case AtomOp::And: return old & b;
    case AtomOp::Or: return old | b;
    case AtomOp::Xor: return old ^ b;
    case AtomOp::Inc: return U(old) >= U(b) ? 0 : T(old + 1);
    case AtomOp::Dec: return (old == 0 || U(old) > U(b)) ? b : T(old - 1);
    default: break;
    }
  }
  ok = false;
  return old;
}

/// Read-modify-write of one value, atomically with respect to other host threads
/// (other CTAs run in parallel).
template <typename T> bool atomicRmw(uint8_t *p, AtomOp op, uint64_t bBits, uint64_t cBits, uint64_t &oldBits) {
  T b, c;
  std::memcpy(&b, &bBits, sizeof(T));
  std::memcpy(&c, &cBits, sizeof(T));
  std::atomic_ref<T> ref(*reinterpret_cast<T *>(p));
  T old = ref.load(std::memory_order_relaxed);
  bool ok = true;
  while (true) {
    const T desired = atomicApply<T>(op, old, b, c, ok);
    if (!ok)
      return false;
    if (ref.compare_exchange_weak(old, desired, std::memory_order_relaxed))
      break;
  }
  oldBits = 0;
  std::memcpy(&oldBits, &old, sizeof(T));
  return true;
}

} // namespace

Status CtaRunner::execMemory(Warp &w, const Inst &inst, uint32_t mask) {
  const Kernel &k = kernel();
  const bool isLoad = inst.op == Op::Ld;
  const Operand &addrOp = k.operand(inst, isLoad || inst.op == Op::Atom ? 1 : 0);
  for (unsigned i = (isLoad || inst.op == Op::Atom) ? 1 : 0; i < inst.numOperands; ++i)
    MOBAGEN_RETURN_IF_ERROR(checkWritten(w, k.operand(inst, i), mask, inst));
  const unsigned elem = typeBytes(inst.type);
  uint32_t sharedOffsets[32];
  uint32_t sharedMask = 0;

  if (inst.op == Op::Atom || inst.op == Op::Red) {
    const AtomOp op = AtomOp(inst.sub);
    for (uint32_t m = mask; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      Space space = inst.space;
      uint64_t addr = effectiveAddress(w, addrOp, l, inst.space);
      Resolved r;
      MOBAGEN_RETURN_IF_ERROR(resolve(w, l, inst, space, addr, elem, elem, Access::Atomic, r));
      if (space == Space::Shared) {
        MOBAGEN_RETURN_IF_ERROR(checkShared(w, l, inst, uint32_t(addr), elem, Access::Read));
        MOBAGEN_RETURN_IF_ERROR(checkShared(w, l, inst, uint32_t(addr), elem, Access::Atomic));
        sharedOffsets[l] = uint32_t(addr);
        sharedMask |= 1u << l;
      } else if (r.init) {
        for (unsigned i = 0; i < elem; ++i)
          if (ctx_.checkUninitialized && !isInitialized(r.init + i))
            return fault(w, l, inst, fmt::format("atomic on {} memory never written at 0x{:x}", spaceName(space), addr));
      }
      if (space == Space::Global) {
        counters_.globalBytesRead += elem;
        counters_.globalBytesWritten += elem;
      }
      const unsigned vi = inst.op == Op::Atom ? 2 : 1;
      const uint64_t b = read(w, k.operand(inst, vi), l);
      const uint64_t c = op == AtomOp::Cas ? read(w, k.operand(inst, vi + 1), l) : 0;
      uint64_t old = 0;
      bool ok = false;
      switch (inst.type) {
      case Type::U32: case Type::B32: ok = atomicRmw<uint32_t>(r.data, op, b, c, old); break;
      case Type::S32: ok = atomicRmw<int32_t>(r.data, op, b, c, old); break;
      case Type::U64: case Type::B64: ok = atomicRmw<uint64_t>(r.data, op, b, c, old); break;
      case Type::S64: ok = atomicRmw<int64_t>(r.data, op, b, c, old); break;
      case Type::F32: ok = atomicRmw<float>(r.data, op, b, c, old); break;
      case Type::F64: ok = atomicRmw<double>(r.data, op, b, c, old); break;
      default: break;
      }
      if (!ok)
        return fault(w, l, inst, fmt::format("not implemented: {} with this operation on .{}", opName(inst.op),
                                             typeName(inst.type)));
      if (inst.op == Op::Atom && k.operand(inst, 0).kind == OperandKind::Reg)
        write(w, k.operand(inst, 0).reg, l, old);
    }
    if (sharedMask)
      countSharedAccess(sharedOffsets, sharedMask, elem);
    return Status::success();
  }

  const Operand &val = k.operand(inst, isLoad ? 0 : 1);
  const unsigned count = val.kind == OperandKind::Vector ? val.count : 1;
  if (count != inst.vec)
    return fault(w, std::countr_zero(mask), inst,
                 fmt::format("{} .v{} needs {} values, found {}", opName(inst.op), inst.vec, inst.vec, count));
  const unsigned total = elem * count;
  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    Space space = inst.space;
    uint64_t addr = effectiveAddress(w, addrOp, l, inst.space);
    uint8_t buf[64];
    if (isLoad) {
      MOBAGEN_RETURN_IF_ERROR(load(w, l, inst, space, addr, total, buf, total));
      if (space == Space::Shared) {
        sharedOffsets[l] = uint32_t(addr);
        sharedMask |= 1u << l;
      }
      for (unsigned i = 0; i < count; ++i) {
        const Operand &e = val.kind == OperandKind::Vector ? k.operands[val.reg + i] : val;
        if (e.kind != OperandKind::Reg)
          continue;
        uint64_t v = 0;
        std::memcpy(&v, buf + i * elem, elem);
        if (isSignedInt(inst.type) && elem < 8)
          v = uint64_t(int64_t(v << (64 - elem * 8)) >> (64 - elem * 8));
        write(w, e.reg, l, v);
      }
    } else {
      for (unsigned i = 0; i < count; ++i) {
        const Operand &e = val.kind == OperandKind::Vector ? k.operands[val.reg + i] : val;
        const uint64_t v = read(w, e, l);
        std::memcpy(buf + i * elem, &v, elem);
      }
      MOBAGEN_RETURN_IF_ERROR(store(w, l, inst, space, addr, total, buf, total));
      if (space == Space::Shared) {
        sharedOffsets[l] = uint32_t(addr);
        sharedMask |= 1u << l;
      }
    }
  }
  if (sharedMask)
    countSharedAccess(sharedOffsets, sharedMask, total);
  return Status::success();
}

Status CtaRunner::execCpAsync(Warp &w, const Inst &inst, uint32_t mask) {
  const Kernel &k = kernel();
  for (unsigned i = 0; i < inst.numOperands; ++i)
    MOBAGEN_RETURN_IF_ERROR(checkWritten(w, k.operand(inst, i), mask, inst));
  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    switch (inst.op) {
    case Op::CpAsync: {
      const uint32_t size = uint32_t(k.operand(inst, 2).imm);
      const uint32_t srcSize = inst.numOperands == 4 ? uint32_t(read(w, k.operand(inst, 3), l)) : size;
      if (size != 4 && size != 8 && size != 16)
        return fault(w, l, inst, fmt::format("cp.async size {} is not 4, 8 or 16", size));
      if (!(inst.flags & kCaCache) && size != 16)
        return fault(w, l, inst, "cp.async.cg copies 16 bytes only");
      if (srcSize > size)
        return fault(w, l, inst, fmt::format("cp.async src-size {} exceeds the copy size {}", srcSize, size));
      Space dstSpace = Space::Shared, srcSpace = Space::Global;
      uint64_t dst = effectiveAddress(w, k.operand(inst, 0), l, Space::Shared);
      uint64_t src = effectiveAddress(w, k.operand(inst, 1), l, Space::Global);
      Resolved rd, rs;
      MOBAGEN_RETURN_IF_ERROR(resolve(w, l, inst, dstSpace, dst, size, size, Access::Write, rd));
      if (srcSize)
        MOBAGEN_RETURN_IF_ERROR(resolve(w, l, inst, srcSpace, src, srcSize, size, Access::Read, rs));
      // The destination is "in flight" until a wait completes the copy.
      for (uint32_t i = 0; i < size; ++i) {
        SharedShadow &s = sharedShadow_[dst + i];
        if (s.state == 2)
          return fault(w, l, inst,
                       fmt::format("cp.async to shared offset {} overlaps the in-flight cp.async by {} (line {})",
                                   dst + i, threadName(s.writer), s.writeLine));
        s.state = 2;
        s.writer = uint16_t(threadIndex(w, l));
        s.writeLine = inst.line;
      }
      w.uncommitted[l].push_back(CpAsyncCopy{uint32_t(dst), src, size, srcSize, inst.line});
      break;
    }
    case Op::CpAsyncCommit:
      w.groups[l].push_back(std::move(w.uncommitted[l]));
      w.uncommitted[l].clear();
      break;
    case Op::CpAsyncWait:
      MOBAGEN_RETURN_IF_ERROR(completeCpAsync(w, l, inst, size_t(k.operand(inst, 0).imm)));
      break;
    case Op::CpAsyncWaitAll:
      w.groups[l].push_back(std::move(w.uncommitted[l]));
      w.uncommitted[l].clear();
      MOBAGEN_RETURN_IF_ERROR(completeCpAsync(w, l, inst, 0));
      break;
    default:
      break;
    }
  }
  return Status::success();
}

Status CtaRunner::completeCpAsync(Warp &w, unsigned lane, const Inst &inst, size_t keepGroups) {
  auto &groups = w.groups[lane];
  while (groups.size() > keepGroups) {
    for (const CpAsyncCopy &c : groups.front()) {
      uint8_t buf[16] = {};
      if (c.srcSize) {
        GlobalMemory::Allocation *a = ctx_.global->find(c.src, c.srcSize);
        if (!a)
          return fault(w, lane, inst, fmt::format("cp.async (line {}) source freed before completion", c.line));
        const uint64_t off = c.src - a->base;
        for (uint32_t i = 0; i < c.srcSize; ++i)
          if (ctx_.checkUninitialized && !isInitialized(a->init.get() + off + i))
            return fault(w, lane, inst,
                         fmt::format("cp.async (line {}) reads global memory never written at 0x{:x}", c.line,
                                     c.src + i));
        if (c.srcSize == c.size) // aligned to the copy size at issue
          globalCopy(buf, a->data.get() + off, c.size, /*fromGlobal=*/true);
        else // a partial source: byte by byte
          for (uint32_t i = 0; i < c.srcSize; ++i)
            buf[i] = std::atomic_ref<uint8_t>(a->data[off + i]).load(std::memory_order_relaxed);
        counters_.globalBytesRead += c.srcSize;
      }
      for (uint32_t i = 0; i < c.size; ++i)
        sharedShadow_[c.dst + i].state = 1; // no longer in flight; now an ordinary write
      MOBAGEN_RETURN_IF_ERROR(checkShared(w, lane, inst, c.dst, c.size, Access::Write));
      std::memcpy(shared_.data() + c.dst, buf, c.size);
      counters_.sharedBytesWritten += c.size;
    }
    groups.erase(groups.begin());
  }
  return Status::success();
}

} // namespace mobagen::emu
