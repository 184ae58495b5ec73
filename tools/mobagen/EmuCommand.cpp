//===- EmuCommand.cpp - `mobagen emu`: run a PTX kernel on the emulator ----===//
//
// Runs one kernel of a PTX file on the CPU PTX emulator with every check on,
// reading input buffers from .npy files and writing output buffers back as
// .npy, then prints the launch's counters. Any fault is a one-paragraph report
// on stderr and exit code 1; a malformed command line is exit code 2.
//
//===----------------------------------------------------------------------===//
#include <cerrno>
#include <filesystem>
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
#include "tools/mobagen/EmuArgs.h"
#include "tools/mobagen/OutputSet.h"

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
                           to FILE.npy afterwards (bytes never written save as 0)
  inout:IN.npy:OUT.npy     a buffer holding IN.npy, saved to OUT.npy afterwards
  i8:V u8:V i16:V u16:V i32:V u32:V i64:V u64:V f16:V bf16:V f32:V f64:V
                           a scalar of that type (f16/bf16 rounded to nearest even)
DTYPE: f32, f64, f16, bf16 (stored as uint16 bit patterns), i8, u8, i16, u16,
i32, u32, i64, u64.
Outputs are checked before the launch (never an input, never named twice) and
renamed into place together once all are written (docs/reliability.md).
Exit codes: 0 success; 1 a fault, a bad PTX file or a bad .npy file (the report
names kernel, PTX line, CTA and thread); 2 command-line usage error.)";

struct Output {
  device::DevicePtr ptr;
  std::string path;
  NpyArray array; // descr and shape; data filled after the launch
};

int emuCommand(const EmuOptions &o) {
  auto fail = [](const Status &s) {
    fmt::print(stderr, "mobagen emu: error: {}\n", s.message());
    return kExitFailure;
  };
  auto usage = [](const Status &s) {
    fmt::print(stderr, "mobagen emu: usage error: {}\n", s.message());
    return kExitUsage;
  };
  auto grid = parseEmuDim(o.grid, "grid");
  if (!grid)
    return usage(grid.status());
  auto block = parseEmuDim(o.block, "block");
  if (!block)
    return usage(block.status());
  std::vector<EmuArg> parsed;
  for (const std::string &spec : o.args) {
    auto arg = parseEmuArg(spec);
    if (!arg)
      return usage(arg.status());
    parsed.push_back(std::move(*arg));
  }
  // Every output is checked before any work: not a directory, not an input
  // (the PTX file or an in:/inout: .npy), not another output.
  OutputSet outputSet;
  outputSet.addInput(o.ptxPath);
  for (const EmuArg &a : parsed)
    if (!a.input.empty())
      outputSet.addInput(a.input);
  for (const EmuArg &a : parsed)
    if (!a.output.empty())
      if (Status s = outputSet.addOutput(a.output, fmt::format("--arg '{}'", a.spec)); !s)
        return fail(s);

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

  // A scalar's type must fit its parameter's declared type: an f32 bit pattern
  // in an .s32 parameter would run with a meaningless value.
  if (const emu::Module *m = dev.module(*module))
    for (const emu::Kernel &k : m->kernels)
      if (k.name == o.kernel && k.isEntry)
        for (size_t i = 0; i < parsed.size() && i < k.params.size(); ++i) {
          const EmuArg &a = parsed[i];
          const emu::Param &param = k.params[i];
          if (a.kind != EmuArg::Kind::Scalar || param.type == emu::Type::None)
            continue;
          const bool argFloat = a.dtype->descr[1] == 'f' || std::string(a.dtype->name) == "bf16";
          const bool paramBits = param.type == emu::Type::B8 || param.type == emu::Type::B16 ||
                                 param.type == emu::Type::B32 || param.type == emu::Type::B64;
          const bool sameClass = paramBits || argFloat == emu::isFloat(param.type);
          if (!sameClass || a.value.size() != emu::typeBytes(param.type))
            return fail(Status::errorf("--arg '{}': parameter {} '{}' of kernel '{}' is .{}; a value "
                                       "of type {} does not fit it",
                                       a.spec, i, param.name, o.kernel,
                                       emu::typeName(param.type), a.dtype->name));
        }

  device::KernelArgs args;
  std::vector<Output> outputs;
  for (const EmuArg &a : parsed) {
    switch (a.kind) {
    case EmuArg::Kind::In:
    case EmuArg::Kind::InOut: {
      auto array = readNpy(a.input);
      if (!array)
        return fail(array.status());
      auto ptr = dev.allocate(array->data.size());
      if (!ptr)
        return fail(ptr.status());
      if (Status c = dev.copyToDevice(*ptr, array->data.data(), array->data.size()); !c)
        return fail(c);
      args.add(*ptr);
      if (a.kind == EmuArg::Kind::InOut)
        outputs.push_back(Output{*ptr, a.output, std::move(*array)});
      break;
    }
    case EmuArg::Kind::Out: {
      auto ptr = dev.allocate(a.bytes);
      if (!ptr)
        return fail(ptr.status());
      NpyArray array;
      array.descr = a.dtype->descr;
      array.shape = a.shape;
      args.add(*ptr);
      outputs.push_back(Output{*ptr, a.output, std::move(array)});
      break;
    }
    case EmuArg::Kind::Scalar:
      args.addBytes(a.value.data(), a.value.size());
      break;
    }
  }

  const auto start = std::chrono::steady_clock::now();
  Status launched = dev.launch(*module, o.kernel, device::LaunchConfig{*grid, *block, o.dynamicShared}, args);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!launched)
    return fail(launched);
  // All outputs are written to temporaries first and renamed into place together.
  for (Output &out : outputs) {
    out.array.data.resize(static_cast<size_t>(out.array.elementCount()) * out.array.itemSize());
    if (Status c = dev.copyToHost(out.array.data.data(), out.ptr, out.array.data.size()); !c)
      return fail(c);
    if (Status w = outputSet.stage(out.path, [&out](const std::string &temp) {
          return writeNpy(temp, out.array);
        });
        !w)
      return fail(w);
  }
  if (Status p = outputSet.publish(); !p)
    return fail(p);
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
