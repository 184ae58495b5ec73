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
