// Every rule of the tile dialect's verifiers (types and ops), one case each.
// RUN: mobagen-opt -split-input-file -verify-diagnostics %s
// pointee must be a scalar
// expected-error @+1 {{!tile.ptr pointee must be an integer or float type, got 'index'}}
func.func @f(%p: !tile.ptr<index>) {
  return
}

// -----

// address space must be global or shared
// expected-error @+1 {{!tile.ptr address space 2 is not supported: must be 1 (global) or 3 (shared)}}
func.func @f(%p: !tile.ptr<f32, 2>) {
  return
}

// -----

// tiles have static shapes
func.func @f(%t: tensor<?xf32>) {
  // expected-error @+1 {{operand #0 must be tile of floating-point or signless integer or pointer to a scalar in global (1) or shared (3) memory values, but got 'tensor<?xf32>'}}
  %0 = tile.reshape %t : tensor<?xf32> -> tensor<4xf32>
  return
}

// -----

// unknown grid axis
func.func @f() {
  // expected-error @+2 {{expected one of [x, y, z] for an axis of the launch grid, got: w}}
  // expected-error @+1 {{invalid value for property axis, expected an axis of the launch grid}}
  %0 = tile.program_id w
  return
}

// -----

// make_range: empty
func.func @f() {
  // expected-error @+1 {{range 8 to 8 is empty: end must be greater than start}}
  %0 = tile.make_range 8 to 8 : tensor<0xi32>
  return
}

// -----

// make_range: power of two
func.func @f() {
  // expected-error @+1 {{range 0 to 48 has 48 elements: must be a power of two}}
  %0 = tile.make_range 0 to 48 : tensor<48xi32>
  return
}

// -----

// make_range: result size
func.func @f() {
  // expected-error @+1 {{result shape [32] does not hold the 64 elements of range 0 to 64}}
  %0 = tile.make_range 0 to 64 : tensor<32xi32>
  return
}

// -----

// splat: element type
func.func @f(%x: f32) {
  // expected-error @+1 {{result element type 'f16' differs from the scalar's type 'f32'}}
  %0 = tile.splat %x : f32 -> tensor<4xf16>
  return
}

// -----

// broadcast: element type
func.func @f(%t: tensor<1x4xf32>) {
  // expected-error @+1 {{result element type 'f16' differs from the operand's 'f32'}}
  %0 = tile.broadcast %t : tensor<1x4xf32> -> tensor<8x4xf16>
  return
}

// -----

// broadcast: rank
func.func @f(%t: tensor<4xf32>) {
  // expected-error @+1 {{operand shape [4] and result shape [8, 4] differ in rank: use tile.expand_dims first}}
  %0 = tile.broadcast %t : tensor<4xf32> -> tensor<8x4xf32>
  return
}

// -----

// broadcast: only size-1 dims
func.func @f(%t: tensor<2x4xf32>) {
  // expected-error @+1 {{cannot broadcast dim 0 from 2 to 8: only size-1 dims broadcast}}
  %0 = tile.broadcast %t : tensor<2x4xf32> -> tensor<8x4xf32>
  return
}

// -----

// expand_dims: axis range
func.func @f(%t: tensor<4xf32>) {
  // expected-error @+1 {{axis 2 is out of range for a rank-1 tile: must be in [0, 1]}}
  %0 = tile.expand_dims %t, 2 : tensor<4xf32> -> tensor<4x1xf32>
  return
}

// -----

// expand_dims: result
func.func @f(%t: tensor<4xf32>) {
  // expected-error @+1 {{result type 'tensor<4x1xf32>' should be 'tensor<1x4xf32>' (a size-1 dim inserted at axis 0)}}
  %0 = tile.expand_dims %t, 0 : tensor<4xf32> -> tensor<4x1xf32>
  return
}

// -----

// reshape: element type
func.func @f(%t: tensor<4x4xf32>) {
  // expected-error @+1 {{result element type 'i32' differs from the operand's 'f32'}}
  %0 = tile.reshape %t : tensor<4x4xf32> -> tensor<16xi32>
  return
}

// -----

// reshape: element count
func.func @f(%t: tensor<4x4xf32>) {
  // expected-error @+1 {{cannot reshape [4, 4] (16 elements) to [32] (32 elements)}}
  %0 = tile.reshape %t : tensor<4x4xf32> -> tensor<32xf32>
  return
}

// -----

// addptr: offsets have the pointers' shape
func.func @f(%p: tensor<64x!tile.ptr<f16>>, %o: tensor<32xi32>) {
  // expected-error @+1 {{offset shape [32] differs from ptr shape [64]}}
  %0 = tile.addptr %p, %o : tensor<64x!tile.ptr<f16>>, tensor<32xi32>
  return
}

// -----

// addptr: a scalar pointer takes a scalar offset
func.func @f(%p: !tile.ptr<f16>, %o: tensor<32xi32>) {
  // expected-error @+1 {{offset shape [32] differs from ptr shape scalar}}
  %0 = tile.addptr %p, %o : !tile.ptr<f16>, tensor<32xi32>
  return
}

// -----

// load: result shape
func.func @f(%p: tensor<64x!tile.ptr<f16>>) {
  // expected-error @+1 {{result shape [32] differs from ptr shape [64]}}
  %0 = tile.load %p : (tensor<64x!tile.ptr<f16>>) -> tensor<32xf16>
  return
}

// -----

// load: result element type is the pointee
func.func @f(%p: tensor<64x!tile.ptr<f16>>) {
  // expected-error @+1 {{result element type 'f32' differs from the pointee type 'f16'}}
  %0 = tile.load %p : (tensor<64x!tile.ptr<f16>>) -> tensor<64xf32>
  return
}

// -----

// load: mask shape
func.func @f(%p: tensor<64x128x!tile.ptr<f16>>, %m: tensor<64xi1>) {
  // expected-error @+1 {{mask shape [64] differs from ptr shape [64, 128]}}
  %0 = tile.load %p, mask %m : (tensor<64x128x!tile.ptr<f16>>, tensor<64xi1>) -> tensor<64x128xf16>
  return
}

// -----

// load: mask elements are i1
func.func @f(%p: tensor<64x!tile.ptr<f16>>, %m: tensor<64xi8>) {
  // expected-error @+1 {{operand #1 must be i1 or tile of i1, but got 'tensor<64xi8>'}}
  %0 = tile.load %p, mask %m : (tensor<64x!tile.ptr<f16>>, tensor<64xi8>) -> tensor<64xf16>
  return
}

// -----

// load: other needs a mask
func.func @f(%p: tensor<64x!tile.ptr<f16>>, %o: tensor<64xf16>) {
  // expected-error @+2 {{has `other` but no mask: `other` fills the masked-off positions}}
  // (the custom syntax cannot even spell this: `other` follows `mask`)
  %0 = "tile.load"(%p, %o) <{operandSegmentSizes = array<i32: 1, 0, 1>}>
      : (tensor<64x!tile.ptr<f16>>, tensor<64xf16>) -> tensor<64xf16>
  return
}

// -----

// load: other has the result type
func.func @f(%p: tensor<64x!tile.ptr<f16>>, %m: tensor<64xi1>, %o: tensor<64xf32>) {
  // expected-error @+1 {{other type 'tensor<64xf32>' differs from the result type 'tensor<64xf16>'}}
  %0 = tile.load %p, mask %m, other %o : (tensor<64x!tile.ptr<f16>>, tensor<64xi1>, tensor<64xf32>) -> tensor<64xf16>
  return
}

// -----

// store: value element type is the pointee
func.func @f(%p: tensor<64x!tile.ptr<bf16>>, %v: tensor<64xf32>) {
  // expected-error @+1 {{value element type 'f32' differs from the pointee type 'bf16'}}
  tile.store %p, %v : tensor<64x!tile.ptr<bf16>>, tensor<64xf32>
  return
}

// -----

// store: value shape
func.func @f(%p: tensor<64x!tile.ptr<bf16>>, %v: tensor<64x2xbf16>) {
  // expected-error @+1 {{value shape [64, 2] differs from ptr shape [64]}}
  tile.store %p, %v : tensor<64x!tile.ptr<bf16>>, tensor<64x2xbf16>
  return
}

// -----

// store: mask shape
func.func @f(%p: tensor<64x!tile.ptr<bf16>>, %v: tensor<64xbf16>, %m: i1) {
  // expected-error @+1 {{mask shape scalar differs from ptr shape [64]}}
  tile.store %p, %v, mask %m : tensor<64x!tile.ptr<bf16>>, tensor<64xbf16>, i1
  return
}

// -----

// dot: inner dimensions
func.func @f(%a: tensor<64x32xf16>, %b: tensor<16x64xf16>, %c: tensor<64x64xf32>) {
  // expected-error @+1 {{a is [64, 32] but b is [16, 64]: the inner dimensions K must agree}}
  %0 = tile.dot %a, %b, %c : tensor<64x32xf16> * tensor<16x64xf16> -> tensor<64x64xf32>
  return
}

// -----

// dot: accumulator shape
func.func @f(%a: tensor<64x32xf16>, %b: tensor<32x16xf16>, %c: tensor<64x32xf32>) {
  // expected-error @+1 {{acc shape [64, 32] should be [64, 16] for a [64, 32] x [32, 16] product}}
  %0 = tile.dot %a, %b, %c : tensor<64x32xf16> * tensor<32x16xf16> -> tensor<64x32xf32>
  return
}

// -----

// dot: smallest tile
func.func @f(%a: tensor<8x32xf16>, %b: tensor<32x16xf16>, %c: tensor<8x16xf32>) {
  // expected-error @+1 {{M = 8, N = 16, K = 32: each must be at least 16 (the smallest tensor-core tile)}}
  %0 = tile.dot %a, %b, %c : tensor<8x32xf16> * tensor<32x16xf16> -> tensor<8x16xf32>
  return
}

// -----

// dot: a and b element types
func.func @f(%a: tensor<16x16xf16>, %b: tensor<16x16xbf16>, %c: tensor<16x16xf32>) {
  // expected-error @+1 {{a has element type 'f16' but b has 'bf16': they must match}}
  %0 = tile.dot %a, %b, %c : tensor<16x16xf16> * tensor<16x16xbf16> -> tensor<16x16xf32>
  return
}

// -----

// dot: supported element types
func.func @f(%a: tensor<16x16xbf16>, %c: tensor<16x16xbf16>) {
  // expected-error @+1 {{a, b of 'bf16' with acc of 'bf16' is not supported: f16 -> f32|f16, bf16 -> f32, f32 -> f32, i8 -> i32}}
  %0 = tile.dot %a, %a, %c : tensor<16x16xbf16> * tensor<16x16xbf16> -> tensor<16x16xbf16>
  return
}

// -----

// dot: input_precision only for f32
func.func @f(%a: tensor<16x16xf16>, %c: tensor<16x16xf32>) {
  // expected-error @+1 {{input_precision = tf32 applies to f32 operands only, but a and b are 'f16'}}
  %0 = tile.dot %a, %a, %c precision = tf32 : tensor<16x16xf16> * tensor<16x16xf16> -> tensor<16x16xf32>
  return
}

// -----

// dot: result is the accumulator's type
func.func @f(%a: tensor<16x16xf16>, %c: tensor<16x16xf32>) {
  // expected-error @+1 {{failed to verify that all of {acc, result} have same type}}
  %0 = "tile.dot"(%a, %a, %c) : (tensor<16x16xf16>, tensor<16x16xf16>, tensor<16x16xf32>) -> tensor<16x16xf16>
  return
}

// -----

// reduce: axis range
func.func @f(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for a rank-2 tile: must be in [0, 2)}}
  %0 = tile.reduce sum %t, 2 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

// reduce: result type
func.func @f(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{result type 'tensor<8xf32>' does not match the reduction of 'tensor<4x8xf32>' over axis 1, which is 'tensor<4xf32>'}}
  %0 = tile.reduce max %t, 1 : tensor<4x8xf32> -> tensor<8xf32>
  return
}

// -----

// reduce: unknown kind
func.func @f(%t: tensor<4x8xf32>) {
  // expected-error @+2 {{expected one of [sum, max, min] for the combining function of a reduction, got: prod}}
  // expected-error @+1 {{invalid value for property kind, expected the combining function of a reduction}}
  %0 = tile.reduce prod %t, 1 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

// argmax: index type
func.func @f(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{index type 'tensor<4xi64>' does not match the reduction of 'tensor<4x8xf32>' over axis 1, which is 'tensor<4xi32>'}}
  %v, %i = tile.argmax %t, 1 : tensor<4x8xf32> -> tensor<4xf32>, tensor<4xi64>
  return
}

// -----

// argmax: value type
func.func @f(%t: tensor<8xf32>) {
  // expected-error @+1 {{value type 'f16' does not match the reduction of 'tensor<8xf32>' over axis 0, which is 'f32'}}
  %v, %i = tile.argmax %t, 0 : tensor<8xf32> -> f16, i32
  return
}

// -----

// tile.num_warps: a power of two in [1, 16]
// expected-error @+1 {{'func.func' op num_warps = 6 is invalid: must be a power of two in [1, 16]}}
func.func @f() attributes {tile.num_warps = 6 : i32} {
  return
}

// -----

// tile.num_warps: i32
// expected-error @+1 {{'tile.num_warps' must be an i32 integer, got 4 : i64}}
func.func @f() attributes {tile.num_warps = 4} {
  return
}

// -----

// tile.num_stages: belongs on scf.for
// expected-error @+1 {{has 'tile.num_stages', which belongs on scf.for}}
func.func @f() attributes {tile.num_stages = 2 : i32} {
  return
}

// -----

// tile.num_stages: in [1, 8]
func.func @f(%n: i32) {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  // expected-error @+1 {{'scf.for' op num_stages = 9 is invalid: must be in [1, 8]}}
  scf.for %i = %c0 to %n step %c1 : i32 {
  } {tile.num_stages = 9 : i32}
  return
}

// -----

// unknown tile.* attributes
// expected-error @+1 {{has unknown tile dialect attribute 'tile.num_threads'; known: tile.num_warps, tile.num_stages}}
func.func @f() attributes {tile.num_threads = 128 : i32} {
  return
}

// -----

// tile.dynamic_shared is a unit attribute
// expected-error @+1 {{'tile.dynamic_shared' must be a unit attribute, got 1 : i32}}
func.func @f() attributes {tile.dynamic_shared = 1 : i32} {
  return
}

// -----

// atomic_add adds i32 or f32 only
func.func @f(%p: tensor<16x!tile.ptr<f16>>, %v: tensor<16xf16>) {
  // expected-error @+1 {{'tile.atomic_add' op adds 'f16' values: only i32 and f32 atomic adds are supported}}
  %old = tile.atomic_add %p, %v : tensor<16x!tile.ptr<f16>>, tensor<16xf16>
  return
}

// -----

// atomic_add takes tiles
func.func @f(%p: !tile.ptr<i32>, %v: i32) {
  // expected-error @+1 {{'tile.atomic_add' op adds through the scalar pointer '!tile.ptr<i32>': atomic adds take tiles (a scalar has no single owner thread)}}
  %old = tile.atomic_add %p, %v : !tile.ptr<i32>, i32
  return
}

// -----

// atomic_add's value has the pointers' pointee type
func.func @f(%p: tensor<16x!tile.ptr<i32>>, %v: tensor<16xf32>) {
  // expected-error @+1 {{'tile.atomic_add' op value element type 'f32' differs from the pointee type 'i32'}}
  %old = tile.atomic_add %p, %v : tensor<16x!tile.ptr<i32>>, tensor<16xf32>
  return
}
