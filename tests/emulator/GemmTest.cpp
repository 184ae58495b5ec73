//===- GemmTest.cpp - ldmatrix + mma.sync GEMMs vs a CPU GEMM ---------------===//
#include <cmath>

#include "runtime/support/FloatFormats.h"
#include "tests/emulator/EmuTestSupport.h"

namespace mobagen::emu::testing {
namespace {

using device::KernelArgs;

struct GemmCase {
  const char *kernel;
  DType dtype;
  bool bKMajor; // B stored [K, N] (ldmatrix.trans) rather than [N, K]
};

class GemmTest : public EmuKernelTest {
protected:
  void run(const GemmCase &c, int M, int N, int K) {
    load("gemm");
    Rng rng(42);
    std::vector<uint16_t> a(size_t(M) * K), b(size_t(K) * N);
    for (auto &v : a)
      v = encodeDType(rng.uniform(-1, 1), c.dtype);
    for (auto &v : b)
      v = encodeDType(rng.uniform(-1, 1), c.dtype);
    auto da = upload(a), db = upload(b);
    auto dc = output<float>(size_t(M) * N);
    Status s = launch(c.kernel, {uint32_t(N / 64), uint32_t(M / 64)}, {128},
                      KernelArgs().add(M).add(N).add(K).add(da).add(db).add(dc));
    ASSERT_TRUE(s.ok()) << s.message();
    const auto out = download<float>(dc, size_t(M) * N);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double want = 0;
        for (int k = 0; k < K; ++k) {
          const uint16_t bv = c.bKMajor ? b[size_t(k) * N + j] : b[size_t(j) * K + k];
          want += decodeDType(a[size_t(i) * K + k], c.dtype) * decodeDType(bv, c.dtype);
        }
        ASSERT_NEAR(out[size_t(i) * N + j], want, 1e-4 * (1 + std::fabs(want))) << i << "," << j;
      }
    const Counters &counters = dev.counters();
    EXPECT_EQ(counters.tensorCoreFlops, 2ull * M * N * K);
    EXPECT_EQ(counters.globalBytesRead, 2ull * (size_t(M) * K * (N / 64) + size_t(K) * N * (M / 64)));
    EXPECT_EQ(counters.globalBytesWritten, 4ull * M * N);
  }
};

TEST_P(GemmTest, Bf16WithLdmatrixTrans) { run({"gemm_bf16_nn", DType::BF16, true}, 128, 64, 64); }
TEST_P(GemmTest, Bf16WithLdmatrix) { run({"gemm_bf16_nt", DType::BF16, false}, 64, 128, 48); }
TEST_P(GemmTest, F16WithLdmatrixTrans) { run({"gemm_f16_nn", DType::F16, true}, 64, 64, 32); }
TEST_P(GemmTest, F16WithLdmatrix) { run({"gemm_f16_nt", DType::F16, false}, 64, 64, 80); }

TEST_P(GemmTest, M16N8K8WithLdmatrixX2AndX1Trans) {
  load("gemm");
  for (DType dtype : {DType::BF16, DType::F16}) {
    const int K = 32;
    Rng rng(dtype == DType::BF16 ? 1 : 2);
    std::vector<uint16_t> a(16 * K), b(K * 8);
    for (auto &v : a)
      v = encodeDType(rng.uniform(-2, 2), dtype);
    for (auto &v : b)
      v = encodeDType(rng.uniform(-2, 2), dtype);
    auto da = upload(a), db = upload(b);
    auto dc = output<float>(16 * 8);
    Status s = launch(dtype == DType::BF16 ? "mma_m16n8k8_bf16" : "mma_m16n8k8_f16", {1}, {32},
                      KernelArgs().add(K).add(da).add(db).add(dc));
    ASSERT_TRUE(s.ok()) << s.message();
    const auto out = download<float>(dc, 16 * 8);
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 8; ++j) {
        double want = 0;
        for (int k = 0; k < K; ++k)
          want += decodeDType(a[i * K + k], dtype) * decodeDType(b[k * 8 + j], dtype);
        EXPECT_NEAR(out[i * 8 + j], want, 1e-4 * (1 + std::fabs(want))) << i << "," << j;
      }
    EXPECT_EQ(dev.counters().tensorCoreFlops, 2ull * 16 * 8 * K);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, GemmTest, ::testing::ValuesIn(targets()));

} // namespace
} // namespace mobagen::emu::testing
