//===- TileOps.td - the ops of the tile language -----------*- tablegen -*-===//

#ifndef MOBAGEN_DIALECT_TILE_IR_TILEOPS_TD
#define MOBAGEN_DIALECT_TILE_IR_TILEOPS_TD

include "dialect/tile/IR/TileTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// The launch grid
//===----------------------------------------------------------------------===//

def Tile_ProgramIdOp : Tile_Op<"program_id", [Pure]> {
  let summary = "Index of the running program along one grid axis";
  let description = [{
    The program's coordinate along grid axis `x`, `y` or `z`
    (`blockIdx` in CUDA), in `[0, tile.num_programs)`.

    Example: `%m_block = tile.program_id x`
  }];
  let arguments = (ins EnumProp<Tile_ProgramAxis>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict";
}

def Tile_NumProgramsOp : Tile_Op<"num_programs", [Pure]> {
  let summary = "Number of programs along one grid axis";
  let description = [{
    The grid's extent along axis `x`, `y` or `z` (`gridDim` in CUDA).

    Example: `%num_heads = tile.num_programs y`
  }];
  let arguments = (ins EnumProp<Tile_ProgramAxis>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict";
}

//===----------------------------------------------------------------------===//
// Building tiles and changing their shape
//===----------------------------------------------------------------------===//

def Tile_MakeRangeOp : Tile_Op<"make_range", [Pure]> {
  let summary = "The 1-D tile start, start + 1, ..., end - 1";
  let description = [{
    An `i32` tile of `end - start` consecutive integers (an iota). The length
    must be a power of two, like every tile extent the lowering splits across
    the 32 lanes of a warp and the warps of a program.

    Example: `%offs = tile.make_range 0 to 64 : tensor<64xi32>`
  }];
  let arguments = (ins I32Attr:$start, I32Attr:$end);
  let results = (outs RankedTensorOf<[I32], [HasStaticShapePred]>:$result);
  let assemblyFormat = "$start `to` $end attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_SplatOp : Tile_Op<"splat", [Pure]> {
  let summary = "A tile with every element equal to one scalar";
  let description = [{
    Example: `%zeros = tile.splat %zero : f32 -> tensor<64x128xf32>`
  }];
  let arguments = (ins Tile_ElementType:$src);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_BroadcastOp : Tile_Op<"broadcast", [Pure]> {
  let summary = "Repeat a tile along its size-1 dimensions";
  let description = [{
    The result has the operand's rank and element type; each dimension equals
    the operand's, or the operand's is 1 and is repeated. Together with
    `tile.expand_dims` this is NumPy broadcasting, spelled out.

    Example:

    ```mlir
    %rows = tile.broadcast %col : tensor<64x1xi32> -> tensor<64x128xi32>
    ```
  }];
  let arguments = (ins Tile_Tensor:$src);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_ExpandDimsOp : Tile_Op<"expand_dims", [Pure]> {
  let summary = "Insert a size-1 dimension at `axis`";
  let description = [{
    `x[:, None]` in NumPy is `tile.expand_dims %x, 1`.

    Example:

    ```mlir
    %col = tile.expand_dims %offs, 1 : tensor<64xi32> -> tensor<64x1xi32>
    ```
  }];
  let arguments = (ins Tile_Tensor:$src, I32Attr:$axis);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src `,` $axis attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_ReshapeOp : Tile_Op<"reshape", [Pure]> {
  let summary = "Reinterpret a tile with another shape of as many elements";
  let description = [{
    Row-major: element order is kept. The element type is unchanged.

    Example:

    ```mlir
    %flat = tile.reshape %t : tensor<16x8xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins Tile_Tensor:$src);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def Tile_AddPtrOp : Tile_Op<"addptr", [Pure,
    AllTypesMatch<["ptr", "result"]>]> {
  let summary = "Advance pointers by element offsets";
  let description = [{
    `result[i] = ptr[i] + offset[i]`, counted in elements of the pointee type.
    `ptr` and `offset` are both scalars or both tiles of one shape; offsets
    are signed integers of any width.

    Example:

    ```mlir
    %ptrs = tile.addptr %base, %offs
        : tensor<64x128x!tile.ptr<bf16>>, tensor<64x128xi32>
    ```
  }];
  let arguments = (ins Tile_PtrLike:$ptr, Tile_IntLike:$offset);
  let results = (outs Tile_PtrLike:$result);
  let assemblyFormat = "$ptr `,` $offset attr-dict `:` type($ptr) `,` type($offset)";
  let hasVerifier = 1;
}

def Tile_LoadOp : Tile_Op<"load", [AttrSizedOperandSegments,
    MemoryEffects<[MemRead]>]> {
  let summary = "Load a scalar or a tile through pointers, optionally masked";
  let description = [{
    Reads `*ptr[i]` for every position `i`. Where `mask[i]` is false nothing is
    read (the pointer may be out of bounds) and the result is `other[i]`, or
    undefined when `other` is absent. `mask` has the pointers' shape and `i1`
    elements; `other` has the result's type and needs a `mask`.

    Example:

    ```mlir
    %q = tile.load %q_ptrs, mask %rows_ok, other %zeros
        : (tensor<64x128x!tile.ptr<bf16>>, tensor<64x128xi1>, tensor<64x128xbf16>)
        -> tensor<64x128xbf16>
    %seq_start = tile.load %cu_ptr : (!tile.ptr<i32>) -> i32
    ```
  }];
  let arguments = (ins Tile_PtrLike:$ptr, Optional<Tile_BoolLike>:$mask,
                       Optional<Tile_Value>:$other);
  let results = (outs Tile_Value:$result);
  let assemblyFormat = [{
    $ptr (`,` `mask` $mask^)? (`,` `other` $other^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tile_StoreOp : Tile_Op<"store", [MemoryEffects<[MemWrite]>]> {
  let summary = "Store a scalar or a tile through pointers, optionally masked";
  let description = [{
    Writes `value[i]` to `*ptr[i]` where `mask[i]` is true (everywhere without
    a mask). `value` has the pointers' shape and their pointee type.

    Example:

    ```mlir
    tile.store %out_ptrs, %out, mask %rows_ok
        : tensor<64x128x!tile.ptr<bf16>>, tensor<64x128xbf16>, tensor<64x128xi1>
    ```
  }];
  let arguments = (ins Tile_PtrLike:$ptr, Tile_Value:$value,
                       Optional<Tile_BoolLike>:$mask);
  let assemblyFormat = [{
    $ptr `,` $value (`,` `mask` $mask^)? attr-dict `:` type($ptr) `,` type($value)
    (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Tile_AtomicAddOp : Tile_Op<"atomic_add",
    [MemoryEffects<[MemRead, MemWrite]>, AllTypesMatch<["value", "result"]>]> {
  let summary = "Atomically add to memory through pointers; returns the old values";
  let description = [{
    For every position `i` where `mask[i]` is true (everywhere without a mask),
    atomically replaces `*ptr[i]` by `*ptr[i] + value[i]` and yields the value
    it held before; where `mask[i]` is false nothing is accessed and the result
    is 0. Positions that name the same address are applied one after another
    in an unspecified order, so their old values are distinct partial sums:
    an `i32` add of 1 hands out distinct slots, which is how a routing kernel
    scatters entries into per-block lists without a scan. The add is relaxed
    (PTX `atom`, relaxed at gpu scope): it orders nothing else. `value` has the
    pointers' shape and their pointee type, `i32` or `f32`.

    Example:

    ```mlir
    %slot = tile.atomic_add %count_ptrs, %ones, mask %picked
        : tensor<64x8x!tile.ptr<i32>>, tensor<64x8xi32>, tensor<64x8xi1>
    ```
  }];
  let arguments = (ins Tile_PtrLike:$ptr, Tile_Value:$value,
                       Optional<Tile_BoolLike>:$mask);
  let results = (outs Tile_Value:$result);
  let assemblyFormat = [{
    $ptr `,` $value (`,` `mask` $mask^)? attr-dict `:` type($ptr) `,` type($value)
    (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Tile_BarrierOp : Tile_Op<"barrier", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Wait for every thread of the program; order its memory accesses";
  let description = [{
    Every thread of the program waits here until all of them have arrived,
    and every global or shared memory access a thread made before it is
    visible to every thread of the program after it (PTX `bar.sync 0`, which
    orders memory among the threads of a CTA). It orders nothing between
    programs. A program stores a tile that its other threads read back (a
    table computed once and gathered from) with a barrier between the store
    and the loads; the program's control flow must reach it uniformly.

    Example:

    ```mlir
    tile.store %offset_ptrs, %offsets : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
    tile.barrier
    %mine = tile.load %my_offset_ptrs : tensor<64x8x!tile.ptr<i32>>
    ```
  }];
  let assemblyFormat = "attr-dict";
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_DotOp : Tile_Op<"dot", [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "Matrix multiply-accumulate of two tiles: acc + a * b";
  let description = [{
    `a` is `[M, K]`, `b` is `[K, N]`, `acc` and the result `[M, N]`; M, N and K
    are at least 16 (the smallest tensor-core tile). Supported element types:

    | a, b | acc |
    |---|---|
    | f16 | f32 or f16 |
    | bf16 | f32 |
    | f32 | f32 |
    | i8 | i32 |

    `input_precision` applies to f32 operands only: `tf32` (the default on
    tensor cores) rounds them to TF32, `tf32x3` recovers near-f32 accuracy with
    three TF32 products, `ieee` computes in f32 without tensor cores.

    Example:

    ```mlir
    %s = tile.dot %q, %kt, %zeros
        : tensor<64x128xbf16> * tensor<128x64xbf16> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Tile_MatrixTile:$a, Tile_MatrixTile:$b,
                       Tile_MatrixTile:$acc,
                       OptionalProp<EnumProp<Tile_InputPrecision>>:$input_precision);
  let results = (outs Tile_MatrixTile:$result);
  let assemblyFormat = [{
    $a `,` $b `,` $acc (`precision` `=` $input_precision^)? attr-dict `:`
    type($a) `*` type($b) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_ReduceOp : Tile_Op<"reduce", [Pure]> {
  let summary = "Sum, max or min of a tile along one axis";
  let description = [{
    Combines the elements along `axis` with `kind` (`sum`, `max` or `min`);
    the result drops that dimension, and is a scalar when the operand is 1-D.
    Floating-point `max` / `min` follow `arith.maximumf` / `arith.minimumf`
    (NaN propagates); the order of a floating-point `sum` is unspecified.

    Example:

    ```mlir
    %row_max = tile.reduce max %s, 1 : tensor<64x64xf32> -> tensor<64xf32>
    ```
  }];
  let arguments = (ins EnumProp<Tile_ReduceKind>:$kind, Tile_NumericTensor:$src,
                       I32Attr:$axis);
  let results = (outs Tile_NumericValue:$result);
  let assemblyFormat = [{
    $kind $src `,` $axis attr-dict `:` type($src) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_ArgMaxOp : Tile_Op<"argmax", [Pure]> {
  let summary = "Largest element along one axis and its index, ties to the lowest";
  let description = [{
    Returns the maximum along `axis` and its `i32` index; the results drop that
    dimension (scalars for a 1-D operand). Among equal maxima the lowest index
    wins, which is the tie rule of MoBA's block selection: top-k is `k` rounds
    of `tile.argmax`, each followed by an `arith.select` that sets the winner
    to `-inf`.

    Example:

    ```mlir
    %best, %block = tile.argmax %scores, 1
        : tensor<64x32xf32> -> tensor<64xf32>, tensor<64xi32>
    ```
  }];
  let arguments = (ins Tile_NumericTensor:$src, I32Attr:$axis);
  let results = (outs Tile_NumericValue:$value, Tile_IntLike:$index);
  let assemblyFormat = [{
    $src `,` $axis attr-dict `:` type($src) `->` type($value) `,` type($index)
  }];
  let hasVerifier = 1;
}

#endif // MOBAGEN_DIALECT_TILE_IR_TILEOPS_TD
