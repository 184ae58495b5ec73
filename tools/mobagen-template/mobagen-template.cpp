//===- mobagen-template.cpp - print a kernel template's tile IR -------------===//
//
//   mobagen-template flash-attention-fwd --config='#moba.config<...>'
//       [--block-m=64] [--block-n=64] [--num-warps=4] [--num-stages=2]
//   mobagen-template pool-keys --config='#moba.config<...>'
//       [--block-rows=32] [--num-warps=4]
//   mobagen-template gate-topk --config='#moba.config<...>'
//       [--block-m=16] [--block-n=16] [--num-warps=4]
//   mobagen-template sparse-attention-fwd --config='#moba.config<...>'
//       [--block-m=16] [--block-n=16] [--num-warps=4]
//   mobagen-template route-scatter --config='#moba.config<...>'
//       [--block-rows=32] [--blocks=32] [--num-warps=4]
//   mobagen-template sparse-attention-blocks --config='#moba.config<...>'
//       [--block-m=32] [--block-n=64] [--num-warps=4] [--num-stages=2]
//   mobagen-template sparse-attention-merge --config='#moba.config<...>'
//       [--block-m=64] [--block-n=32] [--num-warps=8] [--num-stages=2]
//
// Builds the kernel with the C++ DSL for the given config and tuning knobs,
// verifies it and prints it (parseable by mobagen-opt). Exit status 1 with a
// diagnostic on a bad config, bad knob or a module that fails verification.
//
//===----------------------------------------------------------------------===//

#include "templates/FlashAttentionFwd.h"
#include "templates/GateTopK.h"
#include "templates/PoolKeys.h"
#include "templates/RouteBlocks.h"
#include "templates/SparseAttentionBlocks.h"
#include "templates/SparseAttentionFwd.h"
#include "templates/SparseAttentionMerge.h"

#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/AsmParser/AsmParser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
cl::opt<std::string> templateName(cl::Positional, cl::Required,
                                  cl::desc("<template: flash-attention-fwd | pool-keys | gate-topk | "
                                           "sparse-attention-fwd | sparse-attention-blocks | "
                                           "sparse-attention-merge | route-scatter>"));
cl::opt<std::string> configText("config", cl::Required,
                                cl::desc("the #moba.config<...> to instantiate"));
cl::opt<int64_t> blockM("block-m", cl::init(64), cl::desc("query rows per program"));
cl::opt<int64_t> blockN("block-n", cl::init(64), cl::desc("keys per loop iteration"));
cl::opt<int64_t> numWarps("num-warps", cl::init(4), cl::desc("warps per program"));
cl::opt<int64_t> numStages("num-stages", cl::init(2),
                           cl::desc("software-pipelining depth of the key loop"));
cl::opt<int64_t> blockRows("block-rows", cl::init(32),
                           cl::desc("key rows summed per iteration (pool-keys), query rows "
                                    "per program (route-scatter)"));
cl::opt<bool> keysResident("keys-resident", cl::init(false),
                           cl::desc("the block's keys as one tile resident in shared memory "
                                    "(sparse-attention-blocks; --block-n = the block size rounded "
                                    "up to a power of two, --num-stages=1)"));
cl::opt<int64_t> blocks("blocks", cl::init(32),
                        cl::desc("block counts summed per step of the offsets (route-scatter)"));
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "mobagen kernel template printer\n");

  if (templateName != "flash-attention-fwd" && templateName != "pool-keys" &&
      templateName != "gate-topk" && templateName != "sparse-attention-fwd" &&
      templateName != "sparse-attention-blocks" && templateName != "sparse-attention-merge" &&
      templateName != "route-scatter") {
    llvm::errs() << "mobagen-template: error: unknown template '" << templateName
                 << "'; known: flash-attention-fwd, pool-keys, gate-topk, "
                    "sparse-attention-fwd, sparse-attention-blocks, sparse-attention-merge, "
                    "route-scatter\n";
    return 1;
  }

  MLIRContext context;
  context.loadDialect<mobagen::moba::MobaDialect, mobagen::tile::TileDialect,
                      func::FuncDialect>();
  auto config = llvm::dyn_cast_if_present<mobagen::moba::ConfigAttr>(
      parseAttribute(configText, &context));
  if (!config) {
    llvm::errs() << "mobagen-template: error: --config is not a valid "
                    "#moba.config<...>: "
                 << configText << "\n";
    return 1;
  }

  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(&context, "mobagen-template", 0, 0));
  LogicalResult built = failure();
  if (templateName == "pool-keys")
    built = mobagen::templates::buildPoolKeys(*module, config, {blockRows, numWarps});
  else if (templateName == "gate-topk")
    built = mobagen::templates::buildGateTopK(*module, config, {blockM, blockN, numWarps});
  else if (templateName == "route-scatter")
    built = mobagen::templates::buildRouteScatter(*module, config, {blockRows, blocks, numWarps});
  else if (templateName == "sparse-attention-fwd")
    built = mobagen::templates::buildSparseAttentionFwd(*module, config, {blockM, blockN, numWarps});
  else if (templateName == "sparse-attention-blocks" || templateName == "sparse-attention-merge") {
    // Knobs not given take the template's defaults.
    mobagen::templates::SparseBlocksTuning blocks;
    mobagen::templates::SparseMergeTuning merge;
    const bool isBlocks = templateName == "sparse-attention-blocks";
    int64_t m = isBlocks ? blocks.blockM : merge.blockM, n = isBlocks ? blocks.blockN : merge.blockN;
    int64_t w = isBlocks ? blocks.numWarps : merge.numWarps;
    if (blockM.getNumOccurrences())
      m = blockM;
    if (blockN.getNumOccurrences())
      n = blockN;
    if (numWarps.getNumOccurrences())
      w = numWarps;
    int64_t s = isBlocks ? blocks.numStages : merge.numStages;
    if (numStages.getNumOccurrences())
      s = numStages;
    built = isBlocks ? mobagen::templates::buildSparseAttentionBlocks(*module, config,
                                                                      {m, n, w, s, keysResident})
                     : mobagen::templates::buildSparseAttentionMerge(*module, config, {m, n, w, s});
  }
  else
    built = mobagen::templates::buildFlashAttentionFwd(
        *module, config, {blockM, blockN, numWarps, numStages});
  if (failed(built) || failed(verify(*module)))
    return 1;
  module->print(llvm::outs());
  return 0;
}
