gpu.module @kernels {
  llvm.mlir.global internal @small() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<16 x f32>
  llvm.mlir.global internal @large() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<1024 x f32>

  llvm.func @small_stage(%data: !llvm.ptr<1>) attributes {nvvm.kernel} {
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %buf = llvm.mlir.addressof @small : !llvm.ptr<3>
    %src = llvm.getelementptr %data[%tid] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    %x = llvm.load %src : !llvm.ptr<1> -> f32
    %slot = llvm.getelementptr %buf[0, %tid] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<16 x f32>
    llvm.store %x, %slot : f32, !llvm.ptr<3>
    nvvm.barrier0
    %c15 = llvm.mlir.constant(15 : i32) : i32
    %mirror = llvm.sub %c15, %tid : i32
    %other = llvm.getelementptr %buf[0, %mirror] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<16 x f32>
    %y = llvm.load %other : !llvm.ptr<3> -> f32
    llvm.store %y, %src : f32, !llvm.ptr<1>
    llvm.return
  }

  llvm.func @large_stage(%data: !llvm.ptr<1>) attributes {nvvm.kernel} {
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %buf = llvm.mlir.addressof @large : !llvm.ptr<3>
    %src = llvm.getelementptr %data[%tid] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    %x = llvm.load %src : !llvm.ptr<1> -> f32
    %slot = llvm.getelementptr %buf[0, %tid] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<1024 x f32>
    llvm.store %x, %slot : f32, !llvm.ptr<3>
    nvvm.barrier0
    %c1023 = llvm.mlir.constant(1023 : i32) : i32
    %mirror = llvm.sub %c1023, %tid : i32
    %other = llvm.getelementptr %buf[0, %mirror] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, !llvm.array<1024 x f32>
    %y = llvm.load %other : !llvm.ptr<3> -> f32
    llvm.store %y, %src : f32, !llvm.ptr<1>
    llvm.return
  }
}
