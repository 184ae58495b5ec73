// Every tile op and type prints, parses back and prints the same: the second
// mobagen-opt reads the first one's output.
// RUN: mobagen-opt -split-input-file %s | mobagen-opt -split-input-file | FileCheck %s
// The generic form (properties and all) parses back to the same ops too.
// RUN: mobagen-opt -split-input-file --mlir-print-op-generic %s | mobagen-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @pointer_types
// CHECK-SAME: !tile.ptr<bf16>, %{{.*}}: !tile.ptr<f32, 3>, %{{.*}}: tensor<4x8x!tile.ptr<i32>>
func.func @pointer_types(%a: !tile.ptr<bf16, 1>, %b: !tile.ptr<f32, 3>,
                         %c: tensor<4x8x!tile.ptr<i32>>) {
  return
}

// -----

// CHECK-LABEL: func.func @grid
// CHECK: tile.program_id x
// CHECK: tile.program_id y
// CHECK: tile.program_id z
// CHECK: tile.num_programs x
// CHECK: tile.num_programs z
func.func @grid() -> (i32, i32, i32, i32, i32) {
  %0 = tile.program_id x
  %1 = tile.program_id y
  %2 = tile.program_id z
  %3 = tile.num_programs x
  %4 = tile.num_programs z
  return %0, %1, %2, %3, %4 : i32, i32, i32, i32, i32
}

// -----

// CHECK-LABEL: func.func @shapes
// CHECK: %[[R:.*]] = tile.make_range 16 to 80 : tensor<64xi32>
// CHECK: %[[C:.*]] = tile.expand_dims %[[R]], 1 : tensor<64xi32> -> tensor<64x1xi32>
// CHECK: %[[B:.*]] = tile.broadcast %[[C]] : tensor<64x1xi32> -> tensor<64x32xi32>
// CHECK: tile.reshape %[[B]] : tensor<64x32xi32> -> tensor<2048xi32>
// CHECK: tile.splat %{{.*}} : f32 -> tensor<64x32xf32>
func.func @shapes(%x: f32) {
  %r = tile.make_range 16 to 80 : tensor<64xi32>
  %c = tile.expand_dims %r, 1 : tensor<64xi32> -> tensor<64x1xi32>
  %b = tile.broadcast %c : tensor<64x1xi32> -> tensor<64x32xi32>
  %f = tile.reshape %b : tensor<64x32xi32> -> tensor<2048xi32>
  %s = tile.splat %x : f32 -> tensor<64x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @memory
// CHECK: %[[P:.*]] = tile.addptr %{{.*}}, %{{.*}} : tensor<64x!tile.ptr<f16>>, tensor<64xi32>
// CHECK: tile.load %[[P]] : (tensor<64x!tile.ptr<f16>>) -> tensor<64xf16>
// CHECK: tile.load %[[P]], mask %{{.*}} : (tensor<64x!tile.ptr<f16>>, tensor<64xi1>) -> tensor<64xf16>
// CHECK: %[[V:.*]] = tile.load %[[P]], mask %{{.*}}, other %{{.*}} : (tensor<64x!tile.ptr<f16>>, tensor<64xi1>, tensor<64xf16>) -> tensor<64xf16>
// CHECK: tile.store %[[P]], %[[V]] : tensor<64x!tile.ptr<f16>>, tensor<64xf16>
// CHECK: tile.store %[[P]], %[[V]], mask %{{.*}} : tensor<64x!tile.ptr<f16>>, tensor<64xf16>, tensor<64xi1>
// CHECK: %[[S:.*]] = tile.addptr %{{.*}}, %{{.*}} : !tile.ptr<i32>, i64
// CHECK: tile.load %[[S]] : (!tile.ptr<i32>) -> i32
func.func @memory(%base: !tile.ptr<f16>, %cu: !tile.ptr<i32>, %n: i32, %b: i64) {
  %ptrs0 = tile.splat %base : !tile.ptr<f16> -> tensor<64x!tile.ptr<f16>>
  %offs = tile.make_range 0 to 64 : tensor<64xi32>
  %ptrs = tile.addptr %ptrs0, %offs : tensor<64x!tile.ptr<f16>>, tensor<64xi32>
  %bound = tile.splat %n : i32 -> tensor<64xi32>
  %in = arith.cmpi slt, %offs, %bound : tensor<64xi32>
  %zero = arith.constant dense<0.0> : tensor<64xf16>
  %a = tile.load %ptrs : (tensor<64x!tile.ptr<f16>>) -> tensor<64xf16>
  %m = tile.load %ptrs, mask %in : (tensor<64x!tile.ptr<f16>>, tensor<64xi1>) -> tensor<64xf16>
  %v = tile.load %ptrs, mask %in, other %zero
      : (tensor<64x!tile.ptr<f16>>, tensor<64xi1>, tensor<64xf16>) -> tensor<64xf16>
  tile.store %ptrs, %v : tensor<64x!tile.ptr<f16>>, tensor<64xf16>
  tile.store %ptrs, %v, mask %in : tensor<64x!tile.ptr<f16>>, tensor<64xf16>, tensor<64xi1>
  %cu_b = tile.addptr %cu, %b : !tile.ptr<i32>, i64
  %start = tile.load %cu_b : (!tile.ptr<i32>) -> i32
  return
}

// -----

// CHECK-LABEL: func.func @dot
// CHECK: tile.dot %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xbf16> * tensor<128x32xbf16> -> tensor<64x32xf32>
// CHECK: tile.dot %{{.*}}, %{{.*}}, %{{.*}} : tensor<16x16xf16> * tensor<16x16xf16> -> tensor<16x16xf16>
// CHECK: tile.dot %{{.*}}, %{{.*}}, %{{.*}} precision = tf32x3 : tensor<16x32xf32> * tensor<32x16xf32> -> tensor<16x16xf32>
// CHECK: tile.dot %{{.*}}, %{{.*}}, %{{.*}} : tensor<16x32xi8> * tensor<32x16xi8> -> tensor<16x16xi32>
func.func @dot(%a: tensor<64x128xbf16>, %b: tensor<128x32xbf16>, %c: tensor<64x32xf32>,
               %h: tensor<16x16xf16>, %hc: tensor<16x16xf16>,
               %fa: tensor<16x32xf32>, %fb: tensor<32x16xf32>, %fc: tensor<16x16xf32>,
               %ia: tensor<16x32xi8>, %ib: tensor<32x16xi8>, %ic: tensor<16x16xi32>) {
  %0 = tile.dot %a, %b, %c : tensor<64x128xbf16> * tensor<128x32xbf16> -> tensor<64x32xf32>
  %1 = tile.dot %h, %h, %hc : tensor<16x16xf16> * tensor<16x16xf16> -> tensor<16x16xf16>
  %2 = tile.dot %fa, %fb, %fc precision = tf32x3
      : tensor<16x32xf32> * tensor<32x16xf32> -> tensor<16x16xf32>
  %3 = tile.dot %ia, %ib, %ic : tensor<16x32xi8> * tensor<32x16xi8> -> tensor<16x16xi32>
  return
}

// -----

// CHECK-LABEL: func.func @reductions
// CHECK: tile.reduce max %{{.*}}, 1 : tensor<64x32xf32> -> tensor<64xf32>
// CHECK: tile.reduce sum %{{.*}}, 0 : tensor<64x32xf32> -> tensor<32xf32>
// CHECK: tile.reduce min %{{.*}}, 0 : tensor<64xi32> -> i32
// CHECK: tile.argmax %{{.*}}, 1 : tensor<64x32xf32> -> tensor<64xf32>, tensor<64xi32>
// CHECK: tile.argmax %{{.*}}, 0 : tensor<32xf32> -> f32, i32
func.func @reductions(%s: tensor<64x32xf32>, %i: tensor<64xi32>, %v: tensor<32xf32>) {
  %0 = tile.reduce max %s, 1 : tensor<64x32xf32> -> tensor<64xf32>
  %1 = tile.reduce sum %s, 0 : tensor<64x32xf32> -> tensor<32xf32>
  %2 = tile.reduce min %i, 0 : tensor<64xi32> -> i32
  %best, %index = tile.argmax %s, 1 : tensor<64x32xf32> -> tensor<64xf32>, tensor<64xi32>
  %b1, %i1 = tile.argmax %v, 0 : tensor<32xf32> -> f32, i32
  return
}

// -----

// Tiles flow through upstream ops: elementwise arith/math, arith.select, and
// scf.for carrying tiles.
// CHECK-LABEL: func.func @with_upstream_ops
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<16xf32>)  : i32
// CHECK: math.exp2 %{{.*}} : tensor<16xf32>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<16xi1>, tensor<16xf32>
func.func @with_upstream_ops(%x: tensor<16xf32>, %keep: tensor<16xi1>, %n: i32) -> tensor<16xf32> {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<16xf32>) : i32 {
    %e = math.exp2 %acc : tensor<16xf32>
    %s = arith.select %keep, %e, %acc : tensor<16xi1>, tensor<16xf32>
    scf.yield %s : tensor<16xf32>
  }
  return %r : tensor<16xf32>
}

// -----

// Tuning attributes: warps per program on the kernel, pipelining depth on a loop.
// CHECK-LABEL: func.func @tuning_attributes
// CHECK-SAME: attributes {tile.num_warps = 8 : i32}
// CHECK: } {tile.num_stages = 3 : i32}
func.func @tuning_attributes(%n: i32) attributes {tile.num_warps = 8 : i32} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  scf.for %i = %c0 to %n step %c1 : i32 {
  } {tile.num_stages = 3 : i32}
  return
}

// -----

// CHECK-LABEL: func.func @atomic_add
// CHECK: tile.atomic_add %{{.*}}, %{{.*}} : tensor<16x!tile.ptr<i32>>, tensor<16xi32>
// CHECK: tile.atomic_add %{{.*}}, %{{.*}}, mask %{{.*}} : tensor<16x!tile.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
func.func @atomic_add(%p: tensor<16x!tile.ptr<i32>>, %v: tensor<16xi32>, %q: tensor<16x!tile.ptr<f32>>,
                      %w: tensor<16xf32>, %m: tensor<16xi1>) {
  %a = tile.atomic_add %p, %v : tensor<16x!tile.ptr<i32>>, tensor<16xi32>
  %b = tile.atomic_add %q, %w, mask %m : tensor<16x!tile.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
  return
}
