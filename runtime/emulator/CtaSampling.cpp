//===- CtaSampling.cpp - A stratified, seeded subset of a launch's CTAs ----===//
#include "runtime/emulator/CtaSampling.h"

#include <algorithm>

namespace mobagen::emu {
namespace {

/// SplitMix64's finalizer: a portable, well-mixed hash (std:: distributions
/// differ between standard libraries, and the pick must not).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

std::vector<SampledCta> planCtaSample(Dim grid, uint64_t budget, uint64_t seed) {
  const uint64_t gx = grid.x, slices = uint64_t(grid.y) * grid.z;
  std::vector<SampledCta> plan;
  if (gx == 0 || slices == 0)
    return plan;
  if (budget == 0 || gx * slices <= budget) {
    for (uint32_t z = 0; z < grid.z; ++z)
      for (uint32_t y = 0; y < grid.y; ++y)
        for (uint32_t x = 0; x < grid.x; ++x)
          plan.push_back({Dim{x, y, z}, 2});
    return plan;
  }
  // The last x of a slice (the last two when that leaves an odd count) is a
  // stratum of its own, run exactly: there the kernels' work breaks from its trend
  // (a partial last query tile or key block; causally, the last key block has no
  // later rows). The others, [0, banded) with banded even, are cut into bands of
  // even size, so a band's mirrored pair is one even and one odd x: exact for
  // work that alternates with x (a 64-row query tile in the first or second half
  // of a 128-key block) as well as for linear work.
  const uint64_t tail = gx % 2 == 0 ? 2 : 1;
  const uint64_t banded = gx - tail, pairs = banded / 2;
  const uint64_t perSlice = budget / slices;
  const uint64_t bands =
      std::min(pairs, std::max<uint64_t>(1, (perSlice > tail ? perSlice - tail : 0) / 2));
  plan.reserve(size_t((2 * bands + tail) * slices));
  for (uint32_t z = 0; z < grid.z; ++z)
    for (uint32_t y = 0; y < grid.y; ++y) {
      for (uint64_t b = 0; b < bands; ++b) {
        // Band b is [2 (b*pairs/bands), 2 ((b+1)*pairs/bands)): even sizes that differ
        // by at most two.
        const uint64_t lo = 2 * (b * pairs / bands), hi = 2 * ((b + 1) * pairs / bands);
        const uint64_t population = hi - lo;
        const uint64_t u = mix(seed ^ mix((uint64_t(z) << 40) ^ (uint64_t(y) << 20) ^ b)) % population;
        const uint64_t mirror = population - 1 - u;
        plan.push_back({Dim{uint32_t(lo + u), y, z}, population});
        plan.push_back({Dim{uint32_t(lo + mirror), y, z}, population});
      }
      for (uint64_t x = banded; x < gx; ++x)
        plan.push_back({Dim{uint32_t(x), y, z}, 2});
    }
  return plan;
}

} // namespace mobagen::emu
