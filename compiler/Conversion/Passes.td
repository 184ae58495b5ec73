//===- Passes.td - mobagen's conversion passes -------------*- tablegen -*-===//
#ifndef MOBAGEN_COMPILER_CONVERSION_PASSES_TD
#define MOBAGEN_COMPILER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def InstantiateMobaKernels : Pass<"moba-instantiate-kernels", "::mlir::ModuleOp"> {
  let summary = "Add the tile kernels that implement the module's moba ops";
  let description = [{
    For every `moba` op of the module, builds the kernel templates it needs for its
    `#moba.config` (`moba.pool_keys` -> pool_keys, `moba.gate_topk` -> gate_topk,
    `moba.sparse_attention_fwd` -> sparse_attention_fwd, `moba.forward` -> all
    three) with the default tuning, once per distinct configuration, and records on
    the op the kernels' symbols in `moba.kernels`. Kernels of the first
    configuration keep their template names; each further configuration's get a
    `_<n>` suffix. The moba ops stay: they say what the host launches.

    Example: `mobagen-opt --moba-instantiate-kernels model.mlir`.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mobagen::tile::TileDialect"];
}

def ConvertTileToNVVM : Pass<"convert-tile-to-nvvm", "::mlir::ModuleOp"> {
  let summary = "Lower tile-dialect kernels to per-thread scalar code in the NVVM dialect";
  let description = [{
    Every `func.func` of the module is a tile kernel: it becomes an `llvm.func`
    with `nvvm.kernel` and `nvvm.reqntid` inside `gpu.module @kernels`, whose body
    computes, per thread, the elements of each tile that the thread owns. Its
    operations are scalar `arith`, `math`, `scf`, `llvm` and `nvvm` ops, ready for
    the upstream conversions to the LLVM dialect.

    This is the *baseline* lowering: one layout for every tile (element `e` of a
    tile belongs to thread `e mod T`, T = 32 x num-warps), and every operation that
    moves elements between threads (broadcast, reduce, argmax, dot) stages its
    operands through shared memory between two barriers. It is correct for any
    shape, and it is the reference the optimized layouts (registers, warp
    shuffles, ldmatrix + mma.sync) are measured against.

    With `dot=mma`, every qualifying `tile.dot` runs on tensor cores
    (`nvvm.ldmatrix` + `nvvm.mma.sync` m16n8k16, each warp owning 16 x 8 tiles of
    the result), its operands and result converted to and from the round-robin
    layout through padded shared memory (docs/design/mma-layout.md).

    Example: `mobagen-opt --convert-tile-to-nvvm="num-warps=4 dot=mma" kernel.mlir`.
  }];
  let options = [
    Option<"numWarps", "num-warps", "int64_t", /*default=*/"4",
           "Warps per program (CTA): each kernel runs with 32 x num-warps threads">,
    Option<"dot", "dot", "std::string", /*default=*/"\"fma\"",
           "How tile.dot is lowered: `fma` (the baseline K loop of FMAs) or `mma` "
           "(ldmatrix + mma.sync m16n8k16 for bf16/f16 dots with f32 accumulators "
           "whose shapes are multiples of 16 x 8 x 16; any other dot, or one whose "
           "staged operands pass `shared-limit`, is an error naming why)">,
    Option<"sharedLimit", "shared-limit", "int64_t", /*default=*/"::mobagen::compiler::kDefaultSharedLimit",
           "Shared memory (bytes) a kernel may use, dynamic past 48 KB; a kernel with "
           "pipelined loops (`tile.num_stages` >= 2) over it is emitted without them, "
           "any other kernel over it is an error. "
           "The default, 99 KB, is the opt-in limit of every sm_80+ GPU">,
    Option<"swizzle", "swizzle", "bool", /*default=*/"false",
           "Dot operands copied by cp.async get XOR-swizzled rows in shared memory "
           "instead of padded ones (rows of a power-of-two number of 16-byte chunks; "
           "docs/design/mma-layout.md): no padding bytes, more index arithmetic">,
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
  ];
}

#endif // MOBAGEN_COMPILER_CONVERSION_PASSES_TD
