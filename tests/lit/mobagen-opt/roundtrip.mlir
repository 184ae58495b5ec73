// mobagen-opt parses, verifies and prints the upstream dialects the lowering ends
// in (gpu, nvvm, arith); printing twice proves the output parses back unchanged.
// RUN: mobagen-opt %s | mobagen-opt | FileCheck %s

// CHECK-LABEL: gpu.module @kernels
gpu.module @kernels {
  // CHECK: gpu.func @scale_by_two(%{{.*}}: memref<?xf32>) kernel
  gpu.func @scale_by_two(%buf: memref<?xf32>) kernel {
    // CHECK: nvvm.read.ptx.sreg.tid.x : i32
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %i = arith.index_cast %tid : i32 to index
    %x = memref.load %buf[%i] : memref<?xf32>
    %two = arith.constant 2.0 : f32
    // CHECK: arith.mulf
    %y = arith.mulf %x, %two : f32
    memref.store %y, %buf[%i] : memref<?xf32>
    gpu.return
  }
}
