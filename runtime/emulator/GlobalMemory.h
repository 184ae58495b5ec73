//===- GlobalMemory.h - Device allocations with bounds and init shadows ----===//
//
// Every allocation is host memory at a fake device address; allocations are
// spaced by a guard gap so that running off one never lands in the next, and
// each byte has an "initialized" shadow byte (set by host copies and stores),
// so reads of memory nobody wrote are caught.
//
// Generic addresses (PTX ISA 6.4.1.2): the shared and local windows sit far
// above any global allocation; a generic address in a window is converted to a
// 32-bit offset in that state space, anything else is global.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::emu {

constexpr uint64_t kSharedWindow = 0x0001'0000'0000'0000ull; // generic shared base
constexpr uint64_t kLocalWindow = 0x0002'0000'0000'0000ull;  // generic local base
constexpr uint64_t kWindowSize = 1ull << 32;
constexpr uint64_t kGlobalBase = 0x0000'7f00'0000'0000ull;
constexpr uint64_t kGuardGap = 1ull << 20;

class GlobalMemory {
public:
  struct Allocation {
    uint64_t base = 0, size = 0;
    std::unique_ptr<uint8_t[]> data;
    std::unique_ptr<uint8_t[]> init; // 1 per byte written
  };

  /// Refused past allocationLimit(), with the requested bytes and the limit.
  Expected<uint64_t> allocate(uint64_t bytes);
  /// The largest allocation: a quarter of the host's available memory
  /// (/proc/meminfo MemAvailable), at most 64 GiB.
  static uint64_t allocationLimit();
  Status free(uint64_t base);
  /// The allocation holding [addr, addr + size), or nullptr.
  Allocation *find(uint64_t addr, uint64_t size);
  /// For messages: "0x... is 12 bytes past the end of the 64-byte allocation at 0x...".
  std::string describeMiss(uint64_t addr, uint64_t size) const;

private:
  std::vector<Allocation> allocations_; // sorted by base
  uint64_t next_ = kGlobalBase;
};

} // namespace mobagen::emu
