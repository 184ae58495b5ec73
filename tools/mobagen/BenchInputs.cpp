//===- BenchInputs.cpp - the q, k, v that `mobagen bench` runs on ------------===//
#include "tools/mobagen/BenchInputs.h"

#include <cmath>
#include <random>

#include <fmt/format.h>

namespace mobagen::cli {

std::string BenchInputSpec::describe() const {
  switch (kind) {
  case BenchInputKind::Gaussian:
    return "gaussian";
  case BenchInputKind::Ar1:
    return fmt::format("ar1 rho={}", rho);
  case BenchInputKind::Uniform:
    return "uniform";
  }
  return "";
}

Expected<BenchInputSpec> parseBenchInputs(const std::string &name, double rho, bool rhoGiven) {
  BenchInputSpec spec;
  if (name == "gaussian")
    spec.kind = BenchInputKind::Gaussian;
  else if (name == "ar1")
    spec.kind = BenchInputKind::Ar1;
  else if (name == "uniform")
    spec.kind = BenchInputKind::Uniform;
  else
    return Status::errorf("--inputs {}: unknown; known: gaussian, ar1, uniform", name);
  if (rhoGiven && spec.kind != BenchInputKind::Ar1)
    return Status::errorf("--rho {} is for --inputs ar1; the inputs are {}", rho, name);
  // rho = 1 would make every row of a sequence equal (the innovation's weight is 0);
  // a negative rho alternates signs, which is not sequence locality.
  if (!(rho >= 0.0 && rho < 1.0))
    return Status::errorf("--rho {}: must be in [0, 1)", rho);
  spec.rho = rho;
  return spec;
}

std::vector<double> benchTensor(const BenchInputSpec &spec, const std::vector<int32_t> &cuSeqlens, int64_t heads,
                                int64_t dim, std::mt19937 &rng) {
  const int64_t rows = cuSeqlens.empty() ? 0 : cuSeqlens.back();
  const size_t rowSize = size_t(heads * dim);
  std::vector<double> x(size_t(rows) * rowSize);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  if (spec.kind == BenchInputKind::Uniform) {
    for (double &e : x)
      e = uniform(rng);
    return x;
  }
  if (spec.kind == BenchInputKind::Gaussian) {
    for (double &e : x)
      e = normal(rng);
    return x;
  }
  const double innovation = std::sqrt(1.0 - spec.rho * spec.rho);
  for (size_t s = 0; s + 1 < cuSeqlens.size(); ++s)
    for (int64_t t = cuSeqlens[s]; t < cuSeqlens[s + 1]; ++t) {
      double *row = x.data() + size_t(t) * rowSize;
      if (t == cuSeqlens[s]) {
        for (size_t i = 0; i < rowSize; ++i)
          row[i] = normal(rng);
        continue;
      }
      const double *previous = row - rowSize;
      for (size_t i = 0; i < rowSize; ++i)
        row[i] = spec.rho * previous[i] + innovation * normal(rng);
    }
  return x;
}

} // namespace mobagen::cli
