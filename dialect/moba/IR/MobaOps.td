//===- MobaOps.td - what a MoBA configuration computes -----*- tablegen -*-===//
//
// Value-semantics ops on tensors in the packed varlen layout (see the dialect
// description). Every op carries the #moba.config it computes under; its
// verifier checks each operand's shape and element type against that config.
//
//===----------------------------------------------------------------------===//

#ifndef MOBAGEN_DIALECT_MOBA_IR_MOBAOPS_TD
#define MOBAGEN_DIALECT_MOBA_IR_MOBAOPS_TD

include "dialect/moba/IR/MobaAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Packed q / k / v / out: [tokens, heads, head_dim] of bf16 or f16.
def Moba_TokenTensor : 3DTensorOf<[BF16, F16]>;
// Pooled keys: [num_blocks, Hkv, head_dim] f32.
def Moba_PooledTensor : 3DTensorOf<[F32]>;
def Moba_SeqLensTensor : 1DTensorOf<[I32]>;
def Moba_SelectedTensor : 3DTensorOf<[I32]>;
def Moba_LseTensor : 2DTensorOf<[F32]>;

class Moba_Op<string mnemonic, list<Trait> traits = []>
    : Op<Moba_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Moba_PoolKeysOp : Moba_Op<"pool_keys"> {
  let summary = "Mean key of every key block of every sequence";
  let description = [{
    Cuts the keys of each sequence `b` (`Lk = cu_seqlens_k[b+1] - cu_seqlens_k[b]`
    rows) into `ceil(Lk / block_size)` blocks and returns, per kv head, the mean
    of the key rows present in each block, accumulated and returned in f32 (the
    last block of a sequence may be partial; it is averaged over its own rows).

    Blocks of all sequences are packed: block `j` of sequence `b` is row
    `sum_{b' < b} ceil(Lk_b' / block_size) + j` of the result, so the result has
    `num_blocks = sum_b ceil(Lk_b / block_size)` rows. When `total_k`, `B` and
    `num_blocks` are static the verifier checks that `num_blocks` lies in
    `[ceil(total_k / block_size), (total_k + B * (block_size - 1)) / block_size]`,
    the range every split of `total_k` keys into `B` sequences allows.

    Example:

    ```mlir
    %kbar = moba.pool_keys %k, %cu_k {config = #cfg}
        : (tensor<?x1x128xbf16>, tensor<3xi32>) -> tensor<?x1x128xf32>
    ```
  }];
  let arguments = (ins Moba_TokenTensor:$k, Moba_SeqLensTensor:$cu_seqlens_k,
                       Moba_ConfigAttr:$config);
  let results = (outs Moba_PooledTensor:$pooled_keys);
}

def Moba_GateTopKOp : Moba_Op<"gate_topk"> {
  let summary = "Block gate scores and top-k block selection per query row and head";
  let description = [{
    For every query row and query head: scores each key block `j` of the row's
    sequence with `s[j] = dot(q, pooled_keys[j])` in f32 (no softmax scale; it
    does not change a ranking) and selects blocks (DESIGN.md section 1.5):

    - causal: the row's current block `floor((Lk - Lq + i) / block_size)` and the
      `top_k - 1` highest-scoring strictly earlier blocks (all of them if fewer
      exist); later blocks never;
    - non-causal: the `top_k` highest-scoring blocks.

    Ties go to the lower block index. The result holds block indices within the
    sequence, ascending, with `-1` in the unused slots at the end (the
    reference's convention, docs/reference.md). Query head `h` reads the pooled
    keys of kv head `h / (num_q_heads / num_kv_heads)`.

    Example:

    ```mlir
    %sel = moba.gate_topk %q, %kbar, %cu_q, %cu_k {config = #cfg}
        : (tensor<?x4x128xbf16>, tensor<?x1x128xf32>, tensor<3xi32>, tensor<3xi32>)
        -> tensor<?x4x3xi32>
    ```
  }];
  let arguments = (ins Moba_TokenTensor:$q, Moba_PooledTensor:$pooled_keys,
                       Moba_SeqLensTensor:$cu_seqlens_q,
                       Moba_SeqLensTensor:$cu_seqlens_k, Moba_ConfigAttr:$config);
  let results = (outs Moba_SelectedTensor:$selected);
}

def Moba_SparseAttentionFwdOp : Moba_Op<"sparse_attention_fwd"> {
  let summary = "Attention of each query row over the keys of its selected blocks";
  let description = [{
    For every query row `i` of sequence `b` (key position `p = Lk - Lq + i`) and
    query head `h`: attends to every key of the blocks in `selected[i, h]`
    (`-1` slots are skipped), except that under causality keys after `p` are
    masked. Returns `out = softmax(scale * q.K^T) V` (f32 accumulation, written
    in the config's dtype) and `lse = log(sum(exp(scale * q.k)))` over the same
    keys, stored head-major as `[num_q_heads, total_q]` (FlashAttention's layout,
    so partial results merge with its kernels).

    Example:

    ```mlir
    %out, %lse = moba.sparse_attention_fwd %q, %k, %v, %sel, %cu_q, %cu_k
        {config = #cfg}
        : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
           tensor<?x4x3xi32>, tensor<3xi32>, tensor<3xi32>)
        -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
    ```
  }];
  let arguments = (ins Moba_TokenTensor:$q, Moba_TokenTensor:$k,
                       Moba_TokenTensor:$v, Moba_SelectedTensor:$selected,
                       Moba_SeqLensTensor:$cu_seqlens_q,
                       Moba_SeqLensTensor:$cu_seqlens_k, Moba_ConfigAttr:$config);
  let results = (outs Moba_TokenTensor:$out, Moba_LseTensor:$lse);
}

def Moba_ForwardOp : Moba_Op<"forward"> {
  let summary = "The whole MoBA forward: pool keys, gate + top-k, sparse attention";
  let description = [{
    The fused MoBA forward of DESIGN.md section 1: equal to `moba.pool_keys`,
    then `moba.gate_topk`, then `moba.sparse_attention_fwd` on the same
    operands, without materialising the pooled keys or the selection. This is
    what a user asks for; the compiler decides how many kernels implement it.

    Example:

    ```mlir
    %out, %lse = moba.forward %q, %k, %v, %cu_q, %cu_k {config = #cfg}
        : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
           tensor<3xi32>, tensor<3xi32>)
        -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
    ```
  }];
  let arguments = (ins Moba_TokenTensor:$q, Moba_TokenTensor:$k,
                       Moba_TokenTensor:$v, Moba_SeqLensTensor:$cu_seqlens_q,
                       Moba_SeqLensTensor:$cu_seqlens_k, Moba_ConfigAttr:$config);
  let results = (outs Moba_TokenTensor:$out, Moba_LseTensor:$lse);
}

#endif // MOBAGEN_DIALECT_MOBA_IR_MOBAOPS_TD
