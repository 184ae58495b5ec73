// Kernels whose costs are known relative to each other, for the cost model's and the
// autotuner's tests.

// `reps` dependent multiply-adds per element: the instruction count grows with reps
// while the global traffic (one load of x and y, one store of y) stays the same.
extern "C" __global__ void repeated_fma(int n, int reps, float a, const float *__restrict__ x,
                                        float *__restrict__ y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  float v = x[i], acc = y[i];
  for (int r = 0; r < reps; ++r)
    acc = fmaf(a, acc, v);
  y[i] = acc;
}

// Each lane of a 32-thread CTA stores to and loads from shared word lane * stride,
// `rounds` times. Stride 1 spreads the lanes over the 32 banks (conflict-free),
// stride 2 puts two lanes in each used bank, stride 32 puts all 32 in bank 0.
// Every lane touches only its own word, so there is no race between lanes.
extern "C" __global__ void shared_stride(int stride, int rounds, const float *__restrict__ x,
                                         float *__restrict__ out) {
  __shared__ float buf[32 * 32];
  volatile float *word = &buf[threadIdx.x * stride];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float acc = x[i];
  for (int r = 0; r < rounds; ++r) {
    *word = acc;
    acc = *word * 0.5f + 1.0f;
  }
  out[i] = acc;
}
