// What the baseline lowering does not handle is an error at the op, never skipped.
// RUN: mobagen-opt %s -split-input-file -verify-diagnostics --convert-tile-to-nvvm

// expected-error @+1 {{kernel arguments are scalars or pointers, not tiles}}
func.func @tile_argument(%x: tensor<32xf32>) {
  return
}

// -----

func.func @non_splat_constant(%dst: !tile.ptr<f32>) {
  // expected-error @+1 {{a non-splat constant tile is not supported yet}}
  %c = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return
}

// -----

func.func @f64_exp2(%x: f64) {
  // expected-error @+1 {{is lowered for f32 only (got 'f64')}}
  %e = math.exp2 %x : f64
  return
}

// -----

func.func @unsupported(%x: i32) {
  // expected-error @+1 {{'scf.while' op is not supported by convert-tile-to-nvvm}}
  scf.while : () -> () {
    %false = arith.constant false
    scf.condition(%false)
  } do {
    scf.yield
  }
  return
}
