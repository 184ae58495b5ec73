//===- MobaDialect.td - the moba dialect -------------------*- tablegen -*-===//
//
// The top of mobagen's lowering: a MoBA configuration and the computations it
// names (pool keys, gate + top-k, sparse attention), with no notion yet of how
// they map onto a GPU. Exact semantics: DESIGN.md section 1.
//
//===----------------------------------------------------------------------===//

#ifndef MOBAGEN_DIALECT_MOBA_IR_MOBADIALECT_TD
#define MOBAGEN_DIALECT_MOBA_IR_MOBADIALECT_TD

include "mlir/IR/OpBase.td"

def Moba_Dialect : Dialect {
  let name = "moba";
  let cppNamespace = "::mobagen::moba";
  let summary = "Mixture of Block Attention: the configuration and what it computes";
  let description = [{
    The `moba` dialect says *what* a MoBA (Mixture of Block Attention) layer
    computes, independently of how: keys are cut into blocks of `block_size`
    rows, each block is summarised by its mean key, each query row scores the
    blocks with a dot product against those means, keeps its `top_k` best blocks
    (under causality, its own block is always one of them) and attends to the
    keys of the selected blocks only.

    A `#moba.config` attribute carries the configuration; its verifier is where
    an unsupported configuration gets a precise diagnostic. The ops work on
    tensors in FlashAttention's packed "varlen" layout:

    | value | type | meaning |
    |---|---|---|
    | `q` | `tensor<total_q x Hq x D x dtype>` | queries of every sequence, packed |
    | `k`, `v` | `tensor<total_k x Hkv x D x dtype>` | keys and values, packed |
    | `cu_seqlens_q`, `cu_seqlens_k` | `tensor<B+1 x i32>` | sequence `b` owns rows `[cu[b], cu[b+1])` |
    | `pooled_keys` | `tensor<num_blocks x Hkv x D x f32>` | the mean key of every block of every sequence |
    | `selected` | `tensor<total_q x Hq x top_k x i32>` | selected block indices, ascending, `-1` padded |
    | `out` | `tensor<total_q x Hq x D x dtype>` | attention output |
    | `lse` | `tensor<Hq x total_q x f32>` | natural-log sum of `exp(scale * q.k)` over the attended keys |

    Token counts (`total_q`, `total_k`, `num_blocks`) may be dynamic; head
    counts and the head dimension are fixed by the configuration and must be
    static. Why tensors and not memrefs: `docs/dialects/decisions.md`.
  }];
  let useDefaultAttributePrinterParser = 1;
}

#endif // MOBAGEN_DIALECT_MOBA_IR_MOBADIALECT_TD
