// Dots for the mma.sync lowering, run on the emulator by emulate.test.

// D = C + A B: A [32 x 32] f16, B [32 x 16] f16, C [32 x 16] f32, all row-major;
// D overwrites C. 8 warps on 2 x 2 result tiles: half the warps have no work.
func.func @dot_acc_f16(%a: !tile.ptr<f16>, %b: !tile.ptr<f16>, %c: !tile.ptr<f32>) attributes {tile.num_warps = 8 : i32} {
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

// C = A B for 64 x 64 bf16 tiles (4 warps, each owning 16 rows: 8 tiles of 16 x 8).
func.func @dot_bf16_64(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>) attributes {tile.num_warps = 4 : i32} {
  %r = tile.make_range 0 to 4096 : tensor<4096xi32>
  %pa0 = tile.splat %a : !tile.ptr<bf16> -> tensor<4096x!tile.ptr<bf16>>
  %pa = tile.addptr %pa0, %r : tensor<4096x!tile.ptr<bf16>>, tensor<4096xi32>
  %va = tile.load %pa : (tensor<4096x!tile.ptr<bf16>>) -> tensor<4096xbf16>
  %ma = tile.reshape %va : tensor<4096xbf16> -> tensor<64x64xbf16>
  %pb0 = tile.splat %b : !tile.ptr<bf16> -> tensor<4096x!tile.ptr<bf16>>
  %pb = tile.addptr %pb0, %r : tensor<4096x!tile.ptr<bf16>>, tensor<4096xi32>
  %vb = tile.load %pb : (tensor<4096x!tile.ptr<bf16>>) -> tensor<4096xbf16>
  %mb = tile.reshape %vb : tensor<4096xbf16> -> tensor<64x64xbf16>
  %zero = arith.constant dense<0.0> : tensor<64x64xf32>
  %d = tile.dot %ma, %mb, %zero : tensor<64x64xbf16> * tensor<64x64xbf16> -> tensor<64x64xf32>
  %vd = tile.reshape %d : tensor<64x64xf32> -> tensor<4096xf32>
  %pc0 = tile.splat %c : !tile.ptr<f32> -> tensor<4096x!tile.ptr<f32>>
  %pc = tile.addptr %pc0, %r : tensor<4096x!tile.ptr<f32>>, tensor<4096xi32>
  tile.store %pc, %vd : tensor<4096x!tile.ptr<f32>>, tensor<4096xf32>
  return
}

// D = C + A A for a 16 x 16 bf16 A and f32 C (D overwrites C) on 8 warps: one
// accumulator element per thread, so C must be staged although no thread sees two
// different values of it.
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
