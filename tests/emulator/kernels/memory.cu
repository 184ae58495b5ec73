// Atomics on global and shared memory, per-thread local arrays, 64-bit indexing.
extern "C" __global__ void histogram(int n, const int *__restrict__ x, int *__restrict__ hist,
                                     float *__restrict__ fsum, unsigned *__restrict__ maxv) {
  __shared__ int local_hist[16];
  if (threadIdx.x < 16)
    local_hist[threadIdx.x] = 0;
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    int v = x[i];
    atomicAdd(&local_hist[v & 15], 1);
    atomicAdd(fsum, (float)(v & 7));
    atomicMax(maxv, (unsigned)v);
  }
  __syncthreads();
  if (threadIdx.x < 16)
    atomicAdd(&hist[threadIdx.x], local_hist[threadIdx.x]);
}

extern "C" __global__ void local_array(const int *__restrict__ x, int *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int a[24];
  int v = x[i];
  for (int k = 0; k < 24; ++k)
    a[k] = v * k + (k ^ v);
  int s = 0;
  for (int k = 0; k < 24; ++k)
    s += a[(k * 7 + v) % 24] * (k + 1);
  out[i] = s;
}

// Index math in 64 bits: offsets beyond 2^32 are formed and cancelled again.
extern "C" __global__ void index64(long long base, const double *__restrict__ x,
                                   long long *__restrict__ out) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long big = i + base;           // > 2^32
  long long back = big - base;        // == i
  unsigned long long h = (unsigned long long)big * 0x9E3779B97F4A7C15ull;
  out[back] = (long long)(h >> 17) ^ (long long)x[back];
}

// Loads and stores of every width and vector form, with sign extension of s8/s16.
struct Mixed {
  signed char s8;
  unsigned char u8;
  short s16;
  unsigned short u16;
  int s32;
  float f32;
  long long s64;
  double f64;
};
extern "C" __global__ void widths(const Mixed *__restrict__ in, const float4 *__restrict__ v4,
                                  const double2 *__restrict__ d2, double *__restrict__ out,
                                  float2 *__restrict__ out2, char *__restrict__ bytes) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  Mixed m = in[i];
  float4 a = v4[i];
  double2 b = d2[i];
  out[i] = double(m.s8) + double(m.u8) * 2 + double(m.s16) * 3 + double(m.u16) * 4 + double(m.s32) * 5 +
           double(m.f32) * 6 + double(m.s64) * 7 + m.f64 * 8 + a.x + a.y * 2 + a.z * 3 + a.w * 4 + b.x - b.y;
  out2[i] = make_float2(a.x + a.w, a.y - a.z);
  bytes[i] = static_cast<char>(m.s8 * 3);
}

// Atomics beyond add: CAS loops, exchange, 64-bit add, and red (the result unused).
extern "C" __global__ void more_atomics(const float *__restrict__ x, float *__restrict__ fmax,
                                        unsigned long long *__restrict__ sum64, int *__restrict__ last,
                                        unsigned *__restrict__ counter) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = x[i];
  int *addr = reinterpret_cast<int *>(fmax);
  int old = *addr, assumed;
  do {
    assumed = old;
    if (__int_as_float(assumed) >= v)
      break;
    old = atomicCAS(addr, assumed, __float_as_int(v));
  } while (old != assumed);
  atomicAdd(sum64, (unsigned long long)(i + 1) << 33);
  atomicExch(last, 7);
  atomicAdd(counter, 1u); // result unused: red.global.add
}

// cp.async with a source size below the copy size zero-fills the rest.
extern "C" __global__ void cp_async_zero_fill(const int *__restrict__ in, int n, int *__restrict__ out) {
  __shared__ alignas(16) int buf[128];
  const int t = threadIdx.x;
  const int have = max(0, min(4, n - 4 * t)); // elements of this thread's 16 bytes that exist
  unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(&buf[4 * t]));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(in + (have ? 4 * t : 0)),
               "r"(have * 4));
  asm volatile("cp.async.commit_group;\n" ::);
  asm volatile("cp.async.wait_group 0;\n" ::);
  __syncthreads();
  for (int k = 0; k < 4; ++k)
    out[4 * t + k] = buf[(4 * t + k + 4) & 127];
}

// Module-scope variables: a __constant__ table, an initialized __device__ array, and a
// __device__ counter updated atomically.
__constant__ float kCoeffs[4] = {0.5f, -1.25f, 2.0f, 3.5f};
__device__ int gTable[8] = {3, 1, 4, 1, 5, 9, 2, 6};
__device__ unsigned gCounter = 10;
extern "C" __global__ void module_variables(const int *__restrict__ x, float *__restrict__ out,
                                            unsigned *__restrict__ ticket) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int v = x[i];
  out[i] = kCoeffs[v & 3] * float(gTable[(v >> 2) & 7]);
  ticket[i] = atomicAdd(&gCounter, 1u);
}
