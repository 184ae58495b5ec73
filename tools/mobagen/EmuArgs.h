//===- EmuArgs.h - `mobagen emu`'s --arg, --grid and --block parser ---------===//
//
// Pure parsing, no file access: every size is computed with CheckedMath, so a
// shape that overflows 64 bits (or a grid whose product overflows 32) is an
// error naming the values, and a trailing or doubled separator (`1000x`,
// `--grid 8,`) is refused. Fuzzed by tests/fuzz/emu_args_fuzzer.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/device/Device.h"
#include "runtime/support/Status.h"

namespace mobagen::cli {

/// An element type of an out: buffer or a scalar: its spelling, NumPy descr, bytes.
struct EmuDType {
  const char *name;
  const char *descr;
  size_t size;
};
/// The known DTYPE spellings (f32, f64, f16, bf16, i8 ... u64); null if unknown.
const EmuDType *findEmuDType(const std::string &name);

struct EmuArg {
  enum class Kind { In, Out, InOut, Scalar } kind = Kind::Scalar;
  std::string spec;     ///< the --arg text, for messages
  std::string input;    ///< In, InOut: the .npy read
  std::string output;   ///< Out, InOut: the .npy written
  const EmuDType *dtype = nullptr;   ///< Out: element type; Scalar: its type
  std::vector<int64_t> shape;        ///< Out
  uint64_t bytes = 0;                ///< Out: element count x size, checked
  std::vector<uint8_t> value;        ///< Scalar: its little-endian bytes
};

/// Parses one --arg (see `mobagen emu --help`).
Expected<EmuArg> parseEmuArg(const std::string &spec);
/// Parses --grid / --block: X, X,Y or X,Y,Z (or joined by 'x'), each in
/// [1, 2^32-1], the product too (the emulator counts threads in 32 bits).
Expected<device::Dim3> parseEmuDim(const std::string &text, const char *what);

} // namespace mobagen::cli
