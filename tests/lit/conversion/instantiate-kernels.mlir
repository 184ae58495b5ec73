// moba-instantiate-kernels: each moba op gets the tile kernels that implement it,
// built once per configuration and named in `moba.kernels`; a second configuration's
// kernels take a suffix. The kernels then lower to PTX.
// RUN: mobagen-opt %s --moba-instantiate-kernels | FileCheck %s
// RUN: mobagen-opt %s --moba-instantiate-kernels | FileCheck %s --check-prefix=COUNT
// RUN: mobagen-opt %s --moba-instantiate-kernels --symbol-dce | FileCheck %s --check-prefix=KERNELS

#a = #moba.config<block_size = 64, top_k = 3, head_dim = 64, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_80>
#b = #moba.config<block_size = 128, top_k = 2, head_dim = 128, num_q_heads = 2, num_kv_heads = 2, causal = false, dtype = f16, target = sm_90>

// CHECK-LABEL: func.func @model
// CHECK: moba.forward {{.*}}moba.kernels = [@pool_keys, @gate_topk, @route_scatter, @sparse_attention_blocks, @sparse_attention_merge]
// CHECK: moba.pool_keys {{.*}}moba.kernels = [@pool_keys]
// CHECK: moba.gate_topk {{.*}}moba.kernels = [@gate_topk_1]
func.func @model(%q: tensor<?x4x64xbf16>, %k: tensor<?x1x64xbf16>, %v: tensor<?x1x64xbf16>,
                 %cu: tensor<3xi32>, %q2: tensor<?x2x128xf16>, %kbar2: tensor<?x2x128xf32>)
    -> (tensor<?x4x64xbf16>, tensor<4x?xf32>, tensor<?x1x64xf32>, tensor<?x2x2xi32>) {
  %out, %lse = moba.forward %q, %k, %v, %cu, %cu {config = #a}
      : (tensor<?x4x64xbf16>, tensor<?x1x64xbf16>, tensor<?x1x64xbf16>, tensor<3xi32>, tensor<3xi32>)
      -> (tensor<?x4x64xbf16>, tensor<4x?xf32>)
  // Same configuration: the kernel built for moba.forward is reused.
  %kbar = moba.pool_keys %k, %cu {config = #a} : (tensor<?x1x64xbf16>, tensor<3xi32>) -> tensor<?x1x64xf32>
  // Another configuration: its own kernel, suffixed.
  %sel = moba.gate_topk %q2, %kbar2, %cu, %cu {config = #b}
      : (tensor<?x2x128xf16>, tensor<?x2x128xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<?x2x2xi32>
  return %out, %lse, %kbar, %sel : tensor<?x4x64xbf16>, tensor<4x?xf32>, tensor<?x1x64xf32>, tensor<?x2x2xi32>
}

// Each kernel once: the five of a forward for #a, gate_topk_1 for #b.
// COUNT-COUNT-6: func.func @{{pool_keys|gate_topk|route_scatter|sparse_attention_blocks|sparse_attention_merge|gate_topk_1}}(
// COUNT-NOT: func.func @{{pool_keys|gate_topk|route_scatter|sparse_attention_blocks|sparse_attention_merge}}(

// KERNELS: func.func @pool_keys(%{{.*}}: !tile.ptr<bf16>, %{{.*}}: !tile.ptr<f32>, %{{.*}}: !tile.ptr<i32>) attributes {moba.config = #config, tile.num_warps = 2 : i32}
// KERNELS: func.func @gate_topk(
// KERNELS: func.func @route_scatter(
// KERNELS: func.func @sparse_attention_blocks(
// KERNELS-SAME: tile.num_warps = 4 : i32
// KERNELS: func.func @sparse_attention_merge(
// KERNELS-SAME: tile.num_warps = 8 : i32
// KERNELS: func.func @gate_topk_1(%{{.*}}: !tile.ptr<f16>
