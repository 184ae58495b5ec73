// convert-tile-to-nvvm with dot=mma: a bf16/f16 tile.dot with an f32 accumulator
// whose shape is a multiple of 16 x 8 x 16 becomes per-warp nvvm.ldmatrix +
// nvvm.mma.sync m16n8k16 over padded shared-memory copies of A and B; C and D
// stay in registers where every warp holds as many m tiles (the accumulator
// layout), else they are staged too; any other dot is an error
// (tile-to-nvvm-mma-invalid.mlir).
// RUN: mobagen-opt %s -split-input-file --convert-tile-to-nvvm="dot=mma" | FileCheck %s
// RUN: mobagen-opt %s -split-input-file --convert-tile-to-nvvm | FileCheck %s --check-prefix=FMA
// RUN: not mobagen-opt %s --convert-tile-to-nvvm="dot=wgmma" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mobagen-opt %s --mobagen-tile-to-llvm="dot=tensor" 2>&1 | FileCheck %s --check-prefix=BAD-PIPELINE

// BAD: error: convert-tile-to-nvvm: dot = 'wgmma' is invalid: must be 'fma' or 'mma'
// BAD-PIPELINE: error: convert-tile-to-nvvm: dot = 'tensor' is invalid: must be 'fma' or 'mma'

// 2 x 2 result tiles on 8 warps (a 4 x 2 grid: warps 2, 3, 6 and 7 hold no m
// tile, so no accumulator layout): A, B and C of [32 x 32] * [32 x 16] +
// [32 x 16] staged row-major, each row padded by 8 elements: A 32 x 40 x 2 = 2560 bytes, B 32 x 24 x 2 = 1536, C 32 x 24 x 4 = 3072.
// CHECK-LABEL: gpu.module @kernels
// CHECK: llvm.mlir.global internal @__dot_f16_staging() {{.*}} !llvm.array<7168 x i8>
// CHECK: llvm.func @dot_f16
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__dot_f16_staging : !llvm.ptr<3>
// CHECK: %[[B:.*]] = llvm.getelementptr %[[BASE]][2560] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: %[[C:.*]] = llvm.getelementptr %[[BASE]][4096] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: nvvm.barrier0
// A's and B's elements, then the accumulator's (it is not a splat).
// CHECK: llvm.store %{{.*}}, %{{.*}} : f16, !llvm.ptr<3>
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// 2 x 2 result tiles on 8 warps: a 4 x 2 warp grid; warp w runs the m tiles
// w mod 4, (w mod 4) + 4, ... below 2, so warps 2, 3, 6 and 7 have no work.
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %c32_i32
// CHECK: %[[WM:.*]] = arith.remui %[[WARP]], %c4_i32
// CHECK: scf.for %{{.*}} = %[[WM]] to %c2_i32{{.*}} step %c4_i32
// The accumulator fragment as two 8-byte pairs (rows g and g + 8).
// CHECK-COUNT-2: llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr<3> -> vector<2xf32>
// CHECK: scf.for %{{.*}} = %c0_i32{{.*}} to %c2_i32{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK: nvvm.ldmatrix %{{.*}} {{{.*}}layout = #nvvm.mma_layout<row>, num = 4 : i32{{.*}}} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK: llvm.bitcast %{{.*}} : i32 to vector<2xf16>
// CHECK: nvvm.ldmatrix %{{.*}} {{{.*}}layout = #nvvm.mma_layout<col>, num = 2 : i32{{.*}}} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32)>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: scf.yield
// CHECK-COUNT-2: llvm.store %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK-NOT: nvvm.mma.sync
// CHECK: llvm.return
// FMA-LABEL: llvm.func @dot_f16
// FMA-NOT: nvvm.mma.sync
// FMA: math.fma
func.func @dot_f16(%a: !tile.ptr<f16>, %b: !tile.ptr<f16>, %c: !tile.ptr<f32>) attributes {tile.num_warps = 8 : i32} {
  %ra = tile.make_range 0 to 1024 : tensor<1024xi32>
  %pa0 = tile.splat %a : !tile.ptr<f16> -> tensor<1024x!tile.ptr<f16>>
  %pa = tile.addptr %pa0, %ra : tensor<1024x!tile.ptr<f16>>, tensor<1024xi32>
  %va = tile.load %pa : (tensor<1024x!tile.ptr<f16>>) -> tensor<1024xf16>
  %ma = tile.reshape %va : tensor<1024xf16> -> tensor<32x32xf16>
  %rb = tile.make_range 0 to 512 : tensor<512xi32>
  %pb0 = tile.splat %b : !tile.ptr<f16> -> tensor<512x!tile.ptr<f16>>
  %pb = tile.addptr %pb0, %rb : tensor<512x!tile.ptr<f16>>, tensor<512xi32>
  %vb = tile.load %pb : (tensor<512x!tile.ptr<f16>>) -> tensor<512xf16>
  %mb = tile.reshape %vb : tensor<512xf16> -> tensor<32x16xf16>
  %pc0 = tile.splat %c : !tile.ptr<f32> -> tensor<512x!tile.ptr<f32>>
  %pc = tile.addptr %pc0, %rb : tensor<512x!tile.ptr<f32>>, tensor<512xi32>
  %vc = tile.load %pc : (tensor<512x!tile.ptr<f32>>) -> tensor<512xf32>
  %mc = tile.reshape %vc : tensor<512xf32> -> tensor<32x16xf32>
  %d = tile.dot %ma, %mb, %mc : tensor<32x32xf16> * tensor<32x16xf16> -> tensor<32x16xf32>
  %vd = tile.reshape %d : tensor<32x16xf32> -> tensor<512xf32>
  tile.store %pc, %vd : tensor<512x!tile.ptr<f32>>, tensor<512xf32>
  return
}

// -----

// With one m tile per warp the accumulator layout holds C and D in registers
// (docs/lowering.md, "Layouts"): the splat zeros enter the k loop as constants,
// nothing of C is staged. One warp owns both 16 x 8 tiles: it loads each tile's
// B fragment, then one A fragment for the two. The result leaves the registers
// for the round-robin reshape as 8-byte pairs.
// CHECK-LABEL: llvm.func @dot_bf16_zero_acc
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK-NOT: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK-COUNT-2: nvvm.ldmatrix {{.*}}num = 2
// CHECK: nvvm.ldmatrix {{.*}}num = 4
// CHECK-COUNT-2: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}} : (i32, i32, f32)
// CHECK-NOT: nvvm.ldmatrix
// CHECK: scf.yield
// CHECK: nvvm.barrier0
// CHECK: nvvm.barrier0
// CHECK-COUNT-4: llvm.store %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<3>
// CHECK: nvvm.barrier0
func.func @dot_bf16_zero_acc(%a: !tile.ptr<bf16>, %c: !tile.ptr<f32>) attributes {tile.num_warps = 1 : i32} {
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %p0 = tile.splat %a : !tile.ptr<bf16> -> tensor<256x!tile.ptr<bf16>>
  %p = tile.addptr %p0, %r : tensor<256x!tile.ptr<bf16>>, tensor<256xi32>
  %v = tile.load %p : (tensor<256x!tile.ptr<bf16>>) -> tensor<256xbf16>
  %m = tile.reshape %v : tensor<256xbf16> -> tensor<16x16xbf16>
  %zero = arith.constant dense<0.0> : tensor<16x16xf32>
  %d = tile.dot %m, %m, %zero : tensor<16x16xbf16> * tensor<16x16xbf16> -> tensor<16x16xf32>
  %vd = tile.reshape %d : tensor<16x16xf32> -> tensor<256xf32>
  %pc0 = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %pc = tile.addptr %pc0, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %pc, %vd : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}

// -----

// With one accumulator element per thread (256 elements, 8 warps) every thread's
// slots are trivially equal, yet the accumulator is not a splat: it is staged.
// CHECK-LABEL: llvm.func @dot_acc_one_slot
// CHECK: nvvm.barrier0
// CHECK: llvm.store %{{.*}}, %{{.*}} : bf16, !llvm.ptr<3>
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK-COUNT-2: llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr<3> -> vector<2xf32>
// CHECK: nvvm.mma.sync
func.func @dot_acc_one_slot(%a: !tile.ptr<bf16>, %c: !tile.ptr<f32>) attributes {tile.num_warps = 8 : i32} {
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %p0 = tile.splat %a : !tile.ptr<bf16> -> tensor<256x!tile.ptr<bf16>>
  %p = tile.addptr %p0, %r : tensor<256x!tile.ptr<bf16>>, tensor<256xi32>
  %v = tile.load %p : (tensor<256x!tile.ptr<bf16>>) -> tensor<256xbf16>
  %m = tile.reshape %v : tensor<256xbf16> -> tensor<16x16xbf16>
  %pc0 = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %pc = tile.addptr %pc0, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %vc = tile.load %pc : (tensor<256x!tile.ptr<f32>>) -> tensor<256xf32>
  %mc = tile.reshape %vc : tensor<256xf32> -> tensor<16x16xf32>
  %d = tile.dot %m, %m, %mc : tensor<16x16xbf16> * tensor<16x16xbf16> -> tensor<16x16xf32>
  %vd = tile.reshape %d : tensor<16x16xf32> -> tensor<256xf32>
  tile.store %pc, %vd : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}

// -----

// cp.async (AsyncCopy.h): A [16 x 32] row-major with a row mask runs along K;
// B = K^T [32 x 16] (element (k, n) at n * 32 + k) with a per-key mask runs
// along dim 0, so it is staged [N, K] = 16 rows of 40 and read with plain
// (row) ldmatrix. No operand element goes through registers: each operand has
// 64 runs of 8 elements, and thread t copies runs t and t + 32, its pointer
// and mask recomputed at the run's coordinates, src-size 16 or 0 from the
// mask; then one commit, a wait for all and the barrier. Staging: A 16 x 40 x
// 2 = 1280 bytes, B^T 16 x 40 x 2 = 1280 (C and D in registers; the result's
// conversion for the store reuses the first 16 x 24 x 4 = 1536).
// CHECK-LABEL: llvm.mlir.global internal @__async_qk_staging() {{.*}} !llvm.array<2560 x i8>
// CHECK-LABEL: llvm.func @async_qk
// CHECK-NOT: llvm.load %{{.*}} : !llvm.ptr<1> -> bf16
// CHECK-NOT: : bf16, !llvm.ptr<3>
// CHECK: %[[ASIZE:.*]] = arith.select %{{.*}}, %c16_i32{{[_0-9]*}}, %c0_i32{{[_0-9]*}} : i32
// CHECK: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache =  cg, %[[ASIZE]] : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK-COUNT-3: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK-NOT: : bf16, !llvm.ptr<3>
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.barrier0
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 2
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4
// CHECK: nvvm.mma.sync
// CHECK-NOT: cp.async
// CHECK: llvm.return
func.func @async_qk(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %m: i32) attributes {tile.num_warps = 1 : i32} {
  %i = tile.make_range 0 to 16 : tensor<16xi32>
  %k = tile.make_range 0 to 32 : tensor<32xi32>
  %i2 = tile.expand_dims %i, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %k2 = tile.expand_dims %k, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %c32 = arith.constant dense<32> : tensor<16x1xi32>
  %ri = arith.muli %i2, %c32 : tensor<16x1xi32>
  %riB = tile.broadcast %ri : tensor<16x1xi32> -> tensor<16x32xi32>
  %kB = tile.broadcast %k2 : tensor<1x32xi32> -> tensor<16x32xi32>
  %aOff = arith.addi %riB, %kB : tensor<16x32xi32>
  %ms = tile.splat %m : i32 -> tensor<16x1xi32>
  %rowOk = arith.cmpi slt, %i2, %ms : tensor<16x1xi32>
  %aMask = tile.broadcast %rowOk : tensor<16x1xi1> -> tensor<16x32xi1>
  %zeroA = arith.constant dense<0.0> : tensor<16x32xbf16>
  %as = tile.splat %a : !tile.ptr<bf16> -> tensor<16x32x!tile.ptr<bf16>>
  %ap = tile.addptr %as, %aOff : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi32>
  %va = tile.load %ap, mask %aMask, other %zeroA : (tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi1>, tensor<16x32xbf16>) -> tensor<16x32xbf16>
  %j = tile.make_range 0 to 16 : tensor<16xi32>
  %kc = tile.expand_dims %k, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %j2 = tile.expand_dims %j, 0 : tensor<16xi32> -> tensor<1x16xi32>
  %kcB = tile.broadcast %kc : tensor<32x1xi32> -> tensor<32x16xi32>
  %j2B = tile.broadcast %j2 : tensor<1x16xi32> -> tensor<32x16xi32>
  %c32b = arith.constant dense<32> : tensor<32x16xi32>
  %nr = arith.muli %j2B, %c32b : tensor<32x16xi32>
  %bOff = arith.addi %nr, %kcB : tensor<32x16xi32>
  %ms2 = tile.splat %m : i32 -> tensor<32x16xi32>
  %bMask = arith.cmpi slt, %j2B, %ms2 : tensor<32x16xi32>
  %zeroB = arith.constant dense<0.0> : tensor<32x16xbf16>
  %bs = tile.splat %b : !tile.ptr<bf16> -> tensor<32x16x!tile.ptr<bf16>>
  %bp = tile.addptr %bs, %bOff : tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi32>
  %vb = tile.load %bp, mask %bMask, other %zeroB : (tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi1>, tensor<32x16xbf16>) -> tensor<32x16xbf16>
  %acc = arith.constant dense<0.0> : tensor<16x16xf32>
  %d = tile.dot %va, %vb, %acc : tensor<16x32xbf16> * tensor<32x16xbf16> -> tensor<16x16xf32>
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %flat = tile.reshape %d : tensor<16x16xf32> -> tensor<256xf32>
  %cs = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %cp = tile.addptr %cs, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %cp, %flat : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}

// -----

// Not provable, so the register path: K^T whose mask changes along K (a per-k
// bound), and an A whose rows are 36 elements apart (runs 8-byte aligned only).
// B keeps [K, N] staging and .trans ldmatrix.
// CHECK-LABEL: llvm.func @async_refused
// CHECK-NOT: cp.async
// CHECK: llvm.store %{{.*}}, %{{.*}} : bf16, !llvm.ptr<3>
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>, num = 2
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4
// CHECK-NOT: cp.async
// CHECK: llvm.return
func.func @async_refused(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %m: i32) attributes {tile.num_warps = 1 : i32} {
  %i = tile.make_range 0 to 16 : tensor<16xi32>
  %k = tile.make_range 0 to 32 : tensor<32xi32>
  %i2 = tile.expand_dims %i, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %k2 = tile.expand_dims %k, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %c36 = arith.constant dense<36> : tensor<16x1xi32>
  %ri = arith.muli %i2, %c36 : tensor<16x1xi32>
  %riB = tile.broadcast %ri : tensor<16x1xi32> -> tensor<16x32xi32>
  %kB = tile.broadcast %k2 : tensor<1x32xi32> -> tensor<16x32xi32>
  %aOff = arith.addi %riB, %kB : tensor<16x32xi32>
  %as = tile.splat %a : !tile.ptr<bf16> -> tensor<16x32x!tile.ptr<bf16>>
  %ap = tile.addptr %as, %aOff : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi32>
  %va = tile.load %ap : (tensor<16x32x!tile.ptr<bf16>>) -> tensor<16x32xbf16>
  %j = tile.make_range 0 to 16 : tensor<16xi32>
  %kc = tile.expand_dims %k, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %j2 = tile.expand_dims %j, 0 : tensor<16xi32> -> tensor<1x16xi32>
  %kcB = tile.broadcast %kc : tensor<32x1xi32> -> tensor<32x16xi32>
  %j2B = tile.broadcast %j2 : tensor<1x16xi32> -> tensor<32x16xi32>
  %c32b = arith.constant dense<32> : tensor<32x16xi32>
  %nr = arith.muli %j2B, %c32b : tensor<32x16xi32>
  %bOff = arith.addi %nr, %kcB : tensor<32x16xi32>
  %ms2 = tile.splat %m : i32 -> tensor<32x16xi32>
  %bMask = arith.cmpi slt, %kcB, %ms2 : tensor<32x16xi32>
  %zeroB = arith.constant dense<0.0> : tensor<32x16xbf16>
  %bs = tile.splat %b : !tile.ptr<bf16> -> tensor<32x16x!tile.ptr<bf16>>
  %bp = tile.addptr %bs, %bOff : tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi32>
  %vb = tile.load %bp, mask %bMask, other %zeroB : (tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi1>, tensor<32x16xbf16>) -> tensor<32x16xbf16>
  %acc = arith.constant dense<0.0> : tensor<16x16xf32>
  %d = tile.dot %va, %vb, %acc : tensor<16x32xbf16> * tensor<32x16xbf16> -> tensor<16x16xf32>
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %flat = tile.reshape %d : tensor<16x16xf32> -> tensor<256xf32>
  %cs = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %cp = tile.addptr %cs, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %cp, %flat : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}

// -----

// A loaded outside the loop of its dot is copied once, where the load stands,
// into the resident buffer (16 x 40 bf16 = 1280 bytes: 2 copies per thread)
// after a wait for this thread's earlier copies and a barrier; in the loop the dot issues no copy for
// A, waits for the copies and reads A from the resident buffer. B (a reshaped
// load) keeps the register path.
// CHECK-LABEL: llvm.mlir.global internal @__resident_a_resident() {{.*}} !llvm.array<1280 x i8>
// CHECK-LABEL: llvm.func @resident_a
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.barrier0
// CHECK-NEXT: %[[RES:.*]] = llvm.mlir.addressof @__resident_a_resident : !llvm.ptr<3>
// CHECK-COUNT-2: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: nvvm.barrier0
// CHECK-NEXT: %[[A:.*]] = llvm.mlir.addressof @__resident_a_resident : !llvm.ptr<3>
// CHECK-NOT: nvvm.cp.async
// CHECK: llvm.store %{{.*}}, %{{.*}} : bf16, !llvm.ptr<3>
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.barrier0
// CHECK: nvvm.ldmatrix {{.*}}num = 4
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: llvm.return
func.func @resident_a(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %n: i32) attributes {tile.num_warps = 1 : i32} {
  %i = tile.make_range 0 to 16 : tensor<16xi32>
  %k = tile.make_range 0 to 32 : tensor<32xi32>
  %i2 = tile.expand_dims %i, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %k2 = tile.expand_dims %k, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %c32 = arith.constant dense<32> : tensor<16x1xi32>
  %ri = arith.muli %i2, %c32 : tensor<16x1xi32>
  %riB = tile.broadcast %ri : tensor<16x1xi32> -> tensor<16x32xi32>
  %kB = tile.broadcast %k2 : tensor<1x32xi32> -> tensor<16x32xi32>
  %aOff = arith.addi %riB, %kB : tensor<16x32xi32>
  %as = tile.splat %a : !tile.ptr<bf16> -> tensor<16x32x!tile.ptr<bf16>>
  %ap = tile.addptr %as, %aOff : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi32>
  %va = tile.load %ap : (tensor<16x32x!tile.ptr<bf16>>) -> tensor<16x32xbf16>
  %r = tile.make_range 0 to 512 : tensor<512xi32>
  %bs = tile.splat %b : !tile.ptr<bf16> -> tensor<512x!tile.ptr<bf16>>
  %bp = tile.addptr %bs, %r : tensor<512x!tile.ptr<bf16>>, tensor<512xi32>
  %zero = arith.constant dense<0.0> : tensor<16x16xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %sum = scf.for %t = %c0 to %n step %c1 iter_args(%acc = %zero) -> (tensor<16x16xf32>) : i32 {
    %vb = tile.load %bp : (tensor<512x!tile.ptr<bf16>>) -> tensor<512xbf16>
    %mb = tile.reshape %vb : tensor<512xbf16> -> tensor<32x16xbf16>
    %d = tile.dot %va, %mb, %acc : tensor<16x32xbf16> * tensor<32x16xbf16> -> tensor<16x16xf32>
    scf.yield %d : tensor<16x16xf32>
  }
  %r256 = tile.make_range 0 to 256 : tensor<256xi32>
  %flat = tile.reshape %sum : tensor<16x16xf32> -> tensor<256xf32>
  %cs = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %cp = tile.addptr %cs, %r256 : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %cp, %flat : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}

// -----

// A tile.store in the loop through A's own argument may change what A's load
// read: no resident copy. (A store through another argument could not: a
// kernel's pointer arguments are disjoint, AsyncCopy.h.)
// CHECK-LABEL: llvm.func @resident_refused
// CHECK-NOT: cp.async
// CHECK: llvm.return
func.func @resident_refused(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %n: i32) attributes {tile.num_warps = 1 : i32} {
  %i = tile.make_range 0 to 16 : tensor<16xi32>
  %k = tile.make_range 0 to 32 : tensor<32xi32>
  %i2 = tile.expand_dims %i, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %k2 = tile.expand_dims %k, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %c32 = arith.constant dense<32> : tensor<16x1xi32>
  %ri = arith.muli %i2, %c32 : tensor<16x1xi32>
  %riB = tile.broadcast %ri : tensor<16x1xi32> -> tensor<16x32xi32>
  %kB = tile.broadcast %k2 : tensor<1x32xi32> -> tensor<16x32xi32>
  %aOff = arith.addi %riB, %kB : tensor<16x32xi32>
  %as = tile.splat %a : !tile.ptr<bf16> -> tensor<16x32x!tile.ptr<bf16>>
  %ap = tile.addptr %as, %aOff : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi32>
  %va = tile.load %ap : (tensor<16x32x!tile.ptr<bf16>>) -> tensor<16x32xbf16>
  %r = tile.make_range 0 to 512 : tensor<512xi32>
  %bs = tile.splat %b : !tile.ptr<bf16> -> tensor<512x!tile.ptr<bf16>>
  %bp = tile.addptr %bs, %r : tensor<512x!tile.ptr<bf16>>, tensor<512xi32>
  %zero = arith.constant dense<0.0> : tensor<16x16xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %sum = scf.for %t = %c0 to %n step %c1 iter_args(%acc = %zero) -> (tensor<16x16xf32>) : i32 {
    %vb = tile.load %bp : (tensor<512x!tile.ptr<bf16>>) -> tensor<512xbf16>
    %mb = tile.reshape %vb : tensor<512xbf16> -> tensor<32x16xbf16>
    %d = tile.dot %va, %mb, %acc : tensor<16x32xbf16> * tensor<32x16xbf16> -> tensor<16x16xf32>
    %zA = arith.constant dense<0.0> : tensor<16x32xbf16>
    tile.store %ap, %zA : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xbf16>
    tile.store %bp, %vb : tensor<512x!tile.ptr<bf16>>, tensor<512xbf16>
    scf.yield %d : tensor<16x16xf32>
  }
  %r256 = tile.make_range 0 to 256 : tensor<256xi32>
  %flat = tile.reshape %sum : tensor<16x16xf32> -> tensor<256xf32>
  %cs = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %cp = tile.addptr %cs, %r256 : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %cp, %flat : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  return
}
