// An LLVM + NVVM dialect kernel goes to PTX through LLVM's NVPTX backend and to a
// cubin through nvJitLink, for each target mobagen supports.
// RUN: mobagen-translate --mlir-to-ptx --ptx-chip=sm_80 %s | FileCheck %s --check-prefix=PTX80
// RUN: mobagen-translate --mlir-to-ptx --ptx-chip=sm_90a %s | FileCheck %s --check-prefix=PTX90A
// RUN: mobagen-translate --mlir-to-cubin-resources --ptx-chip=sm_80 %s | FileCheck %s --check-prefix=CUBIN
// RUN: mobagen-translate --mlir-to-cubin-resources --ptx-chip=sm_90 %s | FileCheck %s --check-prefix=CUBIN

// PTX80: .version 8.0
// PTX80: .target sm_80
// PTX80: .address_size 64
// PTX80-LABEL: .visible .entry scale_by_two(
// PTX80: mov.u32 %r{{[0-9]+}}, %tid.x;
// PTX80: setp.ge.s32 %p[[P:[0-9]+]]
// PTX80: @%p[[P]] bra
// PTX80: ld.global.b32 %r[[X:[0-9]+]]
// PTX80: add.rn.f32 %r[[Y:[0-9]+]], %r[[X]], %r[[X]]
// PTX80: st.global.b32 [%rd{{[0-9]+}}], %r[[Y]]
// PTX90A: .target sm_90a
// PTX90A: .entry scale_by_two(

// CUBIN: cubin sm_{{[0-9]+}} {{[0-9]+}} bytes
// CUBIN: kernel scale_by_two: registers {{[0-9]+}}, stack 0, spill stores 0, spill loads 0, smem 0

gpu.module @kernels {
  llvm.func @scale_by_two(%in: !llvm.ptr<1>, %out: !llvm.ptr<1>, %n: i32) attributes {nvvm.kernel} {
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %ctaid = nvvm.read.ptx.sreg.ctaid.x : i32
    %ntid = nvvm.read.ptx.sreg.ntid.x : i32
    %base = llvm.mul %ctaid, %ntid : i32
    %i = llvm.add %base, %tid : i32
    %inside = llvm.icmp "slt" %i, %n : i32
    llvm.cond_br %inside, ^body, ^done
  ^body:
    %src = llvm.getelementptr %in[%i] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    %x = llvm.load %src : !llvm.ptr<1> -> f32
    %y = llvm.fadd %x, %x : f32
    %dst = llvm.getelementptr %out[%i] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %y, %dst : f32, !llvm.ptr<1>
    llvm.br ^done
  ^done:
    llvm.return
  }
}
