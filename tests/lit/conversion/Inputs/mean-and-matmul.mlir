// Mean of each column of a [16 x 64] bf16 tile -> f32 [64] (key pooling's core).
func.func @column_mean(%k: !tile.ptr<bf16>, %out: !tile.ptr<f32>) {
  %rows = tile.make_range 0 to 16 : tensor<16xi32>
  %cols = tile.make_range 0 to 64 : tensor<64xi32>
  %r2 = tile.expand_dims %rows, 1 : tensor<16xi32> -> tensor<16x1xi32>
  %c64 = arith.constant dense<64> : tensor<16x1xi32>
  %rs = arith.muli %r2, %c64 : tensor<16x1xi32>
  %rb = tile.broadcast %rs : tensor<16x1xi32> -> tensor<16x64xi32>
  %c2 = tile.expand_dims %cols, 0 : tensor<64xi32> -> tensor<1x64xi32>
  %cb = tile.broadcast %c2 : tensor<1x64xi32> -> tensor<16x64xi32>
  %offs = arith.addi %rb, %cb : tensor<16x64xi32>
  %kp0 = tile.splat %k : !tile.ptr<bf16> -> tensor<16x64x!tile.ptr<bf16>>
  %kp = tile.addptr %kp0, %offs : tensor<16x64x!tile.ptr<bf16>>, tensor<16x64xi32>
  %kv = tile.load %kp : (tensor<16x64x!tile.ptr<bf16>>) -> tensor<16x64xbf16>
  %kf = arith.extf %kv : tensor<16x64xbf16> to tensor<16x64xf32>
  %sum = tile.reduce sum %kf, 0 : tensor<16x64xf32> -> tensor<64xf32>
  %n = arith.constant dense<16.0> : tensor<64xf32>
  %mean = arith.divf %sum, %n : tensor<64xf32>
  %op0 = tile.splat %out : !tile.ptr<f32> -> tensor<64x!tile.ptr<f32>>
  %op = tile.addptr %op0, %cols : tensor<64x!tile.ptr<f32>>, tensor<64xi32>
  tile.store %op, %mean : tensor<64x!tile.ptr<f32>>, tensor<64xf32>
  return
}

// C = A B for 16x16 bf16 tiles (row-major), then the largest element of C and its
// index (ties to the lowest) into best[0] and where[0].
func.func @matmul(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %best_out: !tile.ptr<f32>, %where_out: !tile.ptr<i32>) {
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %a0 = tile.splat %a : !tile.ptr<bf16> -> tensor<256x!tile.ptr<bf16>>
  %ap = tile.addptr %a0, %r : tensor<256x!tile.ptr<bf16>>, tensor<256xi32>
  %av = tile.load %ap : (tensor<256x!tile.ptr<bf16>>) -> tensor<256xbf16>
  %am = tile.reshape %av : tensor<256xbf16> -> tensor<16x16xbf16>
  %b0 = tile.splat %b : !tile.ptr<bf16> -> tensor<256x!tile.ptr<bf16>>
  %bp = tile.addptr %b0, %r : tensor<256x!tile.ptr<bf16>>, tensor<256xi32>
  %bv = tile.load %bp : (tensor<256x!tile.ptr<bf16>>) -> tensor<256xbf16>
  %bm = tile.reshape %bv : tensor<256xbf16> -> tensor<16x16xbf16>
  %zero = arith.constant dense<0.0> : tensor<16x16xf32>
  %d = tile.dot %am, %bm, %zero : tensor<16x16xbf16> * tensor<16x16xbf16> -> tensor<16x16xf32>
  %dv = tile.reshape %d : tensor<16x16xf32> -> tensor<256xf32>
  %c0 = tile.splat %c : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %cp = tile.addptr %c0, %r : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  tile.store %cp, %dv : tensor<256x!tile.ptr<f32>>, tensor<256xf32>
  %best, %where = tile.argmax %dv, 0 : tensor<256xf32> -> f32, i32
  tile.store %best_out, %best : !tile.ptr<f32>, f32
  tile.store %where_out, %where : !tile.ptr<i32>, i32
  return
}
