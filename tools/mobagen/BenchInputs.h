//===- BenchInputs.h - the q, k, v that `mobagen bench` runs on --------------===//
//
// `--inputs gaussian` (the default): every element i.i.d. N(0, 1), so neighbouring
// queries pick unrelated blocks. `--inputs ar1 --rho R`: each (head, dim) channel of
// q, k and v is an AR(1) process along each sequence, x_0 ~ N(0, 1),
// x_t = R x_{t-1} + sqrt(1 - R^2) e_t with e_t ~ N(0, 1), so every element is still
// N(0, 1) but neighbouring rows are correlated (lag-1 autocorrelation R): neighbouring
// queries pick similar blocks, as in real text. `--inputs uniform`: i.i.d. U(-1, 1),
// the inputs of the tables measured before --inputs existed. Seeded: the same flags
// give the same inputs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::cli {

enum class BenchInputKind { Gaussian, Ar1, Uniform };

struct BenchInputSpec {
  BenchInputKind kind = BenchInputKind::Gaussian;
  double rho = 0.99; ///< ar1 only

  /// "gaussian", "ar1 rho=0.99", "uniform": what the table says was run.
  std::string describe() const;
};

/// The spec of `--inputs NAME --rho R`; an unknown name or R outside [0, 1) is an error
/// (rhoGiven: --rho was on the command line, which only ar1 takes).
Expected<BenchInputSpec> parseBenchInputs(const std::string &name, double rho, bool rhoGiven);

/// A [rows, heads, dim] tensor of the spec's distribution, rows packed by sequence
/// (`cuSeqlens`, [B+1]), drawn from `rng`: an AR(1) process starts afresh at each
/// sequence's first row.
std::vector<double> benchTensor(const BenchInputSpec &spec, const std::vector<int32_t> &cuSeqlens, int64_t heads,
                                int64_t dim, std::mt19937 &rng);

} // namespace mobagen::cli
