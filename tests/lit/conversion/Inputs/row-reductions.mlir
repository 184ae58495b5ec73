// Row reductions along the last axis on 4 warps (T = 128 threads): warp shuffles
// (ShuffleReduction.h), run on the emulator and checked against NumPy by
// `e2e.py check DIR rows-MxN`. Each kernel loads an [M, N] f32 tile x and an i32
// tile y and stores the row max, row sum and argmax (value, column) of x and the
// row min and argmax column of y. The shapes cover N = 16 (segments of 16 lanes,
// 2 or 8 rows per warp), 32 with M = 64 (16 slots per thread through one
// transposed butterfly; 64 results, past the 32 rows where the partials are
// padded), 64 (2 warps per row), 128 (4 warps per row), 256 and 512 (2 and 4
// slots of one row per thread); M = 1, 2 and 8 are not multiples of the 4 warps,
// so some warps hold no row and most threads own no result. Generated (one body
// per shape); edit with care.

func.func @rows_2x16(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 32 : tensor<32xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  %xv = tile.load %xp : (tensor<32x!tile.ptr<f32>>) -> tensor<32xf32>
  %x2 = tile.reshape %xv : tensor<32xf32> -> tensor<2x16xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  %yv = tile.load %yp : (tensor<32x!tile.ptr<i32>>) -> tensor<32xi32>
  %y2 = tile.reshape %yv : tensor<32xi32> -> tensor<2x16xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<2x16xf32> -> tensor<2xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<2x16xf32> -> tensor<2xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<2x16xf32> -> tensor<2xf32>, tensor<2xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<2x16xi32> -> tensor<2xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<2x16xi32> -> tensor<2xi32>, tensor<2xi32>
  %r = tile.make_range 0 to 2 : tensor<2xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %maxp, %rmax : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %sump, %rsum : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %bestp, %bv : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %wherep, %bi : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iminp, %rmin : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iwherep, %ii : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  return
}

func.func @rows_32x16(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 512 : tensor<512xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<512x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<512x!tile.ptr<f32>>, tensor<512xi32>
  %xv = tile.load %xp : (tensor<512x!tile.ptr<f32>>) -> tensor<512xf32>
  %x2 = tile.reshape %xv : tensor<512xf32> -> tensor<32x16xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<512x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<512x!tile.ptr<i32>>, tensor<512xi32>
  %yv = tile.load %yp : (tensor<512x!tile.ptr<i32>>) -> tensor<512xi32>
  %y2 = tile.reshape %yv : tensor<512xi32> -> tensor<32x16xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<32x16xf32> -> tensor<32xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<32x16xf32> -> tensor<32xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<32x16xf32> -> tensor<32xf32>, tensor<32xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<32x16xi32> -> tensor<32xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<32x16xi32> -> tensor<32xi32>, tensor<32xi32>
  %r = tile.make_range 0 to 32 : tensor<32xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  tile.store %maxp, %rmax : tensor<32x!tile.ptr<f32>>, tensor<32xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  tile.store %sump, %rsum : tensor<32x!tile.ptr<f32>>, tensor<32xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<32x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<32x!tile.ptr<f32>>, tensor<32xi32>
  tile.store %bestp, %bv : tensor<32x!tile.ptr<f32>>, tensor<32xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  tile.store %wherep, %bi : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  tile.store %iminp, %rmin : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  tile.store %iwherep, %ii : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  return
}

func.func @rows_2x64(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 128 : tensor<128xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<128x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<128x!tile.ptr<f32>>, tensor<128xi32>
  %xv = tile.load %xp : (tensor<128x!tile.ptr<f32>>) -> tensor<128xf32>
  %x2 = tile.reshape %xv : tensor<128xf32> -> tensor<2x64xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<128x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<128x!tile.ptr<i32>>, tensor<128xi32>
  %yv = tile.load %yp : (tensor<128x!tile.ptr<i32>>) -> tensor<128xi32>
  %y2 = tile.reshape %yv : tensor<128xi32> -> tensor<2x64xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<2x64xf32> -> tensor<2xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<2x64xf32> -> tensor<2xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<2x64xf32> -> tensor<2xf32>, tensor<2xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<2x64xi32> -> tensor<2xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<2x64xi32> -> tensor<2xi32>, tensor<2xi32>
  %r = tile.make_range 0 to 2 : tensor<2xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %maxp, %rmax : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %sump, %rsum : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %bestp, %bv : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %wherep, %bi : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iminp, %rmin : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iwherep, %ii : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  return
}

func.func @rows_8x64(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 512 : tensor<512xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<512x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<512x!tile.ptr<f32>>, tensor<512xi32>
  %xv = tile.load %xp : (tensor<512x!tile.ptr<f32>>) -> tensor<512xf32>
  %x2 = tile.reshape %xv : tensor<512xf32> -> tensor<8x64xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<512x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<512x!tile.ptr<i32>>, tensor<512xi32>
  %yv = tile.load %yp : (tensor<512x!tile.ptr<i32>>) -> tensor<512xi32>
  %y2 = tile.reshape %yv : tensor<512xi32> -> tensor<8x64xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<8x64xf32> -> tensor<8xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<8x64xf32> -> tensor<8xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<8x64xi32> -> tensor<8xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<8x64xi32> -> tensor<8xi32>, tensor<8xi32>
  %r = tile.make_range 0 to 8 : tensor<8xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<8x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<8x!tile.ptr<f32>>, tensor<8xi32>
  tile.store %maxp, %rmax : tensor<8x!tile.ptr<f32>>, tensor<8xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<8x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<8x!tile.ptr<f32>>, tensor<8xi32>
  tile.store %sump, %rsum : tensor<8x!tile.ptr<f32>>, tensor<8xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<8x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<8x!tile.ptr<f32>>, tensor<8xi32>
  tile.store %bestp, %bv : tensor<8x!tile.ptr<f32>>, tensor<8xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<8x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  tile.store %wherep, %bi : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<8x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  tile.store %iminp, %rmin : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<8x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  tile.store %iwherep, %ii : tensor<8x!tile.ptr<i32>>, tensor<8xi32>
  return
}

func.func @rows_64x32(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 2048 : tensor<2048xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<2048x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<2048x!tile.ptr<f32>>, tensor<2048xi32>
  %xv = tile.load %xp : (tensor<2048x!tile.ptr<f32>>) -> tensor<2048xf32>
  %x2 = tile.reshape %xv : tensor<2048xf32> -> tensor<64x32xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<2048x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<2048x!tile.ptr<i32>>, tensor<2048xi32>
  %yv = tile.load %yp : (tensor<2048x!tile.ptr<i32>>) -> tensor<2048xi32>
  %y2 = tile.reshape %yv : tensor<2048xi32> -> tensor<64x32xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<64x32xf32> -> tensor<64xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<64x32xf32> -> tensor<64xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<64x32xf32> -> tensor<64xf32>, tensor<64xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<64x32xi32> -> tensor<64xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<64x32xi32> -> tensor<64xi32>, tensor<64xi32>
  %r = tile.make_range 0 to 64 : tensor<64xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<64x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<64x!tile.ptr<f32>>, tensor<64xi32>
  tile.store %maxp, %rmax : tensor<64x!tile.ptr<f32>>, tensor<64xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<64x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<64x!tile.ptr<f32>>, tensor<64xi32>
  tile.store %sump, %rsum : tensor<64x!tile.ptr<f32>>, tensor<64xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<64x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<64x!tile.ptr<f32>>, tensor<64xi32>
  tile.store %bestp, %bv : tensor<64x!tile.ptr<f32>>, tensor<64xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<64x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  tile.store %wherep, %bi : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<64x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  tile.store %iminp, %rmin : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<64x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  tile.store %iwherep, %ii : tensor<64x!tile.ptr<i32>>, tensor<64xi32>
  return
}

func.func @rows_2x128(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 256 : tensor<256xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %xv = tile.load %xp : (tensor<256x!tile.ptr<f32>>) -> tensor<256xf32>
  %x2 = tile.reshape %xv : tensor<256xf32> -> tensor<2x128xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<256x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<256x!tile.ptr<i32>>, tensor<256xi32>
  %yv = tile.load %yp : (tensor<256x!tile.ptr<i32>>) -> tensor<256xi32>
  %y2 = tile.reshape %yv : tensor<256xi32> -> tensor<2x128xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<2x128xf32> -> tensor<2xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<2x128xf32> -> tensor<2xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<2x128xf32> -> tensor<2xf32>, tensor<2xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<2x128xi32> -> tensor<2xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<2x128xi32> -> tensor<2xi32>, tensor<2xi32>
  %r = tile.make_range 0 to 2 : tensor<2xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %maxp, %rmax : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %sump, %rsum : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %bestp, %bv : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %wherep, %bi : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iminp, %rmin : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iwherep, %ii : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  return
}

func.func @rows_1x256(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 256 : tensor<256xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %xv = tile.load %xp : (tensor<256x!tile.ptr<f32>>) -> tensor<256xf32>
  %x2 = tile.reshape %xv : tensor<256xf32> -> tensor<1x256xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<256x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<256x!tile.ptr<i32>>, tensor<256xi32>
  %yv = tile.load %yp : (tensor<256x!tile.ptr<i32>>) -> tensor<256xi32>
  %y2 = tile.reshape %yv : tensor<256xi32> -> tensor<1x256xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<1x256xf32> -> tensor<1xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<1x256xf32> -> tensor<1xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<1x256xf32> -> tensor<1xf32>, tensor<1xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<1x256xi32> -> tensor<1xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<1x256xi32> -> tensor<1xi32>, tensor<1xi32>
  %r = tile.make_range 0 to 1 : tensor<1xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<1x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<1x!tile.ptr<f32>>, tensor<1xi32>
  tile.store %maxp, %rmax : tensor<1x!tile.ptr<f32>>, tensor<1xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<1x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<1x!tile.ptr<f32>>, tensor<1xi32>
  tile.store %sump, %rsum : tensor<1x!tile.ptr<f32>>, tensor<1xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<1x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<1x!tile.ptr<f32>>, tensor<1xi32>
  tile.store %bestp, %bv : tensor<1x!tile.ptr<f32>>, tensor<1xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<1x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  tile.store %wherep, %bi : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<1x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  tile.store %iminp, %rmin : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<1x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  tile.store %iwherep, %ii : tensor<1x!tile.ptr<i32>>, tensor<1xi32>
  return
}

func.func @rows_2x512(%x: !tile.ptr<f32>, %y: !tile.ptr<i32>, %max: !tile.ptr<f32>, %sum: !tile.ptr<f32>, %best: !tile.ptr<f32>, %where: !tile.ptr<i32>, %imin: !tile.ptr<i32>, %iwhere: !tile.ptr<i32>) attributes {tile.num_warps = 4 : i32} {
  %e = tile.make_range 0 to 1024 : tensor<1024xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<1024x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %e : tensor<1024x!tile.ptr<f32>>, tensor<1024xi32>
  %xv = tile.load %xp : (tensor<1024x!tile.ptr<f32>>) -> tensor<1024xf32>
  %x2 = tile.reshape %xv : tensor<1024xf32> -> tensor<2x512xf32>
  %yp0 = tile.splat %y : !tile.ptr<i32> -> tensor<1024x!tile.ptr<i32>>
  %yp = tile.addptr %yp0, %e : tensor<1024x!tile.ptr<i32>>, tensor<1024xi32>
  %yv = tile.load %yp : (tensor<1024x!tile.ptr<i32>>) -> tensor<1024xi32>
  %y2 = tile.reshape %yv : tensor<1024xi32> -> tensor<2x512xi32>
  %rmax = tile.reduce max %x2, 1 : tensor<2x512xf32> -> tensor<2xf32>
  %rsum = tile.reduce sum %x2, 1 : tensor<2x512xf32> -> tensor<2xf32>
  %bv, %bi = tile.argmax %x2, 1 : tensor<2x512xf32> -> tensor<2xf32>, tensor<2xi32>
  %rmin = tile.reduce min %y2, 1 : tensor<2x512xi32> -> tensor<2xi32>
  %iv, %ii = tile.argmax %y2, 1 : tensor<2x512xi32> -> tensor<2xi32>, tensor<2xi32>
  %r = tile.make_range 0 to 2 : tensor<2xi32>
  %max0 = tile.splat %max : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %maxp = tile.addptr %max0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %maxp, %rmax : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %sum0 = tile.splat %sum : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %sump = tile.addptr %sum0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %sump, %rsum : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %best0 = tile.splat %best : !tile.ptr<f32> -> tensor<2x!tile.ptr<f32>>
  %bestp = tile.addptr %best0, %r : tensor<2x!tile.ptr<f32>>, tensor<2xi32>
  tile.store %bestp, %bv : tensor<2x!tile.ptr<f32>>, tensor<2xf32>
  %where0 = tile.splat %where : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %wherep = tile.addptr %where0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %wherep, %bi : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %imin0 = tile.splat %imin : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iminp = tile.addptr %imin0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iminp, %rmin : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  %iwhere0 = tile.splat %iwhere : !tile.ptr<i32> -> tensor<2x!tile.ptr<i32>>
  %iwherep = tile.addptr %iwhere0, %r : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  tile.store %iwherep, %ii : tensor<2x!tile.ptr<i32>>, tensor<2xi32>
  return
}
