// Kernels that each plant one kind of undefined behaviour; the emulator must report it.
extern "C" __global__ void fault_oob_write(int *out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1; // launched with more threads than elements
}

extern "C" __global__ void fault_misaligned(char *bytes, int offset) {
  *reinterpret_cast<int *>(bytes + offset) = 7; // offset 1: not 4-byte aligned
}

extern "C" __global__ void fault_uninit_shared(int *out) {
  __shared__ int buf[64];
  if (threadIdx.x < 32)
    buf[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = buf[threadIdx.x]; // threads 32..63 read words nobody wrote
}

extern "C" __global__ void fault_uninit_global(const int *in, int *out) {
  out[threadIdx.x] = in[threadIdx.x] + 1; // `in` is allocated but never written
}

extern "C" __global__ void fault_smem_race(const int *in, int *out) {
  __shared__ int buf[64];
  buf[threadIdx.x] = 0;
  __syncthreads();
  buf[threadIdx.x] = in[threadIdx.x];
  // Missing __syncthreads(): each warp reads the words the other warp writes.
  out[threadIdx.x] = buf[(threadIdx.x + 32) & 63];
}

extern "C" __global__ void fault_divergent_barrier(int *out) {
  if (threadIdx.x & 1)
    __syncthreads(); // bar.sync is .aligned: half a warp arrives
  out[threadIdx.x] = 1;
}

extern "C" __global__ void fault_deadlock(int *out) {
  // Each warp waits on its own named barrier for 64 threads: neither can complete.
  if (threadIdx.x < 32)
    asm volatile("bar.sync 1, 64;\n");
  else
    asm volatile("bar.sync 2, 64;\n");
  out[threadIdx.x] = 1;
}

extern "C" __global__ void fault_cp_async_no_wait(const int *in, int *out) {
  __shared__ alignas(16) int buf[128];
  unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(&buf[threadIdx.x * 4]));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(in + threadIdx.x * 4));
  asm volatile("cp.async.commit_group;\n" ::);
  // Missing cp.async.wait_group 0.
  __syncthreads();
  out[threadIdx.x] = buf[(threadIdx.x * 4 + 5) & 127];
}
