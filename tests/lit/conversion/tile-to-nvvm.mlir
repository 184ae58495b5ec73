// convert-tile-to-nvvm: each tile becomes one scalar per slot of the baseline
// layout (element e on thread e mod T), masks become scf.if around the access,
// and cross-thread ops stage through shared memory between two barriers.
// RUN: mobagen-opt %s -split-input-file --convert-tile-to-nvvm | FileCheck %s

// CHECK-LABEL: gpu.module @kernels
// CHECK: llvm.func @copy_masked(%[[SRC:.*]]: !llvm.ptr<1>, %[[DST:.*]]: !llvm.ptr<1>, %[[N:.*]]: i32)
// CHECK-SAME: nvvm.kernel
// CHECK-SAME: nvvm.reqntid = array<i32: 64, 1, 1>
// CHECK: %[[TID:.*]] = nvvm.read.ptx.sreg.tid.x : i32
// Two slots: elements tid and tid + 64.
// CHECK: %[[E1:.*]] = arith.addi %[[TID]], %{{.*}} : i32
// CHECK: %[[OK0:.*]] = arith.cmpi slt, %{{.*}}, %[[N]] : i32
// CHECK: %[[OK1:.*]] = arith.cmpi slt, %{{.*}}, %[[N]] : i32
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[SRC]][%{{.*}}] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f16
// CHECK: scf.if %[[OK0]] -> (f16)
// CHECK: llvm.load %[[P0]] : !llvm.ptr<1> -> f16
// CHECK: } else {
// CHECK: arith.constant 0.000000e+00 : f16
// CHECK: scf.if %[[OK1]] -> (f16)
// CHECK: scf.if %[[OK0]] {
// CHECK: llvm.store
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.return
func.func @copy_masked(%src: !tile.ptr<f16>, %dst: !tile.ptr<f16>, %n: i32) attributes {tile.num_warps = 2 : i32} {
  %r = tile.make_range 0 to 128 : tensor<128xi32>
  %nn = tile.splat %n : i32 -> tensor<128xi32>
  %ok = arith.cmpi slt, %r, %nn : tensor<128xi32>
  %s0 = tile.splat %src : !tile.ptr<f16> -> tensor<128x!tile.ptr<f16>>
  %s = tile.addptr %s0, %r : tensor<128x!tile.ptr<f16>>, tensor<128xi32>
  %d0 = tile.splat %dst : !tile.ptr<f16> -> tensor<128x!tile.ptr<f16>>
  %d = tile.addptr %d0, %r : tensor<128x!tile.ptr<f16>>, tensor<128xi32>
  %x = tile.load %s, mask %ok : (tensor<128x!tile.ptr<f16>>, tensor<128xi1>) -> tensor<128xf16>
  tile.store %d, %x, mask %ok : tensor<128x!tile.ptr<f16>>, tensor<128xf16>, tensor<128xi1>
  return
}

// -----

// A 1-D sum is a scalar every thread holds; thread 0 alone stores it.
// CHECK: llvm.mlir.global internal @__total_staging() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<128 x i8>
// CHECK-LABEL: llvm.func @total
// CHECK: nvvm.barrier0
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)  : i32 {
// CHECK: %[[X:.*]] = llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK: arith.addf %[[ACC]], %[[X]] : f32
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : i32
// CHECK: scf.if %[[FIRST]] {
// CHECK: llvm.store %[[SUM]], %{{.*}} : f32, !llvm.ptr<1>
func.func @total(%src: !tile.ptr<f32>, %dst: !tile.ptr<f32>) attributes {tile.num_warps = 1 : i32} {
  %r = tile.make_range 0 to 32 : tensor<32xi32>
  %s0 = tile.splat %src : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %s = tile.addptr %s0, %r : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  %x = tile.load %s : (tensor<32x!tile.ptr<f32>>) -> tensor<32xf32>
  %sum = tile.reduce sum %x, 0 : tensor<32xf32> -> f32
  tile.store %dst, %sum : !tile.ptr<f32>, f32
  return
}

// -----

// Tiles carried by a loop travel as one iter_arg per slot; exp2 is ex2.approx.
// CHECK-LABEL: llvm.func @powers
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32)  : i32
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.nvvm.ex2.approx.f32"
// CHECK: scf.yield %{{.*}}, %{{.*}} : f32, f32
func.func @powers(%dst: !tile.ptr<f32>, %n: i32) attributes {tile.num_warps = 1 : i32} {
  %one = arith.constant dense<1.0> : tensor<64xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %y = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> (tensor<64xf32>) : i32 {
    %e = math.exp2 %acc : tensor<64xf32>
    scf.yield %e : tensor<64xf32>
  }
  %r = tile.make_range 0 to 64 : tensor<64xi32>
  %d0 = tile.splat %dst : !tile.ptr<f32> -> tensor<64x!tile.ptr<f32>>
  %d = tile.addptr %d0, %r : tensor<64x!tile.ptr<f32>>, tensor<64xi32>
  tile.store %d, %y : tensor<64x!tile.ptr<f32>>, tensor<64xf32>
  return
}
