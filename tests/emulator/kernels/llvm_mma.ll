; One warp: C[16x8] (f32) = A[16x16] * B[16x8] in bf16, staged through shared memory
; with cp.async, fragments loaded with ldmatrix (x4 for A, x2.trans for B) and
; multiplied with mma.sync m16n8k16: the NVVM intrinsics that MLIR's nvgpu/nvvm
; dialects lower to, compiled by LLVM's NVPTX backend.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@As = internal addrspace(3) global [256 x i16] undef, align 16
@Bs = internal addrspace(3) global [128 x i16] undef, align 16

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare void @llvm.nvvm.cp.async.ca.shared.global.16(ptr addrspace(3), ptr addrspace(1))
declare void @llvm.nvvm.cp.async.commit.group()
declare void @llvm.nvvm.cp.async.wait.group(i32)
declare void @llvm.nvvm.barrier0()
declare { i32, i32, i32, i32 } @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16.p3(ptr addrspace(3))
declare { i32, i32 } @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x2.trans.b16.p3(ptr addrspace(3))
declare { float, float, float, float } @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32, i32, i32, i32, i32, i32, float, float, float, float)

define ptx_kernel void @warp_mma_bf16(ptr addrspace(1) %a, ptr addrspace(1) %b, ptr addrspace(1) %c) {
entry:
  %lane = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  ; A: 32 chunks of 16 bytes, one per lane (row lane/2, column (lane%2)*8).
  %achunk = mul i32 %lane, 8
  %achunk64 = zext i32 %achunk to i64
  %asrc = getelementptr i16, ptr addrspace(1) %a, i64 %achunk64
  %adst = getelementptr i16, ptr addrspace(3) @As, i64 %achunk64
  call void @llvm.nvvm.cp.async.ca.shared.global.16(ptr addrspace(3) %adst, ptr addrspace(1) %asrc)
  ; B: 16 rows of 16 bytes, lanes 0..15.
  %isb = icmp ult i32 %lane, 16
  br i1 %isb, label %loadb, label %commit

loadb:
  %bsrc = getelementptr i16, ptr addrspace(1) %b, i64 %achunk64
  %bdst = getelementptr i16, ptr addrspace(3) @Bs, i64 %achunk64
  call void @llvm.nvvm.cp.async.ca.shared.global.16(ptr addrspace(3) %bdst, ptr addrspace(1) %bsrc)
  br label %commit

commit:
  call void @llvm.nvvm.cp.async.commit.group()
  call void @llvm.nvvm.cp.async.wait.group(i32 0)
  call void @llvm.nvvm.barrier0()
  ; ldmatrix.x4 of A: lane l gives row l%16 at column (l/16)*8.
  %arow = and i32 %lane, 15
  %ahalf = lshr i32 %lane, 4
  %aoff0 = mul i32 %arow, 16
  %aoff1 = mul i32 %ahalf, 8
  %aoff = add i32 %aoff0, %aoff1
  %aoff64 = zext i32 %aoff to i64
  %aptr = getelementptr i16, ptr addrspace(3) @As, i64 %aoff64
  %afrag = call { i32, i32, i32, i32 } @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16.p3(ptr addrspace(3) %aptr)
  ; ldmatrix.x2.trans of B ([k][n] rows): lane l gives row k = l%16.
  %boff = mul i32 %arow, 8
  %boff64 = zext i32 %boff to i64
  %bptr = getelementptr i16, ptr addrspace(3) @Bs, i64 %boff64
  %bfrag = call { i32, i32 } @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x2.trans.b16.p3(ptr addrspace(3) %bptr)
  %a0 = extractvalue { i32, i32, i32, i32 } %afrag, 0
  %a1 = extractvalue { i32, i32, i32, i32 } %afrag, 1
  %a2 = extractvalue { i32, i32, i32, i32 } %afrag, 2
  %a3 = extractvalue { i32, i32, i32, i32 } %afrag, 3
  %b0 = extractvalue { i32, i32 } %bfrag, 0
  %b1 = extractvalue { i32, i32 } %bfrag, 1
  %d = call { float, float, float, float } @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32 %a0, i32 %a1, i32 %a2, i32 %a3, i32 %b0, i32 %b1, float 0.0, float 0.0, float 0.0, float 0.0)
  %d0 = extractvalue { float, float, float, float } %d, 0
  %d1 = extractvalue { float, float, float, float } %d, 1
  %d2 = extractvalue { float, float, float, float } %d, 2
  %d3 = extractvalue { float, float, float, float } %d, 3
  ; C fragment: row lane/4 (+8), columns (lane%4)*2 and +1.
  %grp = lshr i32 %lane, 2
  %tig = and i32 %lane, 3
  %col = mul i32 %tig, 2
  %r0 = mul i32 %grp, 8
  %i0 = add i32 %r0, %col
  %i0_64 = zext i32 %i0 to i64
  %p0 = getelementptr float, ptr addrspace(1) %c, i64 %i0_64
  store float %d0, ptr addrspace(1) %p0, align 8
  %p1 = getelementptr float, ptr addrspace(1) %p0, i64 1
  store float %d1, ptr addrspace(1) %p1, align 4
  %p2 = getelementptr float, ptr addrspace(1) %p0, i64 64
  store float %d2, ptr addrspace(1) %p2, align 8
  %p3 = getelementptr float, ptr addrspace(1) %p2, i64 1
  store float %d3, ptr addrspace(1) %p3, align 4
  ret void
}
