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
  const uint64_t bands = std::max<uint64_t>(1, std::min(gx / 2, budget / (2 * slices)));
  plan.reserve(size_t(2 * bands * slices));
  for (uint32_t z = 0; z < grid.z; ++z)
    for (uint32_t y = 0; y < grid.y; ++y)
      for (uint64_t b = 0; b < bands; ++b) {
        // Band b is [b*gx/bands, (b+1)*gx/bands): sizes differ by at most one.
        const uint64_t lo = b * gx / bands, hi = (b + 1) * gx / bands;
        const uint64_t population = hi - lo;
        const uint64_t u = mix(seed ^ mix((uint64_t(z) << 40) ^ (uint64_t(y) << 20) ^ b)) % population;
        const uint64_t mirror = population - 1 - u;
        if (u == mirror) { // the middle of an odd band stands for all of it
          plan.push_back({Dim{uint32_t(lo + u), y, z}, 2 * population});
          continue;
        }
        plan.push_back({Dim{uint32_t(lo + u), y, z}, population});
        plan.push_back({Dim{uint32_t(lo + mirror), y, z}, population});
      }
  return plan;
}

} // namespace mobagen::emu
