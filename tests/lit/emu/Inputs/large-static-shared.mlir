// A kernel with 64 KiB of static shared memory: more than ptxas accepts.
gpu.module @kernels {
  llvm.mlir.global internal @big() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<16384 x f32>
  llvm.func @uses_64k(%out: !llvm.ptr<1>) attributes {nvvm.kernel} {
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %buf = llvm.mlir.addressof @big : !llvm.ptr<3>
    %slot = llvm.getelementptr %buf[0, %tid] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<16384 x f32>
    %one = llvm.mlir.constant(1.0 : f32) : f32
    llvm.store %one, %slot : f32, !llvm.ptr<3>
    nvvm.barrier0
    %x = llvm.load %slot : !llvm.ptr<3> -> f32
    %dst = llvm.getelementptr %out[%tid] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %x, %dst : f32, !llvm.ptr<1>
    llvm.return
  }
}
