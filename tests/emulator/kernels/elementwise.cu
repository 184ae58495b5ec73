// Elementwise math with a ragged tail: n is not a multiple of the block size, so the
// bounds check diverges in the last CTA. Exercises float and integer ALU, division,
// approximate math, conversions and f16x2 / bf16x2 packing.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

extern "C" __global__ void elementwise_math(int n, float a, const float *__restrict__ x,
                                            const float *__restrict__ y, float *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  float xi = x[i], yi = y[i];
  float r = a * xi + yi;
  r += __expf(xi * 0.25f) + __fdividef(yi, 1.0f + fabsf(xi));
  r += rsqrtf(1.0f + xi * xi) + sqrtf(fabsf(yi)) + __logf(2.0f + fabsf(xi));
  r += fminf(xi, yi) - fmaxf(xi, -yi);
  r += xi / (2.5f + fabsf(yi));
  out[i] = r;
}

extern "C" __global__ void integer_ops(int n, const int *__restrict__ x, int *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    int v = x[i];
    unsigned u = static_cast<unsigned>(v);
    int d = (v / 7) + (v % 5) + (int)(u >> 3) + (v << 2) + (v >> 1);
    d ^= (v & 0xff) | 0x100;
    d += __popc(u) + __clz(u | 1) + __mulhi(v, 12345) + max(v, -v) + min(v, 3) + abs(v);
    d += (int)(u / 3u) + (int)(u % 11u);
    out[i] = d;
  }
}

// Packs pairs of floats into f16x2 and bf16x2 and back: the order of halves matters.
extern "C" __global__ void pack_halves(int n, const float *__restrict__ x, unsigned *__restrict__ h2,
                                       unsigned *__restrict__ b2, float *__restrict__ back) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  float lo = x[2 * i], hi = x[2 * i + 1];
  __half2 h = __floats2half2_rn(lo, hi);
  __nv_bfloat162 b = __floats2bfloat162_rn(lo, hi);
  h2[i] = *reinterpret_cast<unsigned *>(&h);
  b2[i] = *reinterpret_cast<unsigned *>(&b);
  back[2 * i] = __low2float(h) + __bfloat162float(b.y);
  back[2 * i + 1] = __high2float(h) * 2.0f + __bfloat162float(b.x);
}

// Packed half-precision arithmetic: f16x2 and bf16x2 add, mul, fma, min/max, neg.
extern "C" __global__ void half2_math(int n, const unsigned *__restrict__ a, const unsigned *__restrict__ b,
                                      const unsigned *__restrict__ c, unsigned *__restrict__ h_out,
                                      unsigned *__restrict__ b_out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  __half2 ha = *reinterpret_cast<const __half2 *>(&a[i]), hb = *reinterpret_cast<const __half2 *>(&b[i]),
          hc = *reinterpret_cast<const __half2 *>(&c[i]);
  __half2 h = __hfma2(ha, hb, hc);
  h = __hadd2(h, __hmul2(ha, ha));
  h = __hmax2(h, __hneg2(hb));
  __nv_bfloat162 ba = *reinterpret_cast<const __nv_bfloat162 *>(&a[i]),
                 bb = *reinterpret_cast<const __nv_bfloat162 *>(&b[i]),
                 bc = *reinterpret_cast<const __nv_bfloat162 *>(&c[i]);
  __nv_bfloat162 r = __hfma2(ba, bb, bc);
  r = __hmin2(r, __hadd2(ba, bc));
  h_out[i] = *reinterpret_cast<unsigned *>(&h);
  b_out[i] = *reinterpret_cast<unsigned *>(&r);
}
