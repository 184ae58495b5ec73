//===- RandomBatch.h - owned varlen batches with random values, for tests ----===//
#pragma once

#include <random>
#include <vector>

#include "runtime/reference/MobaReference.h"

namespace mobagen::reference {

/// An owned varlen batch.
struct Batch {
  AttentionShape shape;
  std::vector<double> q, k, v;
  std::vector<int32_t> cuQ, cuK;
  AttentionInputs view() const { return {shape, q, k, v, cuQ, cuK}; }
};

/// Sequences of lq[i] queries over lk[i] keys; q, then k, then v drawn from one
/// standard normal stream seeded with `seed`.
inline Batch randomBatch(const std::vector<int32_t> &lq, const std::vector<int32_t> &lk,
                         int64_t hq, int64_t hkv, int64_t d, uint32_t seed) {
  Batch b;
  b.cuQ = {0};
  b.cuK = {0};
  for (size_t i = 0; i < lq.size(); ++i) {
    b.cuQ.push_back(b.cuQ.back() + lq[i]);
    b.cuK.push_back(b.cuK.back() + lk[i]);
  }
  b.shape = {b.cuQ.back(), b.cuK.back(), hq, hkv, d};
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  auto fill = [&](std::vector<double> &x, int64_t n) {
    x.resize(static_cast<size_t>(n));
    for (double &e : x)
      e = normal(rng);
  };
  fill(b.q, b.shape.totalQ * hq * d);
  fill(b.k, b.shape.totalK * hkv * d);
  fill(b.v, b.shape.totalK * hkv * d);
  return b;
}

} // namespace mobagen::reference
