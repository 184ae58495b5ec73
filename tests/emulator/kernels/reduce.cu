// Block reductions: each shfl mode, shared memory, vote and redux.
extern "C" __global__ void reduce_shfl_down(const float *__restrict__ x, float *__restrict__ out) {
  __shared__ float partial[32];
  float v = x[blockIdx.x * blockDim.x + threadIdx.x];
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (blockDim.x >> 5) ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1)
      v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0)
      out[blockIdx.x] = v;
  }
}

// Inclusive scan inside each warp with shfl.up, then the warp totals are broadcast with
// shfl.idx from lane 31.
extern "C" __global__ void scan_shfl_up(const int *__restrict__ x, int *__restrict__ scan,
                                        int *__restrict__ totals) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int lane = threadIdx.x & 31;
  int v = x[i];
  for (int o = 1; o < 32; o <<= 1) {
    int t = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o)
      v += t;
  }
  scan[i] = v;
  int total = __shfl_sync(0xffffffffu, v, 31);
  if (lane == 0)
    totals[i >> 5] = total;
}

// Tree reduction in shared memory with a barrier per level.
extern "C" __global__ void reduce_smem(const int *__restrict__ x, int *__restrict__ out) {
  extern __shared__ int buf[];
  buf[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    out[blockIdx.x] = buf[0];
}

// vote.sync ballot / any / all and redux.sync add / max per warp.
extern "C" __global__ void warp_vote(const int *__restrict__ x, unsigned *__restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int v = x[i];
  unsigned ballot = __ballot_sync(0xffffffffu, v > 0);
  int any = __any_sync(0xffffffffu, v > 100);
  int all = __all_sync(0xffffffffu, v > -1000);
  unsigned sum = __reduce_add_sync(0xffffffffu, (unsigned)v);
  int mx = __reduce_max_sync(0xffffffffu, v);
  if ((threadIdx.x & 31) == 0) {
    unsigned *o = out + (i >> 5) * 5;
    o[0] = ballot;
    o[1] = any;
    o[2] = all;
    o[3] = sum;
    o[4] = (unsigned)mx;
  }
}

// Sub-warp reductions: shfl with a width of 8 (segment mask in operand c).
extern "C" __global__ void segmented_sum(const int *__restrict__ x, int *__restrict__ out) {
  int v = x[threadIdx.x];
  for (int o = 4; o > 0; o >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, o, 8);
  int first = __shfl_sync(0xffffffffu, v, 0, 8); // each segment's lane 0
  int up = __shfl_up_sync(0xffffffffu, x[threadIdx.x], 1, 8);
  out[threadIdx.x] = first * 1000 + up;
}
