// Every rule of #moba.config and of the moba ops' verifiers, one case each; each
// diagnostic names the field or operand, the value and the rule.
// RUN: mobagen-opt -split-input-file -verify-diagnostics %s
// expected-error @+1 {{block_size = 8 is invalid: must be a multiple of 16 in [16, 4096]}}
func.func @bad_block_size() attributes {c = #moba.config<block_size = 8, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{block_size = 100 is invalid: must be a multiple of 16 in [16, 4096]}}
func.func @bad_block_size() attributes {c = #moba.config<block_size = 100, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{block_size = 8192 is invalid: must be a multiple of 16 in [16, 4096]}}
func.func @bad_block_size() attributes {c = #moba.config<block_size = 8192, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{top_k = 0 is invalid: must be >= 1}}
func.func @bad_top_k() attributes {c = #moba.config<block_size = 512, top_k = 0, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{top_k = 65 is not supported: must be <= 64}}
func.func @bad_top_k() attributes {c = #moba.config<block_size = 512, top_k = 65, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{head_dim = 96 is not supported: must be 64 or 128}}
func.func @bad_head_dim() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 96, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{num_q_heads = 0 is invalid: must be >= 1}}
func.func @bad_num_q_heads() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 0, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{num_kv_heads = 0 is invalid: must be >= 1}}
func.func @bad_num_kv_heads() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 0, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{num_q_heads = 4 is invalid: must be a multiple of num_kv_heads = 3 (grouped-query attention)}}
func.func @bad_num_kv_heads() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 3, causal = true, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{dtype = f32 is not supported: must be bf16 or f16}}
func.func @bad_dtype() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = f32, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{target = sm_75 is not supported: must be one of sm_80, sm_90, sm_90a}}
func.func @bad_target() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_75>} {
  return
}

// -----

// expected-error @+1 {{scale = 0 is invalid: must be finite and > 0}}
func.func @bad_scale() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a, scale = 0.0>} {
  return
}

// -----

// expected-error @+1 {{scale = -0.5 is invalid: must be finite and > 0}}
func.func @bad_scale() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a, scale = -0.5>} {
  return
}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse Moba_ConfigAttr parameter 'causal'}}
func.func @bad_causal() attributes {c = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = 1, dtype = bf16, target = sm_90a>} {
  return
}

// -----

// expected-error @+1 {{struct is missing required parameter: top_k}}
func.func @missing_top_k() attributes {c = #moba.config<block_size = 512, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>} {
  return
}
