; LLVM computes with undefined vector lanes: a half is inserted into an undef
; <2 x half>, the pair is added, and only the defined lane is extracted. llc packs
; a never-written register into the f16x2 operand; the kernel is still correct.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()

define ptx_kernel void @double_halves(ptr addrspace(1) %in, ptr addrspace(1) %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %i = zext i32 %t to i64
  %p = getelementptr half, ptr addrspace(1) %in, i64 %i
  %x = load half, ptr addrspace(1) %p
  %v = insertelement <2 x half> undef, half %x, i32 0
  %w = fadd <2 x half> %v, %v
  %lo = extractelement <2 x half> %w, i32 0
  %q = getelementptr half, ptr addrspace(1) %out, i64 %i
  store half %lo, ptr addrspace(1) %q
  ret void
}

; The same, but storing the whole pair: its upper half is undefined, which the
; emulator reports where the value is stored.
define ptx_kernel void @store_undefined_half(ptr addrspace(1) %in, ptr addrspace(1) %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %i = zext i32 %t to i64
  %p = getelementptr half, ptr addrspace(1) %in, i64 %i
  %x = load half, ptr addrspace(1) %p
  %v = insertelement <2 x half> undef, half %x, i32 0
  %w = fadd <2 x half> %v, %v
  %q = getelementptr <2 x half>, ptr addrspace(1) %out, i64 %i
  store <2 x half> %w, ptr addrspace(1) %q
  ret void
}
