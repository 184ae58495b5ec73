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
