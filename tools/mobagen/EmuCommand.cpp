//===- EmuCommand.cpp - `mobagen emu`: run a PTX kernel on the emulator ----===//
//
// Runs one kernel of a PTX file on the CPU PTX emulator with every check on,
// reading input buffers from .npy files and writing output buffers back as
// .npy, then prints the launch's counters. Any fault is a one-paragraph report
// on stderr and exit code 1; a malformed command line is exit code 2.
//
//===----------------------------------------------------------------------===//
#include <charconv>
#include <cstring>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "runtime/emulator/Emulator.h"
#include "runtime/support/FloatFormats.h"
#include "runtime/support/FileRead.h"
#include "runtime/support/Npy.h"
#include "tools/mobagen/Commands.h"

namespace mobagen::cli {
namespace {

struct EmuOptions {
  std::string ptxPath;
  std::string kernel;
  std::string grid = "1", block = "1";
  uint32_t dynamicShared = 0;
  std::vector<std::string> args;
  unsigned threads = 0;
  bool noRaceCheck = false;
  uint64_t instructionLimit = 2'000'000'000ull;
};

constexpr const char *kEmuDescription = R"(Runs KERNEL of a PTX file on the CPU PTX emulator, with bounds, alignment,
uninitialized-read, shared-memory race, barrier and deadlock checks, then prints
the launch's counters (instructions by class, tensor-core FLOPs, global bytes,
shared-memory bank conflicts).

Kernel arguments, in the kernel's parameter order, one --arg each:
  in:FILE.npy              a device buffer holding the array's bytes
  out:FILE.npy:DTYPE:SHAPE a device buffer of SHAPE (e.g. 64x128) and DTYPE, never
                           written before the launch (reading it is a fault), saved
                           to FILE.npy afterwards
  inout:IN.npy:OUT.npy     a buffer holding IN.npy, saved to OUT.npy afterwards
  i8:V u8:V i16:V u16:V i32:V u32:V i64:V u64:V f16:V bf16:V f32:V f64:V
                           a scalar of that type (f16/bf16 rounded to nearest even)
DTYPE: f32, f64, f16, bf16 (stored as uint16 bit patterns), i8, u8, i16, u16,
i32, u32, i64, u64.
Exit codes: 0 success; 1 a fault, a bad PTX file or a bad .npy file (the report
names kernel, PTX line, CTA and thread); 2 command-line usage error.)";

struct DTypeInfo {
  const char *name;
  const char *descr;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {"f32", "<f4", 4}, {"f64", "<f8", 8}, {"f16", "<f2", 2}, {"bf16", "<u2", 2}, {"i8", "|i1", 1},
    {"u8", "|u1", 1},  {"i16", "<i2", 2}, {"u16", "<u2", 2}, {"i32", "<i4", 4},  {"u32", "<u4", 4},
    {"i64", "<i8", 8}, {"u64", "<u8", 8},
};

struct UsageError {
  std::string message;
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep))
    parts.push_back(part);
  return parts;
}

Expected<device::Dim3> parseDim(const std::string &text, const char *what) {
  const auto parts = split(text, text.find('x') != std::string::npos ? 'x' : ',');
  if (parts.empty() || parts.size() > 3)
    return Status::errorf("--{} '{}': expected X, X,Y or X,Y,Z", what, text);
  uint32_t v[3] = {1, 1, 1};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto [p, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v[i]);
    if (ec != std::errc() || p != parts[i].data() + parts[i].size() || v[i] == 0)
      return Status::errorf("--{} '{}': '{}' is not a positive integer", what, text, parts[i]);
  }
  return device::Dim3{v[0], v[1], v[2]};
}

struct Output {
  device::DevicePtr ptr;
  std::string path;
  NpyArray array; // descr and shape; data filled after the launch
};

template <typename T> Status addScalar(device::KernelArgs &args, const std::string &text, const std::string &spec) {
  T value{};
  const char *begin = text.data(), *end = text.data() + text.size();
  std::from_chars_result r;
  if constexpr (std::is_floating_point_v<T>) {
    r = std::from_chars(begin, end, value);
  } else {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      begin += 2;
      base = 16;
    }
    r = std::from_chars(begin, end, value, base);
  }
  if (r.ec != std::errc() || r.ptr != end)
    return Status::errorf("--arg '{}': '{}' is not a valid value of that type", spec, text);
  args.add(value);
  return Status::success();
}

int emuCommand(const EmuOptions &o) {
  auto fail = [](const Status &s) {
    fmt::print(stderr, "mobagen emu: error: {}\n", s.message());
    return kExitFailure;
  };
  auto usage = [](const Status &s) {
    fmt::print(stderr, "mobagen emu: usage error: {}\n", s.message());
    return kExitUsage;
  };
  auto grid = parseDim(o.grid, "grid");
  if (!grid)
    return usage(grid.status());
  auto block = parseDim(o.block, "block");
  if (!block)
    return usage(block.status());

  // A PTX module mobagen writes is under 1 MB; 256 MiB bounds what is read.
  auto text = readRegularFile(o.ptxPath, 256u << 20);
  if (!text)
    return fail(text.status());

  emu::EmulatorOptions options;
  options.threads = o.threads;
  options.checkRaces = !o.noRaceCheck;
  options.instructionLimitPerCta = o.instructionLimit;
  emu::EmulatorDevice dev(options);
  auto module = dev.loadModule(*text, o.ptxPath);
  if (!module)
    return fail(module.status());

  device::KernelArgs args;
  std::vector<Output> outputs;
  for (const std::string &spec : o.args) {
    const auto colon = spec.find(':');
    if (colon == std::string::npos)
      return usage(Status::errorf("--arg '{}': expected KIND:VALUE (see --help)", spec));
    const std::string kind = spec.substr(0, colon), rest = spec.substr(colon + 1);
    Status s = Status::success();
    if (kind == "in" || kind == "inout") {
      const auto parts = split(rest, ':');
      if (parts.size() != (kind == "in" ? 1u : 2u))
        return usage(Status::errorf("--arg '{}': expected {}", spec, kind == "in" ? "in:FILE.npy" : "inout:IN.npy:OUT.npy"));
      auto array = readNpy(parts[0]);
      if (!array)
        return fail(array.status());
      auto ptr = dev.allocate(array->data.size());
      if (!ptr)
        return fail(ptr.status());
      if (Status c = dev.copyToDevice(*ptr, array->data.data(), array->data.size()); !c)
        return fail(c);
      args.add(*ptr);
      if (kind == "inout")
        outputs.push_back(Output{*ptr, parts[1], std::move(*array)});
    } else if (kind == "out") {
      const auto parts = split(rest, ':');
      if (parts.size() != 3)
        return usage(Status::errorf("--arg '{}': expected out:FILE.npy:DTYPE:SHAPE", spec));
      const DTypeInfo *info = nullptr;
      for (const DTypeInfo &d : kDTypes)
        if (parts[1] == d.name)
          info = &d;
      if (!info)
        return usage(Status::errorf("--arg '{}': unknown dtype '{}'", spec, parts[1]));
      NpyArray array;
      array.descr = info->descr;
      uint64_t count = 1;
      for (const std::string &dim : split(parts[2], 'x')) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(dim.data(), dim.data() + dim.size(), v);
        if (ec != std::errc() || p != dim.data() + dim.size() || v < 0)
          return usage(Status::errorf("--arg '{}': shape '{}' must be dimensions joined by 'x'", spec, parts[2]));
        array.shape.push_back(v);
        count *= uint64_t(v);
      }
      auto ptr = dev.allocate(count * info->size);
      if (!ptr)
        return fail(ptr.status());
      array.data.resize(count * info->size);
      args.add(*ptr);
      outputs.push_back(Output{*ptr, parts[0], std::move(array)});
    } else if (kind == "i32") {
      s = addScalar<int32_t>(args, rest, spec);
    } else if (kind == "u32") {
      s = addScalar<uint32_t>(args, rest, spec);
    } else if (kind == "i64") {
      s = addScalar<int64_t>(args, rest, spec);
    } else if (kind == "u64") {
      s = addScalar<uint64_t>(args, rest, spec);
    } else if (kind == "f32") {
      s = addScalar<float>(args, rest, spec);
    } else if (kind == "f64") {
      s = addScalar<double>(args, rest, spec);
    } else if (kind == "i8") {
      s = addScalar<int8_t>(args, rest, spec);
    } else if (kind == "u8") {
      s = addScalar<uint8_t>(args, rest, spec);
    } else if (kind == "i16") {
      s = addScalar<int16_t>(args, rest, spec);
    } else if (kind == "u16") {
      s = addScalar<uint16_t>(args, rest, spec);
    } else if (kind == "f16" || kind == "bf16") { // rounded to nearest even, passed as 2 bytes
      device::KernelArgs one;
      s = addScalar<double>(one, rest, spec);
      if (s) {
        double v;
        std::memcpy(&v, one.bytes(0).data(), sizeof v);
        args.add(encodeDType(v, kind == "f16" ? DType::F16 : DType::BF16));
      }
    } else {
      return usage(Status::errorf("--arg '{}': unknown kind '{}' (in, out, inout, i8, u8, i16, u16, i32, u32, "
                                  "i64, u64, f16, bf16, f32, f64)",
                                  spec, kind));
    }
    if (!s)
      return usage(s);
  }

  const auto start = std::chrono::steady_clock::now();
  Status launched = dev.launch(*module, o.kernel, device::LaunchConfig{*grid, *block, o.dynamicShared}, args);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!launched)
    return fail(launched);
  for (Output &out : outputs) {
    if (Status c = dev.copyToHost(out.array.data.data(), out.ptr, out.array.data.size()); !c)
      return fail(c);
    if (Status w = writeNpy(out.path, out.array); !w)
      return fail(w);
  }
  const emu::Counters &c = dev.counters();
  fmt::print("mobagen emu: kernel {}: grid ({},{},{}), block ({},{},{}), {} dynamic shared bytes: ok ({:.3f} s)\n",
             o.kernel, grid->x, grid->y, grid->z, block->x, block->y, block->z, o.dynamicShared, seconds);
  fmt::print("{}", c.format());
  if (seconds > 0)
    fmt::print("speed: {:.3g} thread-instructions/s, {:.3g} tensor-core GFLOP/s\n",
               double(c.threadInstructions) / seconds, double(c.tensorCoreFlops) / seconds / 1e9);
  for (const Output &out : outputs)
    fmt::print("wrote {}\n", out.path);
  return kExitOk;
}

} // namespace

std::function<int()> addEmuCommand(CLI::App &app) {
  auto options = std::make_shared<EmuOptions>();
  EmuOptions &o = *options;
  CLI::App *emu = app.add_subcommand("emu", "Run a kernel of a PTX file on the CPU PTX emulator");
  emu->footer(kEmuDescription);
  emu->add_option("ptx", o.ptxPath, "PTX file")->required();
  emu->add_option("-k,--kernel", o.kernel, "Kernel (.entry) to run")->required();
  emu->add_option("--grid", o.grid, "Grid dimensions X[,Y[,Z]]")->capture_default_str();
  emu->add_option("--block", o.block, "Block dimensions X[,Y[,Z]]")->capture_default_str();
  emu->add_option("--dynamic-smem", o.dynamicShared, "Dynamic shared memory bytes per CTA")->capture_default_str();
  emu->add_option("--arg", o.args, "A kernel argument, in order (see below)");
  emu->add_option("--threads", o.threads, "Host threads running CTAs (0: all cores)")->capture_default_str();
  emu->add_flag("--no-race-check", o.noRaceCheck, "Skip the shared-memory race check");
  emu->add_option("--instruction-limit", o.instructionLimit,
                  "Warp instructions per CTA before the run is stopped as an endless loop (0: none)")
      ->capture_default_str();
  return [options] { return emuCommand(*options); };
}

} // namespace mobagen::cli
