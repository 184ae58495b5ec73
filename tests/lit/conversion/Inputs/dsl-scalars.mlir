// The module KernelBuilderTest.ScalarKernelVerifiesAndLowers builds with the DSL
// (a scalar masked load, a scalar where, a loop without carried values), as printed
// by MOBAGEN_PRINT_DSL_SCALARS=<file>; run by dsl-scalars-emulated.test.
module {
  func.func @dsl_scalars(%arg0: !tile.ptr<f32>, %arg1: !tile.ptr<f32>, %arg2: i32) {
    %0 = tile.program_id x
    %1 = arith.cmpi slt, %0, %arg2 : i32
    %2 = tile.addptr %arg0, %0 : !tile.ptr<f32>, i32
    %cst = arith.constant -1.000000e+00 : f32
    %3 = tile.load %2, mask %1, other %cst : (!tile.ptr<f32>, i1, f32) -> f32
    %cst_0 = arith.constant 8.000000e+00 : f32
    %4 = arith.addf %3, %cst_0 : f32
    %cst_1 = arith.constant 2.000000e+00 : f32
    %5 = arith.mulf %3, %cst_1 : f32
    %6 = arith.select %1, %5, %4 : f32
    %c1_i32 = arith.constant 1 : i32
    %c4_i32 = arith.constant 4 : i32
    %c0_i32 = arith.constant 0 : i32
    scf.for %arg3 = %c0_i32 to %c4_i32 step %c1_i32  : i32 {
      %7 = arith.sitofp %arg3 : i32 to f32
      %8 = arith.addf %6, %7 : f32
      %c4_i32_2 = arith.constant 4 : i32
      %9 = arith.muli %0, %c4_i32_2 : i32
      %10 = arith.addi %9, %arg3 : i32
      %11 = tile.addptr %arg1, %10 : !tile.ptr<f32>, i32
      tile.store %11, %8 : !tile.ptr<f32>, f32
    }
    return
  }
}
