// A routing step on atomics: entry i < n (256 per program, masked tail) takes the
// next free slot of its block, slot[i] = counts[block[i]]++, and adds weight[i] to
// the block's f32 total. 256 entries on 128 threads: two slots per thread, so both
// the mask and the round-robin ownership are exercised.
func.func @route(%block: !tile.ptr<i32>, %weight: !tile.ptr<f32>, %counts: !tile.ptr<i32>,
                 %totals: !tile.ptr<f32>, %slot: !tile.ptr<i32>, %n: i32)
    attributes {tile.num_warps = 4 : i32} {
  %pid = tile.program_id x
  %c = arith.constant 256 : i32
  %base = arith.muli %pid, %c : i32
  %r = tile.make_range 0 to 256 : tensor<256xi32>
  %b = tile.splat %base : i32 -> tensor<256xi32>
  %offs = arith.addi %b, %r : tensor<256xi32>
  %nn = tile.splat %n : i32 -> tensor<256xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<256xi32>
  %bp0 = tile.splat %block : !tile.ptr<i32> -> tensor<256x!tile.ptr<i32>>
  %bp = tile.addptr %bp0, %offs : tensor<256x!tile.ptr<i32>>, tensor<256xi32>
  %blk = tile.load %bp, mask %mask : (tensor<256x!tile.ptr<i32>>, tensor<256xi1>) -> tensor<256xi32>
  %wp0 = tile.splat %weight : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %wp = tile.addptr %wp0, %offs : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %w = tile.load %wp, mask %mask : (tensor<256x!tile.ptr<f32>>, tensor<256xi1>) -> tensor<256xf32>
  %cp0 = tile.splat %counts : !tile.ptr<i32> -> tensor<256x!tile.ptr<i32>>
  %cp = tile.addptr %cp0, %blk : tensor<256x!tile.ptr<i32>>, tensor<256xi32>
  %one = arith.constant dense<1> : tensor<256xi32>
  %old = tile.atomic_add %cp, %one, mask %mask : tensor<256x!tile.ptr<i32>>, tensor<256xi32>, tensor<256xi1>
  %tp0 = tile.splat %totals : !tile.ptr<f32> -> tensor<256x!tile.ptr<f32>>
  %tp = tile.addptr %tp0, %blk : tensor<256x!tile.ptr<f32>>, tensor<256xi32>
  %unused = tile.atomic_add %tp, %w, mask %mask : tensor<256x!tile.ptr<f32>>, tensor<256xf32>, tensor<256xi1>
  %sp0 = tile.splat %slot : !tile.ptr<i32> -> tensor<256x!tile.ptr<i32>>
  %sp = tile.addptr %sp0, %offs : tensor<256x!tile.ptr<i32>>, tensor<256xi32>
  tile.store %sp, %old, mask %mask : tensor<256x!tile.ptr<i32>>, tensor<256xi32>, tensor<256xi1>
  return
}
