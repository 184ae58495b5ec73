// dot=mma is a request: a tile.dot that mma.sync m16n8k16 cannot run, or whose
// staged operands pass the shared-memory limit, is an error on the op naming why
// (with the values), never a silent FMA loop (DotLayout.h).
// RUN: mobagen-opt %s -split-input-file -verify-diagnostics --convert-tile-to-nvvm="dot=mma"
// A kernel's shared memory as a whole is held to the limit too (here the FMA
// loop's staged f32 operands, 16 x 16 x 4 bytes each):
// RUN: not mobagen-opt %s -split-input-file --convert-tile-to-nvvm="shared-limit=1024" 2>&1 | FileCheck %s --check-prefix=KERNEL
// KERNEL: error: takes 2048 bytes of shared memory, over the shared-limit of 1024 bytes

func.func @f32_operands(%x: f32, %c: !tile.ptr<f32>) attributes {tile.num_warps = 1 : i32} {
  %a = tile.splat %x : f32 -> tensor<16x16xf32>
  %zero = arith.constant dense<0.0> : tensor<16x16xf32>
  // expected-error @+1 {{'tile.dot' op cannot be lowered to mma.sync (dot=mma): operands are f32 * f32; mma.sync m16n8k16 takes bf16 or f16}}
  %d = tile.dot %a, %a, %zero : tensor<16x16xf32> * tensor<16x16xf32> -> tensor<16x16xf32>
  %s = tile.reduce sum %d, 0 : tensor<16x16xf32> -> tensor<16xf32>
  %t = tile.reduce sum %s, 0 : tensor<16xf32> -> f32
  tile.store %c, %t : !tile.ptr<f32>, f32
  return
}

// -----

func.func @rows_not_a_multiple_of_16(%h: bf16, %c: !tile.ptr<f32>) attributes {tile.num_warps = 1 : i32} {
  %a = tile.splat %h : bf16 -> tensor<24x16xbf16>
  %b = tile.splat %h : bf16 -> tensor<16x16xbf16>
  %zero = arith.constant dense<0.0> : tensor<24x16xf32>
  // expected-error @+1 {{'tile.dot' op cannot be lowered to mma.sync (dot=mma): shape M x N x K = 24 x 16 x 16 is not a multiple of 16 x 8 x 16}}
  %d = tile.dot %a, %b, %zero : tensor<24x16xbf16> * tensor<16x16xbf16> -> tensor<24x16xf32>
  %s = tile.reduce sum %d, 0 : tensor<24x16xf32> -> tensor<16xf32>
  %t = tile.reduce sum %s, 0 : tensor<16xf32> -> f32
  tile.store %c, %t : !tile.ptr<f32>, f32
  return
}

// -----

// A [256 x 128] and B [128 x 128] staged with padded rows of 136 take 69632 +
// 34816 bytes (C and D in registers): over the default shared-limit, 99 KB.
func.func @staging_over_the_limit(%h: bf16, %c: !tile.ptr<f32>) attributes {tile.num_warps = 4 : i32} {
  %a = tile.splat %h : bf16 -> tensor<256x128xbf16>
  %b = tile.splat %h : bf16 -> tensor<128x128xbf16>
  %zero = arith.constant dense<0.0> : tensor<256x128xf32>
  // expected-error @+1 {{'tile.dot' op cannot be lowered to mma.sync (dot=mma): M x N x K = 256 x 128 x 128 on a 4 x 1 warp grid stages 104448 bytes of shared memory (A 256 x 136 x 2, B 128 x 136 x 2), over the shared-limit of 101376 bytes}}
  %d = tile.dot %a, %b, %zero : tensor<256x128xbf16> * tensor<128x128xbf16> -> tensor<256x128xf32>
  %s = tile.reduce sum %d, 1 : tensor<256x128xf32> -> tensor<256xf32>
  %t = tile.reduce sum %s, 0 : tensor<256xf32> -> f32
  tile.store %c, %t : !tile.ptr<f32>, f32
  return
}
