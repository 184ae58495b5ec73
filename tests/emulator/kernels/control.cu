// Divergence and reconvergence: per-lane trip counts, nested branches, early exit, and a
// warp-synchronous shuffle after the divergent region (all lanes must have met again).
extern "C" __global__ void divergent_loops(const int *__restrict__ x, int *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int v = x[i];
  int acc = 0;
  for (int k = 0; k < (v & 15); ++k) {
    if (k & 1)
      acc += k * v;
    else if (v & 2)
      acc -= k;
    else
      acc ^= k << 3;
  }
  int neighbour = __shfl_xor_sync(0xffffffffu, acc, 1);
  out[i] = acc + neighbour;
}

extern "C" __global__ void early_exit(int n, const int *__restrict__ x, int *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  int v = x[i];
  if (v < 0) {
    out[i] = -1;
    return;
  }
  while (v > 1)
    v = (v & 1) ? 3 * v + 1 : v >> 1;
  out[i] = v + 1;
}

// A 3-D grid of 3-D blocks: every thread writes its own coordinates.
extern "C" __global__ void grid3d(int *out) {
  const int bx = blockIdx.x, by = blockIdx.y, bz = blockIdx.z;
  const int cta = (bz * gridDim.y + by) * gridDim.x + bx;
  const int tid = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const int threads = blockDim.x * blockDim.y * blockDim.z;
  out[cta * threads + tid] = (bx << 24) | (by << 16) | (bz << 12) | (threadIdx.x << 8) | (threadIdx.y << 4) | threadIdx.z;
}

// Producer/consumer with named barriers: warp 0 fills shared memory and arrives on
// barrier 1; warp 1 waits on it (bar.sync 1, 64) and reads.
extern "C" __global__ void producer_consumer(const int *in, int *out) {
  __shared__ int buf[32];
  const int lane = threadIdx.x & 31;
  if (threadIdx.x < 32) {
    buf[lane] = in[lane] * 3;
    asm volatile("bar.arrive 1, 64;\n" ::: "memory");
  } else {
    asm volatile("bar.sync 1, 64;\n" ::: "memory");
    out[lane] = buf[31 - lane] + 1;
  }
}

// __syncthreads_count / _and / _or: bar.red.popc / .and / .or.
extern "C" __global__ void sync_reductions(const int *x, int *out) {
  int v = x[threadIdx.x];
  int count = __syncthreads_count(v > 0);
  int all = __syncthreads_and(v > -50);
  int any = __syncthreads_or(v > 90);
  out[threadIdx.x] = count * 100 + all * 10 + any;
}
