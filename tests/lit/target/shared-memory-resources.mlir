// nvJitLink's ptxas report is parsed per kernel: static shared memory, registers,
// and no spills, for a kernel that stages data through shared memory.
// RUN: mobagen-translate --mlir-to-cubin-resources --ptx-chip=sm_80 %s | FileCheck %s
// CHECK: kernel reverse_in_shared: registers {{[1-9][0-9]*}}, stack 0, spill stores 0, spill loads 0, smem 1024

gpu.module @kernels {
  llvm.mlir.global internal @tile() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<256 x f32>

  llvm.func @reverse_in_shared(%data: !llvm.ptr<1>) attributes {nvvm.kernel} {
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %c255 = llvm.mlir.constant(255 : i32) : i32
    %tile = llvm.mlir.addressof @tile : !llvm.ptr<3>
    %src = llvm.getelementptr %data[%tid] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    %x = llvm.load %src : !llvm.ptr<1> -> f32
    %slot = llvm.getelementptr %tile[0, %tid] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<256 x f32>
    llvm.store %x, %slot : f32, !llvm.ptr<3>
    nvvm.barrier0
    %mirror = llvm.sub %c255, %tid : i32
    %other = llvm.getelementptr %tile[0, %mirror] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<256 x f32>
    %y = llvm.load %other : !llvm.ptr<3> -> f32
    llvm.store %y, %src : f32, !llvm.ptr<1>
    llvm.return
  }
}

// -----
// Two kernels with different resources: nvJitLink's log names each kernel twice
// (ptxas's report, then a link summary); each number must stay with its kernel.
// RUN: mobagen-translate --mlir-to-cubin-resources --ptx-chip=sm_80 %S/Inputs/two-kernels.mlir | FileCheck %s --check-prefix=TWO
// TWO-DAG: kernel small_stage: registers {{[0-9]+}}, stack 0, spill stores 0, spill loads 0, smem 64
// TWO-DAG: kernel large_stage: registers {{[0-9]+}}, stack 0, spill stores 0, spill loads 0, smem 4096
