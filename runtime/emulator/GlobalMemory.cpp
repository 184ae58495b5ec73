//===- GlobalMemory.cpp ------------------------------------------------------===//
#include "runtime/emulator/GlobalMemory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include <unistd.h>

namespace mobagen::emu {

namespace {

/// Bytes the host can still give: MemAvailable from /proc/meminfo (what the
/// kernel estimates is available without swapping), else free physical pages.
/// 0 when neither is known.
uint64_t hostAvailableBytes() {
  if (std::FILE *f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f))
      found = std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    std::fclose(f);
    if (found)
      return uint64_t(kib) * 1024;
  }
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

} // namespace

uint64_t GlobalMemory::allocationLimit() {
  // Each emulated byte costs two host bytes (the data and its definedness
  // shadow): a quarter of what is available uses at most half of it, leaving
  // the host room for the inputs, outputs and everything else.
  constexpr uint64_t kCeiling = 64ull << 30;
  const uint64_t available = hostAvailableBytes();
  return available ? std::min(kCeiling, available / 4) : kCeiling;
}

Expected<uint64_t> GlobalMemory::allocate(uint64_t bytes) {
  const uint64_t limit = allocationLimit();
  if (bytes > limit)
    return Status::errorf("allocation of {} bytes exceeds the emulator's limit of {} bytes (a quarter of the "
                          "host's available memory, at most 64 GiB: each byte takes a data and a shadow byte)",
                          bytes, limit);
  Allocation a;
  a.base = next_;
  a.size = bytes;
  a.data.reset(new (std::nothrow) uint8_t[std::max<uint64_t>(bytes, 1)]);
  a.init.reset(new (std::nothrow) uint8_t[std::max<uint64_t>(bytes, 1)]);
  if (!a.data || !a.init)
    return Status::errorf("out of host memory allocating {} bytes", bytes);
  std::memset(a.init.get(), 0, bytes);
  // Bytes a kernel never writes read back as zero (copyToHost of an out: buffer
  // saves them), never as stale host heap. Reading them in a kernel is a fault
  // through `init`, except in sampled mode, where the check is off and they read
  // as zero.
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
