//===- moba_config_fuzzer.cpp - fuzz target for the #moba.config parser ----===//
//
// Parses arbitrary text as an MLIR attribute in a context with the moba dialect
// loaded, so the #moba.config<...> parser and its verifier see every mutation.
// The attribute parser must return null with a diagnostic, never crash; a parsed
// ConfigAttr must print and parse back to itself (the compiler relies on the
// round trip for the configuration text of tuning keys).
//
// Built against Debian's libMLIR, which is compiled without libFuzzer's coverage
// instrumentation, so this target runs in the main build through
// StandaloneFuzzMain.cpp over its corpus (ctest: moba-config-fuzz-corpus), not
// under libFuzzer (docs/reliability.md).
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dialect/moba/IR/MobaDialect.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *c = new mlir::MLIRContext();
    c->loadDialect<mobagen::moba::MobaDialect>();
    return c;
  }();
  mlir::ScopedDiagnosticHandler quiet(context, [](mlir::Diagnostic &) { return mlir::success(); });
  const std::string text(reinterpret_cast<const char *>(data), size);
  mlir::Attribute attr = mlir::parseAttribute(text, context);
  auto config = llvm::dyn_cast_if_present<mobagen::moba::ConfigAttr>(attr);
  if (!config)
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  mlir::Attribute(config).print(os);
  os.flush();
  if (mlir::parseAttribute(printed, context) != config)
    std::abort();
  return 0;
}
