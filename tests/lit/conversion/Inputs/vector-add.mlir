// out[i] = x[i] + y[i] for i < n: 256 elements per program, masked tail.
func.func @add(%x: !tile.ptr<f32>, %y: !tile.ptr<f32>, %out: !tile.ptr<f32>, %n: i32) {
  %pid = tile.program_id x
  %c = arith.constant 256 : i32
  %base = arith.muli %pid, %c : i32
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %b = tile.splat %base : i32 -> tensor<256xi32>
  %offs = arith.addi %b, %r : tensor<256xi32>
  %nn = tile.splat %n : i32 -> tensor<256xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<256xi32>
  %xp0 = tile.splat %x : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %xp = tile.addptr %xp0, %offs : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %yp0 = tile.splat %y : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %yp = tile.addptr %yp0, %offs : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %op0 = tile.splat %out : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %op = tile.addptr %op0, %offs : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %xv = tile.load %xp, mask %mask : (tensor<256x!tile.ptr<f32>>, tensor<256xi1>) -> tensor<256xf32>
  %yv = tile.load %yp, mask %mask : (tensor<256x!tile.ptr<f32>>, tensor<256xi1>) -> tensor<256xf32>
  %s = arith.addf %xv, %yv : tensor<256xf32>
  tile.store %op, %s, mask %mask : tensor<256x!tile.ptr<f32>>, tensor<256xf32>, tensor<256xi1>
  return
}
