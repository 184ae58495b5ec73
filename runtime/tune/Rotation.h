//===- Rotation.h - Cold inputs for repeated measured runs ------------------===//
//
// A kernel measured ten times on the same buffers finds them in the L2 cache
// from the second run on, which flatters memory-bound variants and is not what
// a real call (fresh activations every step) sees. So a candidate's run rotates
// among several copies of its inputs: run i uses copy i mod N. The rotation lives
// in the candidate, not in the tuner (docs/tuning.md says why).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::tune {

/// The H200's L2 cache (50 MB; docs/tuning.md gives the source).
constexpr uint64_t kH200L2Bytes = 50ull << 20;

/// How many copies of a run's inputs (`bytesPerSet` bytes each) make every
/// measured run read memory that is not in an L2 of `l2Bytes`: the N-1 copies
/// used between two uses of one copy must together exceed the L2, so
/// N = floor(l2Bytes / bytesPerSet) + 2, which is at least 2. An error for
/// bytesPerSet == 0. Small sets are best carved out of one allocation of
/// N * bytesPerSet bytes rather than allocated one by one.
Expected<uint64_t> rotationCopies(uint64_t bytesPerSet, uint64_t l2Bytes);

/// A run that uses `sets` in turn: its k-th call runs `runOn(sets[k % N])`.
/// `Set` is whatever one run needs (device pointers, a KernelArgs). Copies of the
/// returned function share the turn counter. An error if `sets` is empty or
/// `runOn` is empty.
template <typename Set>
Expected<std::function<Status()>> rotatingRun(std::vector<Set> sets, std::function<Status(const Set &)> runOn) {
  if (sets.empty())
    return Status::error("rotating run: no buffer sets; need at least 1");
  if (!runOn)
    return Status::error("rotating run: no run function");
  struct State {
    std::vector<Set> sets;
    std::function<Status(const Set &)> runOn;
    size_t next = 0;
  };
  auto state = std::make_shared<State>(State{std::move(sets), std::move(runOn), 0});
  return std::function<Status()>([state]() {
    const Set &set = state->sets[state->next];
    state->next = (state->next + 1) % state->sets.size();
    return state->runOn(set);
  });
}

} // namespace mobagen::tune
