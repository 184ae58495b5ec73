//===- TileDialect.td - the tile dialect -------------------*- tablegen -*-===//
//
// A Triton-style block-level language: a kernel is a function run once per
// program (a CUDA thread block) and operates on whole tiles; the compiler, not
// the author, decides threads, layouts, shared memory and tensor-core use.
//
//===----------------------------------------------------------------------===//

#ifndef MOBAGEN_DIALECT_TILE_IR_TILEDIALECT_TD
#define MOBAGEN_DIALECT_TILE_IR_TILEDIALECT_TD

include "mlir/IR/OpBase.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::mobagen::tile";
  let summary = "A block-level language of tiles for GPU kernels (Triton-style)";
  let description = [{
    Kernels in the `tile` dialect are `func.func`s whose body runs once per
    *program*, an instance of a grid of up to three dimensions (a CUDA thread
    block). Values are scalars or *tiles*: statically shaped `tensor`s of
    integers, floats or `!tile.ptr` pointers. A tile of pointers addresses one
    element per position, so a masked `tile.load` of a pointer tile reads a
    whole, arbitrarily strided or gathered block of memory at once.

    The dialect holds only what upstream dialects lack:

    - grid queries: `tile.program_id`, `tile.num_programs`;
    - tile construction and shape changes: `tile.make_range`, `tile.splat`,
      `tile.broadcast`, `tile.expand_dims`, `tile.reshape`;
    - memory: `tile.addptr`, `tile.load` (masked, with `other`), `tile.store`,
      `tile.atomic_add` (returns the old values), `tile.barrier`;
    - compute: `tile.dot` (matrix multiply-accumulate), `tile.reduce` (sum, max,
      min over one axis), `tile.argmax` (the building block of top-k selection).

    Elementwise math uses `arith` and `math` ops on tiles (`arith.addf`,
    `math.exp2`, ...), selection uses `arith.select` with an `i1` tile, and
    loops are `scf.for` with tiles as loop-carried values. Operands of an
    elementwise op must have equal shapes: broadcasting is explicit
    (`tile.expand_dims` then `tile.broadcast`), so every shape is visible in
    the IR. Why pointer tiles rather than block pointers:
    `docs/dialects/decisions.md`.

    Tuning knobs the lowering reads are attributes of the ops they tune:
    `tile.num_warps` (a power of two in [1, 16]) on the kernel's `func.func`,
    `tile.num_stages` (in [1, 8], software-pipelining depth) on an `scf.for`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"
  ];
  let useDefaultTypePrinterParser = 1;
  // Tuning knobs travel as discardable attributes: `tile.num_warps` on the
  // kernel's func.func, `tile.num_stages` on a pipelined scf.for.
  let hasOperationAttrVerify = 1;
}

#endif // MOBAGEN_DIALECT_TILE_IR_TILEDIALECT_TD
