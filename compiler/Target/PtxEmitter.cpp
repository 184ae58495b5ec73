#include "compiler/Target/PtxEmitter.h"
#include "compiler/Target/StageClock.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <sstream>
#include <regex>

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include <nvJitLink.h>

namespace mobagen::compiler {
namespace {

constexpr const char *kTriple = "nvptx64-nvidia-cuda";

void initializeNvptxBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

/// Runs LLVM's standard -O pipeline: the NVPTX backend expects optimized IR
/// (promoted allocas, folded address arithmetic) to produce good PTX.
void optimize(llvm::Module &module, llvm::TargetMachine &machine, unsigned optLevel) {
  if (optLevel == 0)
    return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  const llvm::OptimizationLevel level = optLevel == 1   ? llvm::OptimizationLevel::O1
                                        : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                        : llvm::OptimizationLevel::O3;
  builder.buildPerModuleDefaultPipeline(level).run(module, mam);
}

std::string jitLinkLog(nvJitLinkHandle handle, bool errorLog) {
  size_t size = 0;
  if ((errorLog ? nvJitLinkGetErrorLogSize(handle, &size) : nvJitLinkGetInfoLogSize(handle, &size)) !=
          NVJITLINK_SUCCESS ||
      size == 0)
    return "";
  std::string log(size, '\0');
  if ((errorLog ? nvJitLinkGetErrorLog(handle, log.data()) : nvJitLinkGetInfoLog(handle, log.data())) !=
      NVJITLINK_SUCCESS)
    return "";
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
    log.pop_back();
  return log;
}


/// The operation whose body becomes the LLVM module: the single gpu.module inside
/// a builtin.module, or the module itself when it holds the kernels directly.
Expected<mlir::Operation *> kernelContainer(mlir::Operation *module) {
  if (llvm::isa<mlir::gpu::GPUModuleOp>(module))
    return module;
  llvm::SmallVector<mlir::gpu::GPUModuleOp> gpuModules;
  for (mlir::Region &region : module->getRegions())
    for (auto gpuModule : region.getOps<mlir::gpu::GPUModuleOp>())
      gpuModules.push_back(gpuModule);
  if (gpuModules.size() > 1)
    return Status::errorf("the module holds {} gpu.modules; PTX is emitted for one at a time",
                          gpuModules.size());
  return gpuModules.empty() ? module : gpuModules.front().getOperation();
}

/// LLVM only warns about an unknown CPU or feature and then ignores it; mobagen
/// refuses both, so a typo cannot silently produce PTX for another target.
Status checkTarget(const llvm::Target &nvptx, const llvm::Triple &triple, const PtxTarget &target) {
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      nvptx.createMCSubtargetInfo(triple, target.chip, ""));
  if (!info || !info->isCPUStringValid(target.chip))
    return Status::errorf("unknown GPU architecture '{}' (e.g. sm_80, sm_90, sm_90a)", target.chip);
  llvm::SmallVector<llvm::StringRef> features;
  llvm::StringRef(target.features).split(features, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef feature : features) {
    const llvm::StringRef name = feature.ltrim("+-");
    const bool known = llvm::any_of(info->getAllProcessorFeatures(),
                                    [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; });
    if (!known || (feature[0] != '+' && feature[0] != '-'))
      return Status::errorf("unknown NVPTX feature '{}' (features look like +ptx80)", feature.str());
  }
  return Status::success();
}

} // namespace

void registerPtxTranslations(mlir::DialectRegistry &registry) {
  registry.insert<mlir::LLVM::LLVMDialect, mlir::NVVM::NVVMDialect, mlir::gpu::GPUDialect>();
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
}

PtxEmitter::PtxEmitter(PtxTarget target, std::unique_ptr<llvm::TargetMachine> machine)
    : target_(std::move(target)), machine_(std::move(machine)) {}
PtxEmitter::PtxEmitter(PtxEmitter &&) noexcept = default;
PtxEmitter &PtxEmitter::operator=(PtxEmitter &&) noexcept = default;
PtxEmitter::~PtxEmitter() = default;

Expected<PtxEmitter> PtxEmitter::create(const PtxTarget &target, PtxStageTimes *times) {
  PtxStageTimes ignored;
  PtxStageTimes &t = times ? *times : ignored;
  StageClock clock;
  initializeNvptxBackend();
  const llvm::Triple triple(kTriple);
  std::string error;
  const llvm::Target *nvptx = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!nvptx)
    return Status::errorf("the NVPTX backend is not available: {}", error);
  MOBAGEN_RETURN_IF_ERROR(checkTarget(*nvptx, triple, target));
  std::unique_ptr<llvm::TargetMachine> machine(nvptx->createTargetMachine(
      triple, target.chip, target.features, llvm::TargetOptions(), llvm::Reloc::Static));
  if (!machine)
    return Status::errorf("cannot create an NVPTX target machine for {} with features '{}'",
                          target.chip, target.features);
  t.targetMachineMs += clock.lap();
  return PtxEmitter(target, std::move(machine));
}

Expected<std::string> PtxEmitter::emit(mlir::Operation *root, PtxStageTimes *times) {
  PtxStageTimes ignored;
  PtxStageTimes &t = times ? *times : ignored;
  StageClock clock;
  auto module = kernelContainer(root);
  if (!module)
    return module.status();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(*module, context);
  if (!llvmModule)
    return Status::error("translating the module to LLVM IR failed (see the MLIR diagnostics)");
  t.translateMs += clock.lap();

  llvmModule->setTargetTriple(machine_->getTargetTriple());
  llvmModule->setDataLayout(machine_->createDataLayout());
  optimize(*llvmModule, *machine_, target_.optLevel);
  t.optimizeMs += clock.lap();

  llvm::SmallString<0> ptx;
  llvm::raw_svector_ostream stream(ptx);
  llvm::legacy::PassManager codegen;
  if (machine_->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::AssemblyFile))
    return Status::errorf("the NVPTX backend cannot emit PTX for {}", target_.chip);
  codegen.run(*llvmModule);
  t.codegenMs += clock.lap();
  return std::string(ptx.str());
}

Expected<std::string> emitPtx(mlir::Operation *root, const PtxTarget &target,
                              PtxStageTimes *times) {
  auto emitter = PtxEmitter::create(target, times);
  if (!emitter)
    return emitter.status();
  return emitter->emit(root, times);
}

Expected<Cubin> assembleCubin(std::string_view ptx, std::string_view chip) {
  const std::string arch = fmt::format("-arch={}", chip);
  const char *options[] = {arch.c_str(), "-verbose"};
  nvJitLinkHandle handle = nullptr;
  if (nvJitLinkResult r = nvJitLinkCreate(&handle, 2, options); r != NVJITLINK_SUCCESS)
    return Status::errorf("nvJitLinkCreate({}) failed with result {}", arch, static_cast<int>(r));
  auto destroy = [&] { nvJitLinkDestroy(&handle); };

  const std::string text(ptx); // nvJitLink wants the terminating NUL for PTX input
  if (nvJitLinkResult r =
          nvJitLinkAddData(handle, NVJITLINK_INPUT_PTX, text.c_str(), text.size() + 1, "mobagen.ptx");
      r != NVJITLINK_SUCCESS) {
    Status s = Status::errorf("nvJitLink rejected the PTX for {} (result {}): {}", chip,
                              static_cast<int>(r), jitLinkLog(handle, true));
    destroy();
    return s;
  }
  if (nvJitLinkResult r = nvJitLinkComplete(handle); r != NVJITLINK_SUCCESS) {
    Status s = Status::errorf("assembling PTX for {} failed (nvJitLink result {}): {}", chip,
                              static_cast<int>(r), jitLinkLog(handle, true));
    destroy();
    return s;
  }
  Cubin cubin;
  size_t size = 0;
  if (nvJitLinkGetLinkedCubinSize(handle, &size) != NVJITLINK_SUCCESS) {
    destroy();
    return Status::errorf("nvJitLink produced no cubin for {}", chip);
  }
  cubin.image.resize(size);
  if (nvJitLinkGetLinkedCubin(handle, cubin.image.data()) != NVJITLINK_SUCCESS) {
    destroy();
    return Status::errorf("nvJitLink produced no cubin for {}", chip);
  }
  cubin.infoLog = jitLinkLog(handle, false);
  cubin.kernels = parsePtxasInfo(cubin.infoLog);
  destroy();
  return cubin;
}

std::vector<KernelResources> parsePtxasInfo(std::string_view log) {
  // ptxas -v prints, per entry function:
  //   ptxas info    : Compiling entry function 'NAME' for 'sm_80'
  //   ptxas info    : Function properties for NAME
  //       S bytes stack frame, T bytes spill stores, U bytes spill loads
  //   ptxas info    : Used R registers, ... [, M bytes smem] ...
  // and nvJitLink appends a link summary that names each kernel again:
  //   info    : Function properties for 'NAME':
  //   info    : used R registers, ..., M bytes smem, ...
  // Every line is attributed to the kernel named last.
  static const std::regex entry(R"(Compiling entry function '([^']+)')");
  static const std::regex properties(R"(Function properties for '?([^':\s]+)'?)");
  static const std::regex frame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"([Uu]sed (\d+) registers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  std::vector<KernelResources> kernels;
  KernelResources *current = nullptr;
  auto select = [&](const std::string &name) {
    auto it = std::find_if(kernels.begin(), kernels.end(),
                           [&](const KernelResources &k) { return k.kernel == name; });
    if (it == kernels.end()) {
      kernels.push_back({.kernel = name});
      return &kernels.back();
    }
    return &*it;
  };
  std::istringstream lines{std::string(log)};
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, entry) || std::regex_search(line, m, properties)) {
      current = select(m[1].str());
      continue;
    }
    if (!current)
      continue;
    if (std::regex_search(line, m, frame)) {
      current->stackFrameBytes = std::stoll(m[1].str());
      current->spillStoreBytes = std::stoll(m[2].str());
      current->spillLoadBytes = std::stoll(m[3].str());
    }
    if (std::regex_search(line, m, used))
      current->registers = std::stoi(m[1].str());
    if (std::regex_search(line, m, smem))
      current->sharedBytes = std::stoll(m[1].str());
  }
  return kernels;
}

} // namespace mobagen::compiler
