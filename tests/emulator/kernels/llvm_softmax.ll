; One warp per row: softmax of a float row into bf16, written the way MLIR's
; gpu -> nvvm lowering writes kernels (NVVM intrinsics, shared memory in
; addrspace(3), a CTA barrier), compiled by LLVM's NVPTX backend (llc) to PTX.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@row_total = internal addrspace(3) global [2 x float] undef, align 4

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare float @llvm.nvvm.shfl.sync.bfly.f32(i32, float, i32, i32)
declare float @llvm.nvvm.ex2.approx.f(float)
declare void @llvm.nvvm.barrier0()
declare float @llvm.maxnum.f32(float, float)

define float @warp_max(float %v0) {
  %s1 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v0, i32 16, i32 31)
  %v1 = call float @llvm.maxnum.f32(float %v0, float %s1)
  %s2 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v1, i32 8, i32 31)
  %v2 = call float @llvm.maxnum.f32(float %v1, float %s2)
  %s3 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v2, i32 4, i32 31)
  %v3 = call float @llvm.maxnum.f32(float %v2, float %s3)
  %s4 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v3, i32 2, i32 31)
  %v4 = call float @llvm.maxnum.f32(float %v3, float %s4)
  %s5 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v4, i32 1, i32 31)
  %v5 = call float @llvm.maxnum.f32(float %v4, float %s5)
  ret float %v5
}

define float @warp_sum(float %v0) {
  %s1 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v0, i32 16, i32 31)
  %v1 = fadd float %v0, %s1
  %s2 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v1, i32 8, i32 31)
  %v2 = fadd float %v1, %s2
  %s3 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v2, i32 4, i32 31)
  %v3 = fadd float %v2, %s3
  %s4 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v3, i32 2, i32 31)
  %v4 = fadd float %v3, %s4
  %s5 = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %v4, i32 1, i32 31)
  %v5 = fadd float %v4, %s5
  ret float %v5
}

define ptx_kernel void @row_softmax_bf16(ptr addrspace(1) %in, ptr addrspace(1) %out, i32 %cols) {
entry:
  %lane = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %row = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %rowoff = mul i32 %row, %cols
  br label %maxloop

maxloop:
  %i = phi i32 [ %lane, %entry ], [ %inext, %maxbody ]
  %m = phi float [ 0xFFF0000000000000, %entry ], [ %m2, %maxbody ]
  %more = icmp slt i32 %i, %cols
  br i1 %more, label %maxbody, label %maxdone

maxbody:
  %idx = add i32 %rowoff, %i
  %idx64 = sext i32 %idx to i64
  %p = getelementptr float, ptr addrspace(1) %in, i64 %idx64
  %x = load float, ptr addrspace(1) %p, align 4
  %m2 = call float @llvm.maxnum.f32(float %m, float %x)
  %inext = add i32 %i, 32
  br label %maxloop

maxdone:
  %rowmax = call float @warp_max(float %m)
  br label %sumloop

sumloop:
  %j = phi i32 [ %lane, %maxdone ], [ %jnext, %sumbody ]
  %s = phi float [ 0.0, %maxdone ], [ %s2, %sumbody ]
  %more2 = icmp slt i32 %j, %cols
  br i1 %more2, label %sumbody, label %sumdone

sumbody:
  %jdx = add i32 %rowoff, %j
  %jdx64 = sext i32 %jdx to i64
  %q = getelementptr float, ptr addrspace(1) %in, i64 %jdx64
  %y = load float, ptr addrspace(1) %q, align 4
  %d = fsub float %y, %rowmax
  %t = fmul float %d, 0x3FF7154760000000
  %e = call float @llvm.nvvm.ex2.approx.f(float %t)
  %s2 = fadd float %s, %e
  %jnext = add i32 %j, 32
  br label %sumloop

sumdone:
  %total = call float @warp_sum(float %s)
  ; Lane 0 publishes the total through shared memory; everyone reads it after a barrier.
  %isfirst = icmp eq i32 %lane, 0
  br i1 %isfirst, label %publish, label %sync

publish:
  store float %total, ptr addrspace(3) @row_total, align 4
  br label %sync

sync:
  call void @llvm.nvvm.barrier0()
  %shared_total = load float, ptr addrspace(3) @row_total, align 4
  %inv = fdiv float 1.0, %shared_total
  br label %outloop

outloop:
  %k = phi i32 [ %lane, %sync ], [ %knext, %outbody ]
  %more3 = icmp slt i32 %k, %cols
  br i1 %more3, label %outbody, label %done

outbody:
  %kdx = add i32 %rowoff, %k
  %kdx64 = sext i32 %kdx to i64
  %r = getelementptr float, ptr addrspace(1) %in, i64 %kdx64
  %z = load float, ptr addrspace(1) %r, align 4
  %dz = fsub float %z, %rowmax
  %tz = fmul float %dz, 0x3FF7154760000000
  %ez = call float @llvm.nvvm.ex2.approx.f(float %tz)
  %pz = fmul float %ez, %inv
  %bz = fptrunc float %pz to bfloat
  %o = getelementptr bfloat, ptr addrspace(1) %out, i64 %kdx64
  store bfloat %bz, ptr addrspace(1) %o, align 2
  %knext = add i32 %k, 32
  br label %outloop

done:
  ret void
}
