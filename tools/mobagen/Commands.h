//===- Commands.h - The mobagen CLI's subcommands ---------------------------===//
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

namespace mobagen::cli {

/// Exit codes of every subcommand (documented in `mobagen --help` and the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1, // bad input file, invalid configuration, failed run
  kExitUsage = 2,   // the command line itself is wrong
};

/// Adds `mobagen run` to `app`; the returned function runs it after parsing.
std::function<int()> addRunCommand(CLI::App &app);
/// Adds `mobagen generate` (builds with the compiler only).
std::function<int()> addGenerateCommand(CLI::App &app);
/// Adds `mobagen tune` (choose and cache each kernel's variant for a shape).
std::function<int()> addTuneCommand(CLI::App &app);
/// Adds `mobagen bench` (time the forward per shape).
std::function<int()> addBenchCommand(CLI::App &app);
/// Adds `mobagen info`.
std::function<int()> addInfoCommand(CLI::App &app);

/// Adds `mobagen emu` (run a PTX kernel on the CPU emulator) to `app`.
std::function<int()> addEmuCommand(CLI::App &app);

} // namespace mobagen::cli
