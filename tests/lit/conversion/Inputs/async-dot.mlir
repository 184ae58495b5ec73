// Dots whose bf16 operands come from global memory by cp.async (dot=mma), run on
// the emulator by emulate.test; the shapes of the routed attention kernel.

// S = Q K^T, Q [32 x 64] gathered by a row index (rows >= m masked off), K^T
// [64 x 32] loaded from K [keys x 72] (key columns >= nk masked off): A runs
// along K, B along its dim 0 (staged [N, K], plain ldmatrix). 4 warps.
func.func @qk(%q: !tile.ptr<bf16>, %idx: !tile.ptr<i32>, %k: !tile.ptr<bf16>, %s: !tile.ptr<f32>,
              %m: i32, %nk: i32) attributes {tile.num_warps = 4 : i32} {
  %i = tile.make_range 0 to 32 : tensor<32xi32>
  %ms = tile.splat %m : i32 -> tensor<32xi32>
  %rowOk = arith.cmpi slt, %i, %ms : tensor<32xi32>
  %zi = arith.constant dense<0> : tensor<32xi32>
  %pi0 = tile.splat %idx : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
  %pi = tile.addptr %pi0, %i : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
  %rows = tile.load %pi, mask %rowOk, other %zi : (tensor<32x!tile.ptr<i32>>, tensor<32xi1>, tensor<32xi32>) -> tensor<32xi32>
  %qStride = arith.constant dense<80> : tensor<32xi32>
  %rowOff = arith.muli %rows, %qStride : tensor<32xi32>
  %ro2 = tile.expand_dims %rowOff, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %roB = tile.broadcast %ro2 : tensor<32x1xi32> -> tensor<32x64xi32>
  %d = tile.make_range 0 to 64 : tensor<64xi32>
  %d2 = tile.expand_dims %d, 0 : tensor<64xi32> -> tensor<1x64xi32>
  %dB = tile.broadcast %d2 : tensor<1x64xi32> -> tensor<32x64xi32>
  %qOff = arith.addi %roB, %dB : tensor<32x64xi32>
  %ok2 = tile.expand_dims %rowOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %qMask = tile.broadcast %ok2 : tensor<32x1xi1> -> tensor<32x64xi1>
  %zq = arith.constant dense<0.0> : tensor<32x64xbf16>
  %qs = tile.splat %q : !tile.ptr<bf16> -> tensor<32x64x!tile.ptr<bf16>>
  %qp = tile.addptr %qs, %qOff : tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi32>
  %qv = tile.load %qp, mask %qMask, other %zq : (tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi1>, tensor<32x64xbf16>) -> tensor<32x64xbf16>

  %nks = tile.splat %nk : i32 -> tensor<32xi32>
  %colOk = arith.cmpi slt, %i, %nks : tensor<32xi32>
  %kStride = arith.constant dense<72> : tensor<32xi32>
  %kRow = arith.muli %i, %kStride : tensor<32xi32>
  %kr2 = tile.expand_dims %kRow, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %krB = tile.broadcast %kr2 : tensor<1x32xi32> -> tensor<64x32xi32>
  %dc = tile.expand_dims %d, 1 : tensor<64xi32> -> tensor<64x1xi32>
  %dcB = tile.broadcast %dc : tensor<64x1xi32> -> tensor<64x32xi32>
  %kOff = arith.addi %krB, %dcB : tensor<64x32xi32>
  %col2 = tile.expand_dims %colOk, 0 : tensor<32xi1> -> tensor<1x32xi1>
  %kMask = tile.broadcast %col2 : tensor<1x32xi1> -> tensor<64x32xi1>
  %zk = arith.constant dense<0.0> : tensor<64x32xbf16>
  %ks = tile.splat %k : !tile.ptr<bf16> -> tensor<64x32x!tile.ptr<bf16>>
  %kp = tile.addptr %ks, %kOff : tensor<64x32x!tile.ptr<bf16>>, tensor<64x32xi32>
  %kv = tile.load %kp, mask %kMask, other %zk : (tensor<64x32x!tile.ptr<bf16>>, tensor<64x32xi1>, tensor<64x32xbf16>) -> tensor<64x32xbf16>

  %zero = arith.constant dense<0.0> : tensor<32x32xf32>
  %sv = tile.dot %qv, %kv, %zero : tensor<32x64xbf16> * tensor<64x32xbf16> -> tensor<32x32xf32>
  %c32 = arith.constant dense<32> : tensor<32xi32>
  %sr = arith.muli %i, %c32 : tensor<32xi32>
  %sr2 = tile.expand_dims %sr, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %srB = tile.broadcast %sr2 : tensor<32x1xi32> -> tensor<32x32xi32>
  %sc2 = tile.expand_dims %i, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %scB = tile.broadcast %sc2 : tensor<1x32xi32> -> tensor<32x32xi32>
  %sOff = arith.addi %srB, %scB : tensor<32x32xi32>
  %ss = tile.splat %s : !tile.ptr<f32> -> tensor<32x32x!tile.ptr<f32>>
  %sp = tile.addptr %ss, %sOff : tensor<32x32x!tile.ptr<f32>>, tensor<32x32xi32>
  tile.store %sp, %sv : tensor<32x32x!tile.ptr<f32>>, tensor<32x32xf32>
  return
}

// O = C + P V, P [32 x 32] from rows of 40 (rows >= m masked off), V [32 x 64]
// from rows of 72 (key rows >= nk masked off): both run along their last axis.
// C is loaded (f32, no cp.async) and staged. 4 warps.
func.func @pv(%p: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %m: i32, %nk: i32)
    attributes {tile.num_warps = 4 : i32} {
  %i = tile.make_range 0 to 32 : tensor<32xi32>
  %d = tile.make_range 0 to 64 : tensor<64xi32>
  %ms = tile.splat %m : i32 -> tensor<32xi32>
  %rowOk = arith.cmpi slt, %i, %ms : tensor<32xi32>
  %pStride = arith.constant dense<40> : tensor<32xi32>
  %pr = arith.muli %i, %pStride : tensor<32xi32>
  %pr2 = tile.expand_dims %pr, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %prB = tile.broadcast %pr2 : tensor<32x1xi32> -> tensor<32x32xi32>
  %j2 = tile.expand_dims %i, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %jB = tile.broadcast %j2 : tensor<1x32xi32> -> tensor<32x32xi32>
  %pOff = arith.addi %prB, %jB : tensor<32x32xi32>
  %ok2 = tile.expand_dims %rowOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %pMask = tile.broadcast %ok2 : tensor<32x1xi1> -> tensor<32x32xi1>
  %zp = arith.constant dense<0.0> : tensor<32x32xbf16>
  %ps = tile.splat %p : !tile.ptr<bf16> -> tensor<32x32x!tile.ptr<bf16>>
  %pp = tile.addptr %ps, %pOff : tensor<32x32x!tile.ptr<bf16>>, tensor<32x32xi32>
  %pv = tile.load %pp, mask %pMask, other %zp : (tensor<32x32x!tile.ptr<bf16>>, tensor<32x32xi1>, tensor<32x32xbf16>) -> tensor<32x32xbf16>

  %nks = tile.splat %nk : i32 -> tensor<32xi32>
  %keyOk = arith.cmpi slt, %i, %nks : tensor<32xi32>
  %vStride = arith.constant dense<72> : tensor<32xi32>
  %vr = arith.muli %i, %vStride : tensor<32xi32>
  %vr2 = tile.expand_dims %vr, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %vrB = tile.broadcast %vr2 : tensor<32x1xi32> -> tensor<32x64xi32>
  %d2 = tile.expand_dims %d, 0 : tensor<64xi32> -> tensor<1x64xi32>
  %dB = tile.broadcast %d2 : tensor<1x64xi32> -> tensor<32x64xi32>
  %vOff = arith.addi %vrB, %dB : tensor<32x64xi32>
  %key2 = tile.expand_dims %keyOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %vMask = tile.broadcast %key2 : tensor<32x1xi1> -> tensor<32x64xi1>
  %zv = arith.constant dense<0.0> : tensor<32x64xbf16>
  %vs = tile.splat %v : !tile.ptr<bf16> -> tensor<32x64x!tile.ptr<bf16>>
  %vp = tile.addptr %vs, %vOff : tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi32>
  %vv = tile.load %vp, mask %vMask, other %zv : (tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi1>, tensor<32x64xbf16>) -> tensor<32x64xbf16>

  %c64 = arith.constant dense<64> : tensor<32xi32>
  %or = arith.muli %i, %c64 : tensor<32xi32>
  %or2 = tile.expand_dims %or, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %orB = tile.broadcast %or2 : tensor<32x1xi32> -> tensor<32x64xi32>
  %oOff = arith.addi %orB, %dB : tensor<32x64xi32>
  %os = tile.splat %o : !tile.ptr<f32> -> tensor<32x64x!tile.ptr<f32>>
  %op = tile.addptr %os, %oOff : tensor<32x64x!tile.ptr<f32>>, tensor<32x64xi32>
  %acc = tile.load %op : (tensor<32x64x!tile.ptr<f32>>) -> tensor<32x64xf32>
  %out = tile.dot %pv, %vv, %acc : tensor<32x32xbf16> * tensor<32x64xbf16> -> tensor<32x64xf32>
  tile.store %op, %out : tensor<32x64x!tile.ptr<f32>>, tensor<32x64xf32>
  return
}

// For each of 2 query tiles t: S_t = sum_j Q_t K_j^T over the 32-key tiles j
// of K [64 x 72] (keys >= nk masked off), Q_t gathered by idx[32 t + i] (rows
// >= m masked off). Q_t is loaded outside the key loop: its copy is resident,
// issued where the load stands and read by both runs of the dot; the next
// query tile's copy waits for the previous one and for every thread's reads.
// The key loop runs to kend (64; 0 leaves every copy of Q unread: the next
// copy into the same bytes must still wait for it).
func.func @qk_loop(%q: !tile.ptr<bf16>, %idx: !tile.ptr<i32>, %k: !tile.ptr<bf16>, %s: !tile.ptr<f32>,
                   %m: i32, %nk: i32, %kend: i32) attributes {tile.num_warps = 4 : i32} {
  %c0 = arith.constant 0 : i32
  %c2 = arith.constant 2 : i32
  %c1 = arith.constant 1 : i32
  %c32s = arith.constant 32 : i32
  %c1024 = arith.constant 1024 : i32
  %i = tile.make_range 0 to 32 : tensor<32xi32>
  %d = tile.make_range 0 to 64 : tensor<64xi32>
  %ms = tile.splat %m : i32 -> tensor<32xi32>
  %rowOk = arith.cmpi slt, %i, %ms : tensor<32xi32>
  %ok2 = tile.expand_dims %rowOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %qMask = tile.broadcast %ok2 : tensor<32x1xi1> -> tensor<32x64xi1>
  %nks = tile.splat %nk : i32 -> tensor<32xi32>
  scf.for %t = %c0 to %c2 step %c1 : i32 {
    %t32 = arith.muli %t, %c32s : i32
    %t32s = tile.splat %t32 : i32 -> tensor<32xi32>
    %slot = arith.addi %t32s, %i : tensor<32xi32>
    %zi = arith.constant dense<0> : tensor<32xi32>
    %pi0 = tile.splat %idx : !tile.ptr<i32> -> tensor<32x!tile.ptr<i32>>
    %pi = tile.addptr %pi0, %slot : tensor<32x!tile.ptr<i32>>, tensor<32xi32>
    %rows = tile.load %pi, mask %rowOk, other %zi : (tensor<32x!tile.ptr<i32>>, tensor<32xi1>, tensor<32xi32>) -> tensor<32xi32>
    %qStride = arith.constant dense<80> : tensor<32xi32>
    %rowOff = arith.muli %rows, %qStride : tensor<32xi32>
    %ro2 = tile.expand_dims %rowOff, 1 : tensor<32xi32> -> tensor<32x1xi32>
    %roB = tile.broadcast %ro2 : tensor<32x1xi32> -> tensor<32x64xi32>
    %d2 = tile.expand_dims %d, 0 : tensor<64xi32> -> tensor<1x64xi32>
    %dB = tile.broadcast %d2 : tensor<1x64xi32> -> tensor<32x64xi32>
    %qOff = arith.addi %roB, %dB : tensor<32x64xi32>
    %zq = arith.constant dense<0.0> : tensor<32x64xbf16>
    %qs = tile.splat %q : !tile.ptr<bf16> -> tensor<32x64x!tile.ptr<bf16>>
    %qp = tile.addptr %qs, %qOff : tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi32>
    %qv = tile.load %qp, mask %qMask, other %zq : (tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi1>, tensor<32x64xbf16>) -> tensor<32x64xbf16>
    %zero = arith.constant dense<0.0> : tensor<32x32xf32>
    %sum = scf.for %n0 = %c0 to %kend step %c32s iter_args(%acc = %zero) -> (tensor<32x32xf32>) : i32 {
      %n0s = tile.splat %n0 : i32 -> tensor<32xi32>
      %keys = arith.addi %n0s, %i : tensor<32xi32>
      %colOk = arith.cmpi slt, %keys, %nks : tensor<32xi32>
      %kStride = arith.constant dense<72> : tensor<32xi32>
      %kRow = arith.muli %keys, %kStride : tensor<32xi32>
      %kr2 = tile.expand_dims %kRow, 0 : tensor<32xi32> -> tensor<1x32xi32>
      %krB = tile.broadcast %kr2 : tensor<1x32xi32> -> tensor<64x32xi32>
      %dc = tile.expand_dims %d, 1 : tensor<64xi32> -> tensor<64x1xi32>
      %dcB = tile.broadcast %dc : tensor<64x1xi32> -> tensor<64x32xi32>
      %kOff = arith.addi %krB, %dcB : tensor<64x32xi32>
      %col2 = tile.expand_dims %colOk, 0 : tensor<32xi1> -> tensor<1x32xi1>
      %kMask = tile.broadcast %col2 : tensor<1x32xi1> -> tensor<64x32xi1>
      %zk = arith.constant dense<0.0> : tensor<64x32xbf16>
      %ks = tile.splat %k : !tile.ptr<bf16> -> tensor<64x32x!tile.ptr<bf16>>
      %kp = tile.addptr %ks, %kOff : tensor<64x32x!tile.ptr<bf16>>, tensor<64x32xi32>
      %kv = tile.load %kp, mask %kMask, other %zk : (tensor<64x32x!tile.ptr<bf16>>, tensor<64x32xi1>, tensor<64x32xbf16>) -> tensor<64x32xbf16>
      %next = tile.dot %qv, %kv, %acc : tensor<32x64xbf16> * tensor<64x32xbf16> -> tensor<32x32xf32>
      scf.yield %next : tensor<32x32xf32>
    }
    %t1024 = arith.muli %t, %c1024 : i32
    %c32 = arith.constant dense<32> : tensor<32xi32>
    %sr = arith.muli %i, %c32 : tensor<32xi32>
    %sr2 = tile.expand_dims %sr, 1 : tensor<32xi32> -> tensor<32x1xi32>
    %srB = tile.broadcast %sr2 : tensor<32x1xi32> -> tensor<32x32xi32>
    %sc2 = tile.expand_dims %i, 0 : tensor<32xi32> -> tensor<1x32xi32>
    %scB = tile.broadcast %sc2 : tensor<1x32xi32> -> tensor<32x32xi32>
    %sOff0 = arith.addi %srB, %scB : tensor<32x32xi32>
    %tB = tile.splat %t1024 : i32 -> tensor<32x32xi32>
    %sOff = arith.addi %sOff0, %tB : tensor<32x32xi32>
    %ss = tile.splat %s : !tile.ptr<f32> -> tensor<32x32x!tile.ptr<f32>>
    %sp = tile.addptr %ss, %sOff : tensor<32x32x!tile.ptr<f32>>, tensor<32x32xi32>
    tile.store %sp, %sum : tensor<32x32x!tile.ptr<f32>>, tensor<32x32xf32>
  }
  return
}

// pv on 8 warps: P's 128 runs leave threads 128-255 without one.
func.func @pv8(%p: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %m: i32, %nk: i32)
    attributes {tile.num_warps = 8 : i32} {
  %i = tile.make_range 0 to 32 : tensor<32xi32>
  %d = tile.make_range 0 to 64 : tensor<64xi32>
  %ms = tile.splat %m : i32 -> tensor<32xi32>
  %rowOk = arith.cmpi slt, %i, %ms : tensor<32xi32>
  %pStride = arith.constant dense<40> : tensor<32xi32>
  %pr = arith.muli %i, %pStride : tensor<32xi32>
  %pr2 = tile.expand_dims %pr, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %prB = tile.broadcast %pr2 : tensor<32x1xi32> -> tensor<32x32xi32>
  %j2 = tile.expand_dims %i, 0 : tensor<32xi32> -> tensor<1x32xi32>
  %jB = tile.broadcast %j2 : tensor<1x32xi32> -> tensor<32x32xi32>
  %pOff = arith.addi %prB, %jB : tensor<32x32xi32>
  %ok2 = tile.expand_dims %rowOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %pMask = tile.broadcast %ok2 : tensor<32x1xi1> -> tensor<32x32xi1>
  %zp = arith.constant dense<0.0> : tensor<32x32xbf16>
  %ps = tile.splat %p : !tile.ptr<bf16> -> tensor<32x32x!tile.ptr<bf16>>
  %pp = tile.addptr %ps, %pOff : tensor<32x32x!tile.ptr<bf16>>, tensor<32x32xi32>
  %pv = tile.load %pp, mask %pMask, other %zp : (tensor<32x32x!tile.ptr<bf16>>, tensor<32x32xi1>, tensor<32x32xbf16>) -> tensor<32x32xbf16>

  %nks = tile.splat %nk : i32 -> tensor<32xi32>
  %keyOk = arith.cmpi slt, %i, %nks : tensor<32xi32>
  %vStride = arith.constant dense<72> : tensor<32xi32>
  %vr = arith.muli %i, %vStride : tensor<32xi32>
  %vr2 = tile.expand_dims %vr, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %vrB = tile.broadcast %vr2 : tensor<32x1xi32> -> tensor<32x64xi32>
  %d2 = tile.expand_dims %d, 0 : tensor<64xi32> -> tensor<1x64xi32>
  %dB = tile.broadcast %d2 : tensor<1x64xi32> -> tensor<32x64xi32>
  %vOff = arith.addi %vrB, %dB : tensor<32x64xi32>
  %key2 = tile.expand_dims %keyOk, 1 : tensor<32xi1> -> tensor<32x1xi1>
  %vMask = tile.broadcast %key2 : tensor<32x1xi1> -> tensor<32x64xi1>
  %zv = arith.constant dense<0.0> : tensor<32x64xbf16>
  %vs = tile.splat %v : !tile.ptr<bf16> -> tensor<32x64x!tile.ptr<bf16>>
  %vp = tile.addptr %vs, %vOff : tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi32>
  %vv = tile.load %vp, mask %vMask, other %zv : (tensor<32x64x!tile.ptr<bf16>>, tensor<32x64xi1>, tensor<32x64xbf16>) -> tensor<32x64xbf16>

  %c64 = arith.constant dense<64> : tensor<32xi32>
  %or = arith.muli %i, %c64 : tensor<32xi32>
  %or2 = tile.expand_dims %or, 1 : tensor<32xi32> -> tensor<32x1xi32>
  %orB = tile.broadcast %or2 : tensor<32x1xi32> -> tensor<32x64xi32>
  %oOff = arith.addi %orB, %dB : tensor<32x64xi32>
  %os = tile.splat %o : !tile.ptr<f32> -> tensor<32x64x!tile.ptr<f32>>
  %op = tile.addptr %os, %oOff : tensor<32x64x!tile.ptr<f32>>, tensor<32x64xi32>
  %acc = tile.load %op : (tensor<32x64x!tile.ptr<f32>>) -> tensor<32x64xf32>
  %out = tile.dot %pv, %vv, %acc : tensor<32x32xbf16> * tensor<32x64xbf16> -> tensor<32x64xf32>
  tile.store %op, %out : tensor<32x64x!tile.ptr<f32>>, tensor<32x64xf32>
  return
}
