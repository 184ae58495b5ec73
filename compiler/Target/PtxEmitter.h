//===- PtxEmitter.h - LLVM/NVVM dialect to PTX, in process ------------------===//
//
// The last two steps of mobagen's pipeline: a gpu.module (or builtin.module) whose
// body is in the LLVM and NVVM dialects is translated to LLVM IR, optimized, and
// printed as PTX by LLVM's NVPTX backend, all in memory (no temporary files, no
// subprocess); the PTX is then assembled to a cubin by nvJitLink, also in process,
// which reports each kernel's registers, spills and shared memory.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/support/Status.h"

namespace mlir {
class Operation;
class DialectRegistry;
} // namespace mlir
namespace llvm {
class TargetMachine;
} // namespace llvm

namespace mobagen::compiler {

/// What the NVPTX backend targets.
struct PtxTarget {
  std::string chip = "sm_80";    // sm_80, sm_90, sm_90a
  std::string features = "+ptx80"; // PTX ISA version the output declares
  unsigned optLevel = 3;         // LLVM -O level before code generation
};

/// Where emitPtx spends its time, in milliseconds (added to, so one record can sum
/// several modules): MLIR -> LLVM IR, creating the NVPTX TargetMachine, the LLVM -O
/// pipeline, and instruction selection + PTX printing.
struct PtxStageTimes {
  double translateMs = 0;
  double targetMachineMs = 0;
  double optimizeMs = 0;
  double codegenMs = 0;
};

/// Registers what emitPtx needs to translate (LLVM, NVVM, GPU, builtin dialects).
void registerPtxTranslations(mlir::DialectRegistry &registry);

/// Emits PTX for one target with one NVPTX TargetMachine, made once and reused for
/// every module (one emitter per thread: a TargetMachine is not shared between
/// threads that generate code).
class PtxEmitter {
public:
  /// Checks the target (unknown chips and features are refused) and makes the machine.
  static Expected<PtxEmitter> create(const PtxTarget &target, PtxStageTimes *times = nullptr);
  PtxEmitter(PtxEmitter &&) noexcept;
  PtxEmitter &operator=(PtxEmitter &&) noexcept;
  ~PtxEmitter();

  /// Translates `module` (LLVM + NVVM dialects; kernels carry `nvvm.kernel`) to PTX.
  Expected<std::string> emit(mlir::Operation *module, PtxStageTimes *times = nullptr);

private:
  PtxEmitter(PtxTarget target, std::unique_ptr<llvm::TargetMachine> machine);
  PtxTarget target_;
  std::unique_ptr<llvm::TargetMachine> machine_;
};

/// Translates `module` (LLVM + NVVM dialects; kernels carry `nvvm.kernel`) to PTX
/// with a PtxEmitter made for this one call.
Expected<std::string> emitPtx(mlir::Operation *module, const PtxTarget &target,
                              PtxStageTimes *times = nullptr);

/// ptxas's report for one kernel.
struct KernelResources {
  std::string kernel;
  int registers = 0;
  int64_t stackFrameBytes = 0;
  int64_t spillStoreBytes = 0;
  int64_t spillLoadBytes = 0;
  int64_t sharedBytes = 0; // static shared memory
};

struct Cubin {
  std::vector<char> image;
  std::vector<KernelResources> kernels;
  std::string infoLog; // nvJitLink's verbose log, as ptxas printed it
};

/// Assembles PTX for `chip` (e.g. "sm_90a") with nvJitLink.
Expected<Cubin> assembleCubin(std::string_view ptx, std::string_view chip);

/// Parses the "ptxas info" lines of a verbose log into per-kernel resources.
std::vector<KernelResources> parsePtxasInfo(std::string_view log);

} // namespace mobagen::compiler
