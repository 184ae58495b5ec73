//===- GlobalMemory.cpp ------------------------------------------------------===//
#include "runtime/emulator/GlobalMemory.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace mobagen::emu {

Expected<uint64_t> GlobalMemory::allocate(uint64_t bytes) {
  constexpr uint64_t kLimit = 64ull << 30;
  if (bytes > kLimit)
    return Status::errorf("allocation of {} bytes exceeds the emulator's limit of {} bytes", bytes, kLimit);
  Allocation a;
  a.base = next_;
  a.size = bytes;
  a.data.reset(new (std::nothrow) uint8_t[std::max<uint64_t>(bytes, 1)]);
  a.init.reset(new (std::nothrow) uint8_t[std::max<uint64_t>(bytes, 1)]);
  if (!a.data || !a.init)
    return Status::errorf("out of host memory allocating {} bytes", bytes);
  std::memset(a.init.get(), 0, bytes);
  // A defined pattern for never-written bytes: the uninitialized-read check
  // reports them, but in sampled mode (off there) they are read as zero.
  std::memset(a.data.get(), 0, bytes);
  next_ += (bytes + 255) / 256 * 256 + kGuardGap;
  allocations_.push_back(std::move(a)); // bases only grow: stays sorted
  return allocations_.back().base;
}

Status GlobalMemory::free(uint64_t base) {
  auto it = std::find_if(allocations_.begin(), allocations_.end(),
                         [&](const Allocation &a) { return a.base == base; });
  if (it == allocations_.end())
    return Status::errorf("free of 0x{:x}, which is not the start of a live allocation", base);
  allocations_.erase(it);
  return Status::success();
}

GlobalMemory::Allocation *GlobalMemory::find(uint64_t addr, uint64_t size) {
  auto it = std::upper_bound(allocations_.begin(), allocations_.end(), addr,
                             [](uint64_t a, const Allocation &x) { return a < x.base; });
  if (it == allocations_.begin())
    return nullptr;
  --it;
  if (addr - it->base + size > it->size || addr + size < addr)
    return nullptr;
  return &*it;
}

std::string GlobalMemory::describeMiss(uint64_t addr, uint64_t size) const {
  const Allocation *best = nullptr;
  uint64_t bestDistance = ~0ull;
  for (const Allocation &a : allocations_) {
    const uint64_t d = addr >= a.base ? (addr >= a.base + a.size ? addr - (a.base + a.size) : 0)
                                      : a.base - addr;
    if (d < bestDistance) {
      bestDistance = d;
      best = &a;
    }
  }
  if (!best)
    return fmt::format("0x{:x} is not in any allocation (none exist)", addr);
  if (addr >= best->base)
    return fmt::format("0x{:x} ({} bytes) is at offset {} of the {}-byte allocation at 0x{:x}, {} bytes past "
                       "its end",
                       addr, size, addr - best->base, best->size, best->base,
                       addr + size - (best->base + best->size));
  return fmt::format("0x{:x} is {} bytes before the {}-byte allocation at 0x{:x}", addr,
                     best->base - addr, best->size, best->base);
}

} // namespace mobagen::emu
