// Every moba op and the config attribute print, parse back and print the same:
// the second mobagen-opt reads the first one's output.
// RUN: mobagen-opt -split-input-file %s | mobagen-opt -split-input-file | FileCheck %s
// The generic form (properties and all) parses back to the same ops too.
// RUN: mobagen-opt -split-input-file --mlir-print-op-generic %s | mobagen-opt -split-input-file | FileCheck %s

// The config prints once as an alias, fields in declaration order; `scale` is
// omitted when not given and printed so that it parses back to the same double.
// CHECK: #config = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
// CHECK-LABEL: func.func @config_any_field_order
// CHECK-SAME: moba.config = #config
func.func @config_any_field_order() attributes {moba.config = #moba.config<target = "sm_90a",
    dtype = bf16, causal = true, num_kv_heads = 1, num_q_heads = 4, head_dim = 128,
    top_k = 3, block_size = 512>} {
  return
}

// -----

// CHECK: #config = #moba.config<block_size = 16, top_k = 64, head_dim = 64, num_q_heads = 8, num_kv_heads = 2, causal = false, dtype = f16, target = sm_80, scale = 1.250000e-01>
// CHECK-LABEL: func.func @config_limits_and_scale
func.func @config_limits_and_scale() attributes {moba.config = #moba.config<block_size = 16,
    top_k = 64, head_dim = 64, num_q_heads = 8, num_kv_heads = 2, causal = false,
    dtype = f16, target = sm_80, scale = 0.125>} {
  return
}

// -----

// CHECK: #moba.config<block_size = 4096, {{.*}}target = sm_90, scale = 0.088388347648318433>
// CHECK-LABEL: func.func @config_inexact_scale
func.func @config_inexact_scale() attributes {moba.config = #moba.config<block_size = 4096,
    top_k = 1, head_dim = 128, num_q_heads = 1, num_kv_heads = 1, causal = true,
    dtype = bf16, target = sm_90, scale = 0.088388347648318433>} {
  return
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>

// CHECK-LABEL: func.func @pool_keys
// CHECK: moba.pool_keys %{{.*}}, %{{.*}} {config = #config} : (tensor<?x1x128xbf16>, tensor<3xi32>) -> tensor<?x1x128xf32>
// CHECK: moba.pool_keys %{{.*}}, %{{.*}} {config = #config} : (tensor<1000x1x128xbf16>, tensor<3xi32>) -> tensor<3x1x128xf32>
func.func @pool_keys(%k: tensor<?x1x128xbf16>, %ks: tensor<1000x1x128xbf16>,
                     %cu_k: tensor<3xi32>) {
  %0 = moba.pool_keys %k, %cu_k {config = #cfg}
      : (tensor<?x1x128xbf16>, tensor<3xi32>) -> tensor<?x1x128xf32>
  // 1000 keys in 2 sequences make 2 blocks (one sequence) up to 3 blocks.
  %1 = moba.pool_keys %ks, %cu_k {config = #cfg}
      : (tensor<1000x1x128xbf16>, tensor<3xi32>) -> tensor<3x1x128xf32>
  return
}

// -----

#cfg = #moba.config<block_size = 64, top_k = 8, head_dim = 64, num_q_heads = 8,
                    num_kv_heads = 2, causal = false, dtype = f16, target = sm_80>

// CHECK-LABEL: func.func @gate_topk
// CHECK: %[[SEL:.*]] = moba.gate_topk %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {config = #config} : (tensor<?x8x64xf16>, tensor<?x2x64xf32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x8x8xi32>
// CHECK: return %[[SEL]]
func.func @gate_topk(%q: tensor<?x8x64xf16>, %kbar: tensor<?x2x64xf32>,
                     %cu_q: tensor<?xi32>, %cu_k: tensor<?xi32>) -> tensor<?x8x8xi32> {
  %sel = moba.gate_topk %q, %kbar, %cu_q, %cu_k {config = #cfg}
      : (tensor<?x8x64xf16>, tensor<?x2x64xf32>, tensor<?xi32>, tensor<?xi32>)
      -> tensor<?x8x8xi32>
  return %sel : tensor<?x8x8xi32>
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>

// CHECK-LABEL: func.func @sparse_attention_fwd
// CHECK: %[[OUT:.*]], %[[LSE:.*]] = moba.sparse_attention_fwd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {config = #config} : (tensor<10x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<10x4x3xi32>, tensor<2xi32>, tensor<2xi32>) -> (tensor<10x4x128xbf16>, tensor<4x10xf32>)
// CHECK: return %[[OUT]], %[[LSE]]
func.func @sparse_attention_fwd(%q: tensor<10x4x128xbf16>, %k: tensor<?x1x128xbf16>,
    %v: tensor<?x1x128xbf16>, %sel: tensor<10x4x3xi32>, %cu_q: tensor<2xi32>,
    %cu_k: tensor<2xi32>) -> (tensor<10x4x128xbf16>, tensor<4x10xf32>) {
  %out, %lse = moba.sparse_attention_fwd %q, %k, %v, %sel, %cu_q, %cu_k {config = #cfg}
      : (tensor<10x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
         tensor<10x4x3xi32>, tensor<2xi32>, tensor<2xi32>)
      -> (tensor<10x4x128xbf16>, tensor<4x10xf32>)
  return %out, %lse : tensor<10x4x128xbf16>, tensor<4x10xf32>
}

// -----

#cfg = #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                    num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a,
                    scale = 0.5>

// CHECK-LABEL: func.func @forward
// CHECK: %[[OUT:.*]], %[[LSE:.*]] = moba.forward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {config = #config} : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<3xi32>, tensor<3xi32>) -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
// CHECK: return %[[OUT]], %[[LSE]]
func.func @forward(%q: tensor<?x4x128xbf16>, %k: tensor<?x1x128xbf16>,
    %v: tensor<?x1x128xbf16>, %cu_q: tensor<3xi32>, %cu_k: tensor<3xi32>)
    -> (tensor<?x4x128xbf16>, tensor<4x?xf32>) {
  %out, %lse = moba.forward %q, %k, %v, %cu_q, %cu_k {config = #cfg}
      : (tensor<?x4x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
         tensor<3xi32>, tensor<3xi32>) -> (tensor<?x4x128xbf16>, tensor<4x?xf32>)
  return %out, %lse : tensor<?x4x128xbf16>, tensor<4x?xf32>
}
