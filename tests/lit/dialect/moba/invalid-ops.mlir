// Every rule of the moba ops' verifiers, one case each: operands against the
// config (dtype, heads, head_dim, top_k) and against each other (token counts,
// batch size, block counts). Each diagnostic names the operand, the dimension,
// both values and where the expected one comes from.
// RUN: mobagen-opt -split-input-file -verify-diagnostics %s

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @q_dtype(%q: tensor<?x4x128xf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{'moba.forward' op q has element type 'f16', but the config has dtype = 'bf16'}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @q_heads(%q: tensor<?x8x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 1 (query heads) is 8, but the config has num_q_heads = 4}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x8x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @q_head_dim_dynamic(%q: tensor<?x4x?xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 2 (head_dim) is ?, but the config has head_dim = 128}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x?xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @k_heads(%q: tensor<?x4x128xbf16>, %k: tensor<?x2x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{k dim 1 (kv heads) is 2, but the config has num_kv_heads = 1}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @v_head_dim(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %v: tensor<?x1x64xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{v dim 2 (head_dim) is 64, but the config has head_dim = 128}}
  %out, %lse = moba.forward %q, %k, %v, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x64xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @k_v_total_k(%q: tensor<?x4x128xbf16>, %k: tensor<100x1x128xbf16>, %v: tensor<99x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{k dim 0 (total_k) is 100, but v dim 0 is 99}}
  %out, %lse = moba.forward %q, %k, %v, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<100x1x128xbf16>, tensor<99x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @cu_seqlens_sizes(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu_q: tensor<3xi32>, %cu_k: tensor<4xi32>) {
  // expected-error @+1 {{cu_seqlens_q dim 0 (B + 1) is 3, but cu_seqlens_k dim 0 is 4}}
  %out, %lse = moba.forward %q, %k, %k, %cu_q, %cu_k {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<4xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @cu_seqlens_empty(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{cu_seqlens_q has 0 elements, but it holds B + 1 >= 1 offsets}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<0xi32>, tensor<0xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @cu_seqlens_i64(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi64>) {
  // expected-error @+1 {{operand #3 must be 1D tensor of 32-bit signless integer values}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi64>, tensor<3xi64>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @out_total_q(%q: tensor<7x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 0 (total_q) is 7, but out dim 0 is 8}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<7x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<8x4x128xbf16>, tensor<4x7xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @lse_heads(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{lse dim 0 (query heads) is 7, but the config has num_q_heads = 4}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<7x4xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @lse_total_q(%q: tensor<7x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 0 (total_q) is 7, but lse dim 1 is 4}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<7x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<7x4x128xbf16>, tensor<4x4xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @lse_f16(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{result #1 must be 2D tensor of 32-bit float values}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf16>)
  return
}

// -----

func.func @missing_config(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{requires attribute 'config'}}
  %out, %lse = moba.forward %q, %k, %k, %cu, %cu
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @pool_keys_kv_heads(%k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{pooled_keys dim 1 (kv heads) is 4, but the config has num_kv_heads = 1}}
  %0 = moba.pool_keys %k, %cu {config = #cfg}
      : (tensor<?x1x128xbf16>, tensor<3xi32>) -> tensor<?x4x128xf32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @pool_keys_too_few_blocks(%k: tensor<1100x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{pooled_keys dim 0 (blocks) is 2, but 1100 keys in 2 sequences make between 3 and 4 blocks at block_size = 512}}
  %0 = moba.pool_keys %k, %cu {config = #cfg}
      : (tensor<1100x1x128xbf16>, tensor<3xi32>) -> tensor<2x1x128xf32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @pool_keys_too_many_blocks(%k: tensor<1100x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{pooled_keys dim 0 (blocks) is 5, but 1100 keys in 2 sequences make between 3 and 4 blocks at block_size = 512}}
  %0 = moba.pool_keys %k, %cu {config = #cfg}
      : (tensor<1100x1x128xbf16>, tensor<3xi32>) -> tensor<5x1x128xf32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @pool_keys_f16_result(%k: tensor<?x1x128xbf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{result #0 must be 3D tensor of 32-bit float values}}
  %0 = moba.pool_keys %k, %cu {config = #cfg}
      : (tensor<?x1x128xbf16>, tensor<3xi32>) -> tensor<?x1x128xf16>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @gate_topk_slots(%q: tensor<?x4x128xbf16>, %kbar: tensor<?x1x128xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{selected dim 2 (slots) is 4, but the config has top_k = 3}}
  %sel = moba.gate_topk %q, %kbar, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<?x4x4xi32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @gate_topk_heads(%q: tensor<?x4x128xbf16>, %kbar: tensor<?x1x128xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{selected dim 1 (query heads) is 1, but the config has num_q_heads = 4}}
  %sel = moba.gate_topk %q, %kbar, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<?x1x3xi32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @gate_topk_total_q(%q: tensor<5x4x128xbf16>, %kbar: tensor<?x1x128xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 0 (total_q) is 5, but selected dim 0 is 6}}
  %sel = moba.gate_topk %q, %kbar, %cu, %cu {config = #cfg}
      : (tensor<5x4x128xbf16>, tensor<?x1x128xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<6x4x3xi32>
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @sparse_selected_total_q(%q: tensor<5x4x128xbf16>, %k: tensor<?x1x128xbf16>, %sel: tensor<4x4x3xi32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{q dim 0 (total_q) is 5, but selected dim 0 is 4}}
  %out, %lse = moba.sparse_attention_fwd %q, %k, %k, %sel, %cu, %cu {config = #cfg}
      : (tensor<5x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<4x4x3xi32>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<5x4x128xbf16>, tensor<4x5xf32>)
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
func.func @sparse_out_dtype(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>, %sel: tensor<?x4x3xi32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{out has element type 'f16', but the config has dtype = 'bf16'}}
  %out, %lse = moba.sparse_attention_fwd %q, %k, %k, %sel, %cu, %cu {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<?x4x3xi32>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x128xf16>, tensor<4x?xf32>)
  return
}
