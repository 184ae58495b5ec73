// `mobagen bench --inputs`: the AR(1) inputs have the lag-1 autocorrelation asked for
// along each sequence (and restart at each sequence), the i.i.d. ones none; bad names
// and rho outside [0, 1) are errors.
#include "tools/mobagen/BenchInputs.h"

#include <cmath>

#include <gtest/gtest.h>

namespace mobagen::cli {
namespace {

/// The lag-1 autocorrelation along the rows, pooled over the (head, dim) channels and
/// over the sequences of `cu` (pairs never cross a sequence boundary).
double lag1(const std::vector<double> &x, const std::vector<int32_t> &cu, int64_t channels) {
  double sum = 0, sumSq = 0, cross = 0;
  size_t n = 0, pairs = 0;
  for (double e : x) {
    sum += e;
    sumSq += e * e;
    ++n;
  }
  const double mean = sum / double(n), var = sumSq / double(n) - mean * mean;
  for (size_t s = 0; s + 1 < cu.size(); ++s)
    for (int64_t t = cu[s] + 1; t < cu[s + 1]; ++t)
      for (int64_t c = 0; c < channels; ++c, ++pairs)
        cross += (x[size_t(t * channels + c)] - mean) * (x[size_t((t - 1) * channels + c)] - mean);
  return cross / double(pairs) / var;
}

TEST(BenchInputsTest, Ar1HasTheLag1AutocorrelationAsked) {
  const std::vector<int32_t> cu{0, 3000, 6000};
  for (double rho : {0.0, 0.5, 0.9, 0.99}) {
    auto spec = parseBenchInputs("ar1", rho, true);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    std::mt19937 rng(7);
    const std::vector<double> x = benchTensor(*spec, cu, 2, 16, rng);
    ASSERT_EQ(x.size(), size_t(6000 * 2 * 16));
    // 192k pairs: the estimate's standard error is about (1 - rho^2) / sqrt(pairs)
    // per independent channel; at rho 0.99 the channels' long memory widens it.
    EXPECT_NEAR(lag1(x, cu, 32), rho, rho > 0.95 ? 0.01 : 0.02) << "rho " << rho;
  }
}

TEST(BenchInputsTest, Ar1IsStationaryStandardNormal) {
  auto spec = parseBenchInputs("ar1", 0.9, true);
  ASSERT_TRUE(spec.ok());
  std::mt19937 rng(1);
  const std::vector<double> x = benchTensor(*spec, {0, 20000}, 1, 8, rng);
  double sum = 0, sumSq = 0;
  for (double e : x)
    sum += e, sumSq += e * e;
  EXPECT_NEAR(sum / double(x.size()), 0.0, 0.05);
  EXPECT_NEAR(sumSq / double(x.size()), 1.0, 0.05);
}

TEST(BenchInputsTest, Ar1RestartsAtEachSequence) {
  // Two-row sequences: the second row of each follows its first, but a sequence's
  // first row is independent of the previous sequence's last.
  std::vector<int32_t> cu{0};
  for (int i = 1; i <= 4000; ++i)
    cu.push_back(2 * i);
  auto spec = parseBenchInputs("ar1", 0.99, true);
  ASSERT_TRUE(spec.ok());
  std::mt19937 rng(3);
  const std::vector<double> x = benchTensor(*spec, cu, 1, 4, rng);
  EXPECT_NEAR(lag1(x, cu, 4), 0.99, 0.01);
  const std::vector<int32_t> across{0, 8000}; // every consecutive pair, boundaries included
  EXPECT_NEAR(lag1(x, across, 4), 0.5 * 0.99, 0.05);
}

TEST(BenchInputsTest, GaussianAndUniformHaveNoLag1Autocorrelation) {
  const std::vector<int32_t> cu{0, 4000};
  for (const char *name : {"gaussian", "uniform"}) {
    auto spec = parseBenchInputs(name, 0.99, false);
    ASSERT_TRUE(spec.ok()) << name;
    std::mt19937 rng(7);
    const std::vector<double> x = benchTensor(*spec, cu, 2, 32, rng);
    EXPECT_NEAR(lag1(x, cu, 64), 0.0, 0.02) << name;
  }
}

TEST(BenchInputsTest, UniformIsTheEarlierBenchInputs) {
  // Before --inputs, bench drew q, k, v from one mt19937(7) through U(-1, 1).
  auto spec = parseBenchInputs("uniform", 0.99, false);
  ASSERT_TRUE(spec.ok());
  std::mt19937 rng(7), reference(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (double e : benchTensor(*spec, {0, 10}, 2, 4, rng))
    EXPECT_EQ(e, uniform(reference));
}

TEST(BenchInputsTest, Errors) {
  auto unknown = parseBenchInputs("laplace", 0.99, false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "--inputs laplace: unknown; known: gaussian, ar1, uniform");
  for (double rho : {1.0, -0.1, 1.5, std::nan("")}) {
    auto bad = parseBenchInputs("ar1", rho, true);
    ASSERT_FALSE(bad.ok()) << rho;
    EXPECT_NE(bad.status().message().find("must be in [0, 1)"), std::string::npos) << bad.status().message();
  }
  auto rhoWithoutAr1 = parseBenchInputs("gaussian", 0.5, true);
  ASSERT_FALSE(rhoWithoutAr1.ok());
  EXPECT_EQ(rhoWithoutAr1.status().message(), "--rho 0.5 is for --inputs ar1; the inputs are gaussian");
  EXPECT_EQ(parseBenchInputs("ar1", 0.0, true)->describe(), "ar1 rho=0");
  EXPECT_EQ(parseBenchInputs("gaussian", 0.99, false)->describe(), "gaussian");
}

} // namespace
} // namespace mobagen::cli
