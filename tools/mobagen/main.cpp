//===- main.cpp - The mobagen command-line tool -----------------------------===//
#include "tools/mobagen/Commands.h"

#include <fmt/format.h>

int main(int argc, char **argv) {
  using namespace mobagen::cli;
  CLI::App app{"mobagen: MoBA (Mixture of Block Attention) kernel generator and runtime.\n"
               "Exit codes: 0 success, 1 bad input or failed run, 2 command-line usage error.",
               "mobagen"};
  app.set_version_flag("--version", std::string("mobagen ") + MOBAGEN_VERSION);
  app.require_subcommand(1);
  app.get_formatter()->column_width(40);

  std::function<int()> run = addRunCommand(app);
  std::function<int()> info = addInfoCommand(app);
  std::function<int()> tune = addTuneCommand(app);
  std::function<int()> bench = addBenchCommand(app);
  std::function<int()> emu = addEmuCommand(app);
#ifdef MOBAGEN_HAVE_COMPILER
  std::function<int()> generate = addGenerateCommand(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  // The commands report errors as values; this is the last guard against anything
  // thrown below them (out of memory, a filesystem error) taking the process down.
  try {
    if (app.got_subcommand("run"))
      return run();
    if (app.got_subcommand("info"))
      return info();
    if (app.got_subcommand("tune"))
      return tune();
    if (app.got_subcommand("bench"))
      return bench();
    if (app.got_subcommand("emu"))
      return emu();
#ifdef MOBAGEN_HAVE_COMPILER
    if (app.got_subcommand("generate"))
      return generate();
#endif
  } catch (const std::exception &e) {
    fmt::print(stderr, "mobagen: error: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
