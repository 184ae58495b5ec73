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

// -----

// A row max along the last axis, N = 64 on 2 warps (T = 64): each warp holds
// half a row per slot, 4 slots of 4 rows. One transposed butterfly reduces the
// 4 slots together: at xor 16 a lane keeps slots 2-3 or 0-1 (its bit 16) and
// sends the others (2 shuffles), at xor 8 one of the two left (1 shuffle), then
// xor 4, 2, 1 on one value: 6 shuffles instead of 4 x 5. Lanes 0, 8, 16, 24 of
// each warp then hold slots 0-3 and write their partial at part * R + row
// (R = 4 rows, 2 parts: 32 bytes of staging instead of the whole tile), and the
// owner of each result element combines the two parts. No serial loop.
// CHECK: llvm.mlir.global internal @__row_max_staging() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<32 x i8>
// CHECK-LABEL: llvm.func @row_max
// CHECK: %[[TID:.*]] = nvvm.read.ptx.sreg.tid.x : i32
// CHECK-NOT: nvvm.barrier0
// CHECK: %[[C16:.*]] = arith.constant 16 : i32
// CHECK: %[[BIT16:.*]] = arith.andi %[[TID]], %[[C16]] : i32
// CHECK: %[[UP16:.*]] = arith.cmpi ne, %[[BIT16]], %{{.*}} : i32
// CHECK: %[[KEEP:.*]] = arith.select %[[UP16]], %[[S2:.*]], %[[S0:.*]] : f32
// CHECK: %[[SEND:.*]] = arith.select %[[UP16]], %[[S0]], %[[S2]] : f32
// CHECK: %[[GOT:.*]] = nvvm.shfl.sync bfly %{{.*}}, %[[SEND]], %{{.*}}, %{{.*}} : f32 -> f32
// CHECK: arith.maximumf %[[KEEP]], %[[GOT]] : f32
// CHECK-COUNT-5: nvvm.shfl.sync bfly
// CHECK-NOT: nvvm.shfl.sync
// CHECK: nvvm.barrier0
// CHECK: scf.if
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK-NOT: scf.for
// CHECK: %[[P0:.*]] = llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK: %[[P1:.*]] = llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK: arith.maximumf %[[P0]], %[[P1]] : f32
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.return
func.func @row_max(%src: !tile.ptr<f32>, %dst: !tile.ptr<f32>) attributes {tile.num_warps = 2 : i32} {
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %s0 = tile.splat %src : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %s = tile.addptr %s0, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %x = tile.load %s : (tensor<256x!tile.ptr<f32>>) -> tensor<256xf32>
  %x2 = tile.reshape %x : tensor<256xf32> -> tensor<4x64xf32>
  %m = tile.reduce max %x2, 1 : tensor<4x64xf32> -> tensor<4xf32>
  %rr = tile.make_range 0 to 4 : tensor<4xi32>
  %d0 = tile.splat %dst : !tile.ptr<f32> -> tensor<4x!tile.ptr<f32>>
  %d = tile.addptr %d0, %rr : tensor<4x!tile.ptr<f32>>, tensor<4xi32>
  tile.store %d, %m : tensor<4x!tile.ptr<f32>>, tensor<4xf32>
  return
}

// -----

// N = 16 < 32: a warp holds two rows per slot, the butterfly stays in segments
// of 16 lanes (first xor 8), one part per row; the 4 slots take 2 + 1 + 1 + 1
// shuffles (xor 8, 4, 2, 1).
// CHECK: llvm.mlir.global internal @__row_sum_16_staging() {{.*}} : !llvm.array<32 x i8>
// CHECK-LABEL: llvm.func @row_sum_16
// CHECK-NOT: nvvm.shfl.sync
// CHECK: %[[C8:c8_i32_[0-9]+]] = arith.constant 8 : i32
// CHECK-NEXT: nvvm.shfl.sync bfly %{{.*}}, %{{.*}}, %[[C8]], %{{.*}} : f32 -> f32
// CHECK: arith.addf
// CHECK-COUNT-4: nvvm.shfl.sync bfly
// CHECK-NOT: nvvm.shfl.sync
// CHECK: nvvm.barrier0
// CHECK: nvvm.barrier0
// CHECK-NOT: scf.for
// CHECK: llvm.return
func.func @row_sum_16(%src: !tile.ptr<f32>, %dst: !tile.ptr<f32>) attributes {tile.num_warps = 1 : i32} {
  %r = tile.make_range 0 to 128 : tensor<128xi32>
  %s0 = tile.splat %src : !tile.ptr<f32> -> tensor<128x!tile.ptr<f32>>
  %s = tile.addptr %s0, %r : tensor<128x!tile.ptr<f32>>, tensor<128xi32>
  %x = tile.load %s : (tensor<128x!tile.ptr<f32>>) -> tensor<128xf32>
  %x2 = tile.reshape %x : tensor<128xf32> -> tensor<8x16xf32>
  %m = tile.reduce sum %x2, 1 : tensor<8x16xf32> -> tensor<8xf32>
  %rr = tile.make_range 0 to 8 : tensor<8xi32>
  %d0 = tile.splat %dst : !tile.ptr<f32> -> tensor<8x!tile.ptr<f32>>
  %d = tile.addptr %d0, %rr : tensor<8x!tile.ptr<f32>>, tensor<8xi32>
  tile.store %d, %m : tensor<8x!tile.ptr<f32>>, tensor<8xf32>
  return
}

// -----

// argmax of rows longer than the block (N = 128, T = 32): each thread first
// combines its 4 slots of a row, then (value, column) pairs travel through the
// butterfly; NaN and -inf enter as (-inf, 0); ties go to the lower column.
// Values and columns get their own staging arrays (16-byte aligned).
// CHECK: llvm.mlir.global internal @__row_argmax_staging() {{.*}} : !llvm.array<24 x i8>
// CHECK-LABEL: llvm.func @row_argmax
// CHECK: %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[COUNTS:.*]] = arith.cmpf ogt, %{{.*}}, %[[NEG]] : f32
// CHECK: arith.select %[[COUNTS]], %{{.*}}, %[[NEG]] : f32
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ult
// CHECK: nvvm.shfl.sync bfly %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32 -> f32
// CHECK: nvvm.shfl.sync bfly %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : i32 -> i32
// CHECK: nvvm.barrier0
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: llvm.store %{{.*}}, %{{.*}} : i32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK-NOT: scf.for
// CHECK: llvm.return
func.func @row_argmax(%src: !tile.ptr<f32>, %dst: !tile.ptr<i32>) attributes {tile.num_warps = 1 : i32} {
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %s0 = tile.splat %src : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %s = tile.addptr %s0, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %x = tile.load %s : (tensor<256x!tile.ptr<f32>>) -> tensor<256xf32>
  %x2 = tile.reshape %x : tensor<256xf32> -> tensor<2x128xf32>
  %v, %i = tile.argmax %x2, 1 : tensor<2x128xf32> -> tensor<2xf32>, tensor<2xi32>
  %rr = tile.make_range 0 to 2 : tensor<2xi32>
  %d0 = tile.splat %dst : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %d = tile.addptr %d0, %rr : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %d, %i : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  return
}

// -----

// The staged path stays for what shuffles do not cover: a row length that is not
// a power of two (24), a reduction along a leading axis, and 64-bit elements.
// Each stages the whole operand and loops over the axis; no shuffle.
// CHECK-LABEL: llvm.func @staged_reductions
// CHECK-NOT: nvvm.shfl.sync
// CHECK: scf.for {{.*}} -> (f32)
// CHECK: scf.for {{.*}} -> (f32)
// CHECK: scf.for {{.*}} -> (i64)
// CHECK-NOT: nvvm.shfl.sync
// CHECK: llvm.return
func.func @staged_reductions(%src: !tile.ptr<f32>, %dst: !tile.ptr<f32>, %dst64: !tile.ptr<i64>) attributes {tile.num_warps = 1 : i32} {
  %odd = arith.constant dense<1.0> : tensor<4x24xf32>
  %a = tile.reduce sum %odd, 1 : tensor<4x24xf32> -> tensor<4xf32>
  %r = tile.make_range 0 to 128 : tensor<128xi32>
  %s0 = tile.splat %src : !tile.ptr<f32> -> tensor<128x!tile.ptr<f32>>
  %s = tile.addptr %s0, %r : tensor<128x!tile.ptr<f32>>, tensor<128xi32>
  %x = tile.load %s : (tensor<128x!tile.ptr<f32>>) -> tensor<128xf32>
  %cols = tile.reshape %x : tensor<128xf32> -> tensor<4x32xf32>
  %b = tile.reduce max %cols, 0 : tensor<4x32xf32> -> tensor<32xf32>
  %y = arith.constant dense<1> : tensor<4x32xi64>
  %c = tile.reduce sum %y, 1 : tensor<4x32xi64> -> tensor<4xi64>
  %r4 = tile.make_range 0 to 4 : tensor<4xi32>
  %d0 = tile.splat %dst : !tile.ptr<f32> -> tensor<4x!tile.ptr<f32>>
  %d = tile.addptr %d0, %r4 : tensor<4x!tile.ptr<f32>>, tensor<4xi32>
  tile.store %d, %a : tensor<4x!tile.ptr<f32>>, tensor<4xf32>
  %r32 = tile.make_range 0 to 32 : tensor<32xi32>
  %e0 = tile.splat %dst : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %e = tile.addptr %e0, %r32 : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  tile.store %e, %b : tensor<32x!tile.ptr<f32>>, tensor<32xf32>
  %f0 = tile.splat %dst64 : !tile.ptr<i64> -> tensor<4x!tile.ptr<i64>>
  %f = tile.addptr %f0, %r4 : tensor<4x!tile.ptr<i64>>, tensor<4xi32>
  tile.store %f, %c : tensor<4x!tile.ptr<i64>>, tensor<4xi64>
  return
}
