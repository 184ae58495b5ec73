// Tensor-core GEMMs written the way CUTLASS writes them: tiles staged in shared memory by a
// multi-stage cp.async pipeline, fragments loaded with ldmatrix (.trans when B is K-major),
// products on mma.sync. C[M,N] (f32) = A[M,K] * B, with B either [K,N] row-major ("nn",
// ldmatrix.trans) or [N,K] ("nt", plain ldmatrix). M, N multiples of 64, K of 16.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16, kStages = 3, kPad = 8;

__device__ inline unsigned smemAddress(const void *p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ inline void cpAsync16(void *smem, const void *global) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smemAddress(smem)), "l"(global));
}

__device__ inline void ldmatrixX4(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddress(p)));
}

__device__ inline void ldmatrixX4Trans(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddress(p)));
}

template <typename T> __device__ inline void mma16816(float (&d)[4], const unsigned (&a)[4],
                                                      unsigned b0, unsigned b1);

template <> __device__ inline void mma16816<__nv_bfloat16>(float (&d)[4], const unsigned (&a)[4],
                                                           unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
               "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <> __device__ inline void mma16816<__half>(float (&d)[4], const unsigned (&a)[4],
                                                    unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
               "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 128 threads, 2 x 2 warps, each warp a 32 x 32 sub-tile (2 m16 x 4 n8 mma tiles).
template <typename T, bool kBKMajor>
__device__ void gemmTile(int M, int N, int K, const T *__restrict__ A, const T *__restrict__ B,
                         float *__restrict__ C) {
  constexpr int kBRows = kBKMajor ? kTileK : kTileN;
  constexpr int kBCols = kBKMajor ? kTileN : kTileK;
  __shared__ alignas(16) T As[kStages][kTileM][kTileK + kPad];
  __shared__ alignas(16) T Bs[kStages][kBRows][kBCols + kPad];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int m0 = blockIdx.y * kTileM, n0 = blockIdx.x * kTileN;
  const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
  const int numK = K / kTileK;

  auto load = [&](int stage, int kt) {
    const int k0 = kt * kTileK;
    cpAsync16(&As[stage][tid >> 1][(tid & 1) * 8], A + (size_t)(m0 + (tid >> 1)) * K + k0 + (tid & 1) * 8);
    if constexpr (kBKMajor)
      cpAsync16(&Bs[stage][tid >> 3][(tid & 7) * 8], B + (size_t)(k0 + (tid >> 3)) * N + n0 + (tid & 7) * 8);
    else
      cpAsync16(&Bs[stage][tid >> 1][(tid & 1) * 8], B + (size_t)(n0 + (tid >> 1)) * K + k0 + (tid & 1) * 8);
  };

  float acc[2][4][4] = {};
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < numK)
      load(s, s);
    asm volatile("cp.async.commit_group;\n" ::);
  }
  for (int kt = 0; kt < numK; ++kt) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(kStages - 2));
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < numK)
      load(next % kStages, next);
    asm volatile("cp.async.commit_group;\n" ::);

    const int s = kt % kStages;
    unsigned a[2][4], b[2][4];
    for (int mi = 0; mi < 2; ++mi)
      ldmatrixX4(a[mi], &As[s][wm + mi * 16 + (lane & 15)][(lane >> 4) * 8]);
    for (int nj = 0; nj < 2; ++nj) {
      const int mat = lane >> 3, r = lane & 7;
      if constexpr (kBKMajor)
        ldmatrixX4Trans(b[nj], &Bs[s][(mat & 1) * 8 + r][wn + nj * 16 + (mat >> 1) * 8]);
      else
        ldmatrixX4(b[nj], &Bs[s][wn + nj * 16 + (mat >> 1) * 8 + r][(mat & 1) * 8]);
    }
    for (int mi = 0; mi < 2; ++mi)
      for (int ni = 0; ni < 4; ++ni)
        mma16816<T>(acc[mi][ni], a[mi], b[ni >> 1][(ni & 1) * 2], b[ni >> 1][(ni & 1) * 2 + 1]);
  }
  asm volatile("cp.async.wait_group 0;\n" ::);

  const int gr = lane >> 2, gc = (lane & 3) * 2;
  for (int mi = 0; mi < 2; ++mi)
    for (int ni = 0; ni < 4; ++ni) {
      const int row = m0 + wm + mi * 16 + gr, col = n0 + wn + ni * 8 + gc;
      C[(size_t)row * N + col] = acc[mi][ni][0];
      C[(size_t)row * N + col + 1] = acc[mi][ni][1];
      C[(size_t)(row + 8) * N + col] = acc[mi][ni][2];
      C[(size_t)(row + 8) * N + col + 1] = acc[mi][ni][3];
    }
}

} // namespace

extern "C" __global__ void __launch_bounds__(128) gemm_bf16_nn(int M, int N, int K, const __nv_bfloat16 *A,
                                                 const __nv_bfloat16 *B, float *C) {
  gemmTile<__nv_bfloat16, true>(M, N, K, A, B, C);
}
extern "C" __global__ void __launch_bounds__(128) gemm_bf16_nt(int M, int N, int K, const __nv_bfloat16 *A,
                                                 const __nv_bfloat16 *B, float *C) {
  gemmTile<__nv_bfloat16, false>(M, N, K, A, B, C);
}
extern "C" __global__ void __launch_bounds__(128) gemm_f16_nn(int M, int N, int K, const __half *A, const __half *B,
                                                float *C) {
  gemmTile<__half, true>(M, N, K, A, B, C);
}
extern "C" __global__ void __launch_bounds__(128) gemm_f16_nt(int M, int N, int K, const __half *A, const __half *B,
                                                float *C) {
  gemmTile<__half, false>(M, N, K, A, B, C);
}

// One warp, one 16 x 8 tile of C, K in steps of 8 with m16n8k8: A through ldmatrix.x2,
// B ([K,8] row-major) through ldmatrix.x1.trans. Plain ld.shared staging, no cp.async.
template <bool kBf16> __device__ void mma16808Tile(int K, const unsigned short *A,
                                                   const unsigned short *B, float *C) {
  __shared__ alignas(16) unsigned short As[16][8];
  __shared__ alignas(16) unsigned short Bs[8][8];
  const int lane = threadIdx.x;
  float d[4] = {0, 0, 0, 0};
  for (int k0 = 0; k0 < K; k0 += 8) {
    for (int e = lane; e < 128; e += 32)
      As[e >> 3][e & 7] = A[(e >> 3) * K + k0 + (e & 7)];
    for (int e = lane; e < 64; e += 32)
      Bs[e >> 3][e & 7] = B[(k0 + (e >> 3)) * 8 + (e & 7)];
    __syncwarp();
    unsigned a0, a1, b0;
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(a0), "=r"(a1) : "r"(smemAddress(&As[lane & 15][0])));
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n"
                 : "=r"(b0) : "r"(smemAddress(&Bs[lane & 7][0])));
    if (kBf16)
      asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
                   "{%0, %1, %2, %3};\n"
                   : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(b0));
    else
      asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
                   "{%0, %1, %2, %3};\n"
                   : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(b0));
    __syncwarp();
  }
  const int gr = lane >> 2, gc = (lane & 3) * 2;
  C[gr * 8 + gc] = d[0];
  C[gr * 8 + gc + 1] = d[1];
  C[(gr + 8) * 8 + gc] = d[2];
  C[(gr + 8) * 8 + gc + 1] = d[3];
}

extern "C" __global__ void mma_m16n8k8_bf16(int K, const unsigned short *A, const unsigned short *B, float *C) {
  mma16808Tile<true>(K, A, B, C);
}
extern "C" __global__ void mma_m16n8k8_f16(int K, const unsigned short *A, const unsigned short *B, float *C) {
  mma16808Tile<false>(K, A, B, C);
}
