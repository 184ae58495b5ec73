//===- Interpreter.h - One CTA: warps, lanes, barriers (internal) ----------===//
//
// Execution model (PTX ISA chapter 3 and 9.7.13): the lanes of a warp run
// together by PC. Each lane has its own PC; the scheduler runs the group of
// runnable lanes with the lowest PC, so lanes that branched apart meet again
// where their paths join. Instructions that the ISA marks .sync or .aligned are
// collectives: arriving lanes wait until every participating lane has arrived
// at the same instruction, then the instruction reads all inputs (a snapshot)
// before writing any output, as the ISA's pseudo-code does. CTA barriers count
// threads; when no warp can move and a barrier or collective can never complete,
// the launch fails with each warp's state.
//
// Registers live in one flat array per warp, reg * 32 + lane, as raw 64-bit
// patterns, with a 32-bit "written" mask per register for the uninitialized-read
// check.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/emulator/Counters.h"
#include "runtime/emulator/GlobalMemory.h"
#include "runtime/emulator/PtxModule.h"
#include "runtime/support/Status.h"

namespace mobagen::emu {

struct Dim {
  uint32_t x = 1, y = 1, z = 1;
};

/// What every CTA of a launch shares.
struct LaunchContext {
  const Kernel *kernel = nullptr;
  GlobalMemory *global = nullptr;
  std::vector<uint8_t> params;
  Dim grid, block;
  uint32_t dynamicSharedBytes = 0;
  uint64_t instructionLimit = 0; // per CTA, warp instructions; 0 = none
  bool checkRaces = true;
  bool checkUninitialized = true;
  std::atomic<bool> *abort = nullptr; // set when another CTA failed
};

enum class LaneState : uint8_t { Running, Exited, WaitCollective, WaitBarrier };

struct CpAsyncCopy {
  uint32_t dst;      // shared offset
  uint64_t src;      // global address
  uint32_t size, srcSize;
  uint32_t line;
};

struct Warp {
  uint32_t id = 0;
  uint32_t existMask = 0; // lanes that are threads of the CTA
  uint32_t running = 0;   // lanes in LaneState::Running
  uint32_t pc[32] = {};
  LaneState state[32] = {};
  uint32_t exitLine[32] = {};
  bool uniform = true; // all Running lanes share one PC and none waits
  uint8_t barrierId = 0; // the CTA barrier its WaitBarrier lanes wait on
  uint32_t redDest = kNoReg; // bar.red: the register that receives the reduction
  uint32_t warpSyncEpoch = 1;
  std::vector<uint64_t> regs;
  std::vector<uint32_t> written;  // per register: lanes whose value is fully defined
  std::vector<uint32_t> assigned; // per register: lanes given a value with undefined bytes
  std::vector<uint8_t> definedBytes; // reg * 32 + lane, when `assigned`: bit b = byte b defined
  /// Per register holding undefined bytes: the never-written register they came from
  /// and the line that first used it (for the report).
  std::vector<std::pair<uint32_t, uint32_t>> undefinedOrigin;
  // cp.async: per lane, copies not yet committed, and committed groups (oldest first).
  std::vector<CpAsyncCopy> uncommitted[32];
  std::vector<std::vector<CpAsyncCopy>> groups[32];

  uint32_t liveMask() const {
    uint32_t m = 0;
    for (unsigned l = 0; l < 32; ++l)
      if ((existMask >> l & 1) && state[l] != LaneState::Exited)
        m |= 1u << l;
    return m;
  }
};

/// Per byte of shared memory: written?, pending cp.async, and the last writer and
/// reader with the barrier epoch of their access (the race check).
struct SharedShadow {
  static constexpr uint16_t kNone = 0xffff;
  uint8_t state = 0; // 0 never written, 1 written, 2 pending cp.async
  uint16_t writer = 0, reader = 0;
  uint16_t reader2 = kNone;  // a second, different reader in the same epoch
  uint16_t readWarp = 0;     // the readers' warp, or kNone when they span warps
  uint32_t writeEpoch = 0, readEpoch = 0; // 0: none
  uint32_t writeWarpEpoch = 0, readWarpEpoch = 0;
  uint32_t writeLine = 0, readLine = 0;
};

class CtaRunner;
/// The defined-byte masks of every operand of `inst` in the lanes of `mask`, before it
/// runs (vector elements at consecutive indices).
void snapshotDefinedness(const CtaRunner &cta, const Warp &w, const Kernel &k, const Inst &inst, uint32_t mask,
                         uint8_t (*out)[32]);

class CtaRunner {
public:
  CtaRunner(const LaunchContext &ctx, Dim ctaId);
  /// Runs the CTA to completion; the error is the fault report.
  Status run();
  const Counters &counters() const { return counters_; }

  // ---- used by the instruction implementations (Exec*.cpp) ----
  const Kernel &kernel() const { return *ctx_.kernel; }
  uint64_t read(Warp &w, const Operand &op, unsigned lane) {
    if (op.kind == OperandKind::Reg) {
      const uint64_t v = w.regs[size_t(op.reg) * 32 + lane];
      return op.negate ? uint64_t(v == 0) : v;
    }
    if (op.kind == OperandKind::Imm || op.kind == OperandKind::Address)
      return uint64_t(op.imm);
    return readSpecial(w, op, lane);
  }
  uint64_t readSpecial(Warp &w, const Operand &op, unsigned lane);
  /// Writes a register, keeping only its declared width, and marks it written.
  void write(Warp &w, uint32_t reg, unsigned lane, uint64_t value) {
    w.regs[size_t(reg) * 32 + lane] = value & regMask_[reg];
    w.written[reg] |= 1u << lane;
  }
  /// Writes a value some of whose bytes are undefined (LLVM packs undefined halves
  /// into vectors: `mov.b32 %r, {%rs1, %rs2}` with %rs2 never written). Reading it
  /// where the value is observed (address, stored data, predicate, ...) is a fault.
  void writeUndefined(Warp &w, uint32_t reg, unsigned lane, uint64_t value, uint8_t defined) {
    w.regs[size_t(reg) * 32 + lane] = value & regMask_[reg];
    w.written[reg] &= ~(1u << lane);
    w.assigned[reg] |= 1u << lane;
    w.definedBytes[size_t(reg) * 32 + lane] = defined;
  }
  /// Which bytes of a register operand are defined in `lane` (bit b = byte b).
  uint8_t definedMask(const Warp &w, const Operand &op, unsigned lane) const {
    if (op.kind != OperandKind::Reg)
      return 0xff;
    if (w.written[op.reg] >> lane & 1)
      return 0xff;
    if (w.assigned[op.reg] >> lane & 1)
      return w.definedBytes[size_t(op.reg) * 32 + lane];
    return 0;
  }
  /// Whether every register source of `inst` from operand `first` on is fully
  /// defined in every lane of `mask`.
  bool sourcesDefined(const Warp &w, const Inst &inst, unsigned first, uint32_t mask) const;
  /// After an ALU or conversion op ran with some undefined source bytes: marks
  /// which bytes of its results are defined, per lane, from `sourceMasks`
  /// (snapshot before the op, [operand][lane]).
  void propagateDefinedness(Warp &w, const Inst &inst, unsigned first, uint32_t mask,
                            const uint8_t (*sourceMasks)[32]);

  /// Reads register operands of `inst` for `mask`, failing on never-written ones.
  Status checkWritten(Warp &w, const Operand &op, uint32_t mask, const Inst &inst);
  uint32_t threadIndex(const Warp &w, unsigned lane) const { return w.id * 32 + lane; }

  /// Faults: "kernel 'k', line 12 (`ld.global.u32 ...`), CTA (0,0,0), thread (5,0,0): ..."
  Status fault(const Warp &w, unsigned lane, const Inst &inst, const std::string &what) const;
  std::string threadName(uint32_t linear) const;
  std::string where(const Inst &inst) const;

  enum class Access : uint8_t { Read, Write, Atomic };
  /// Loads/stores `size` bytes at `addr` in `space` for one lane with every check.
  /// `space` and `addr` come back resolved (generic -> shared offset etc.).
  Status load(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr, unsigned size,
              void *out, unsigned align);
  Status store(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr, unsigned size,
               const void *in, unsigned align);
  /// Host bytes of a device access, with the shadow that goes with its space.
  struct Resolved {
    uint8_t *data = nullptr;
    uint8_t *init = nullptr;        // global and local: 1 per written byte
    SharedShadow *shadow = nullptr; // shared
  };
  /// Resolves an address after the bounds and alignment checks; `space` becomes
  /// the concrete space and `addr` the offset in it for shared/local.
  Status resolve(Warp &w, unsigned lane, const Inst &inst, Space &space, uint64_t &addr,
                 unsigned size, unsigned align, Access access, Resolved &out);
  /// The shared-memory checks of one access (uninitialized, pending cp.async,
  /// races) and the shadow update.
  Status checkShared(Warp &w, unsigned lane, const Inst &inst, uint32_t offset, unsigned size,
                     Access access);
  uint64_t effectiveAddress(Warp &w, const Operand &op, unsigned lane, Space instSpace);

  // Instruction groups.
  Status execAlu(Warp &w, const Inst &inst, uint32_t mask);
  Status execAluValues(Warp &w, const Inst &inst, uint32_t mask);
  bool tryFastPath(Warp &w, const Inst &inst, uint32_t mask, Status &status);
  Status execConvert(Warp &w, const Inst &inst, uint32_t mask);
  Status execConvertValues(Warp &w, const Inst &inst, uint32_t mask);
  Status execMemory(Warp &w, const Inst &inst, uint32_t mask);
  Status execCpAsync(Warp &w, const Inst &inst, uint32_t mask);
  Status completeCpAsync(Warp &w, unsigned lane, const Inst &inst, size_t keepGroups);
  Status execCollective(Warp &w, const Inst &inst, uint32_t mask); // shfl, vote, redux
  Status execLdmatrix(Warp &w, const Inst &inst, uint32_t mask);
  Status execMma(Warp &w, const Inst &inst, uint32_t mask);
  void countSharedAccess(const uint32_t *offsets, uint32_t mask, unsigned size);

  SharedShadow *sharedShadow() { return sharedShadow_.data(); }
  uint32_t ctaEpoch() const { return ctaEpoch_; }
  Counters &counters() { return counters_; }

private:
  struct Barrier {
    uint32_t arrived = 0;
    uint32_t expected = 0;
    uint8_t kind = 0;           // BarKind of the arrivals (bar.red must not mix with others)
    uint32_t redTrue = 0, redFalse = 0;
    std::vector<uint32_t> waitingWarps;
    uint32_t line = 0;
  };

  Status step(Warp &w, bool &progressed);
  Status arriveCollective(Warp &w, const Inst &inst, uint32_t pc, uint32_t mask);
  Status arriveBarrier(Warp &w, const Inst &inst, uint32_t mask);
  Status deadlockReport();
  uint32_t guardMask(Warp &w, const Inst &inst, uint32_t mask, Status &status);

  const LaunchContext &ctx_;
  Dim ctaId_;
  uint32_t numThreads_ = 0;
  std::vector<Warp> warps_;
  std::vector<uint8_t> shared_;
  std::vector<SharedShadow> sharedShadow_;
  std::vector<uint8_t> local_, localInit_;
  std::vector<uint8_t> callFrame_, callFrameInit_; // call-sequence .params, per thread
  uint32_t ctaEpoch_ = 1;
  Barrier barriers_[16];
  Counters counters_;
  GlobalMemory::Allocation *lastAllocation_ = nullptr;
  std::vector<uint64_t> regMask_; // per register: the bits its type holds
};

} // namespace mobagen::emu
