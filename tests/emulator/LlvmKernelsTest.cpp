//===- LlvmKernelsTest.cpp - PTX from LLVM 22's NVPTX backend --------------===//
//
// kernels/*.ll are written the way MLIR's gpu -> nvvm lowering writes kernels
// and compiled by llc at build time: .b32 registers holding floats, add.rn.f32,
// call sequences with .param scopes (inlined by PtxLinker), cvt.rn.bf16.f32.
//
//===----------------------------------------------------------------------===//
#include <cmath>

#include "runtime/support/FloatFormats.h"
#include "tests/emulator/EmuTestSupport.h"

namespace mobagen::emu::testing {
namespace {

using device::KernelArgs;
using ::testing::HasSubstr;

class LlvmKernelsTest : public EmuKernelTest {
protected:
  void SetUp() override {
    if (!MOBAGEN_EMU_HAVE_LLC)
      GTEST_SKIP() << "llc (LLVM 22) not found at configure time";
  }
};

TEST_P(LlvmKernelsTest, RowSoftmaxBf16WithCallsSharedAndBarrier) {
  load("llvm_softmax");
  const int rows = 5, cols = 150; // not a multiple of the warp: ragged per-lane loops
  Rng rng(21);
  std::vector<float> x(rows * cols);
  for (auto &v : x)
    v = rng.uniform(-6, 6);
  auto dx = upload(x);
  auto dout = dev.allocate(rows * cols * 2);
  ASSERT_TRUE(dout.ok());
  Status s = launch("row_softmax_bf16", {rows}, {32}, KernelArgs().add(dx).add(*dout).add(cols));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto out = download<uint16_t>(*dout, rows * cols);
  for (int r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int c = 0; c < cols; ++c)
      mx = std::max(mx, double(x[r * cols + c]));
    for (int c = 0; c < cols; ++c)
      sum += std::exp(double(x[r * cols + c]) - mx);
    for (int c = 0; c < cols; ++c) {
      const double want = std::exp(double(x[r * cols + c]) - mx) / sum;
      const double got = decodeDType(out[r * cols + c], DType::BF16);
      EXPECT_NEAR(got, want, want * 0x1p-8 + 1e-30) << r << "," << c; // within one bf16 ulp
    }
  }
  EXPECT_EQ(dev.counters().globalBytesWritten, uint64_t(rows) * cols * 2);
}

TEST_P(LlvmKernelsTest, WarpMmaFromNvvmIntrinsics) {
  // cp.async through 64-bit shared addresses, ldmatrix.x4 and .x2.trans, and an mma
  // whose four accumulator inputs are one register.
  load("llvm_mma");
  Rng rng(22);
  std::vector<uint16_t> a(16 * 16), b(16 * 8);
  for (auto &v : a)
    v = encodeDType(rng.uniform(-2, 2), DType::BF16);
  for (auto &v : b)
    v = encodeDType(rng.uniform(-2, 2), DType::BF16);
  auto da = upload(a), db = upload(b);
  auto dc = dev.allocate(16 * 8 * 4);
  ASSERT_TRUE(dc.ok());
  Status s = launch("warp_mma_bf16", {1}, {32}, KernelArgs().add(da).add(db).add(*dc));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto c = download<float>(*dc, 16 * 8);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double want = 0;
      for (int k = 0; k < 16; ++k)
        want += decodeDType(a[i * 16 + k], DType::BF16) * decodeDType(b[k * 8 + j], DType::BF16);
      EXPECT_NEAR(c[i * 8 + j], want, 1e-5 * (1 + std::fabs(want))) << i << "," << j;
    }
  EXPECT_EQ(dev.counters().tensorCoreFlops, 2u * 16 * 8 * 16);
}

TEST_P(LlvmKernelsTest, UndefinedVectorLanesArePropagatedNotReported) {
  load("llvm_undef_half");
  std::vector<uint16_t> in(32);
  for (int i = 0; i < 32; ++i)
    in[i] = encodeDType(0.25 * i - 3, DType::F16);
  auto din = upload(in);
  auto dout = dev.allocate(32 * 4);
  ASSERT_TRUE(dout.ok());
  Status s = launch("double_halves", {1}, {32}, KernelArgs().add(din).add(*dout));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto out = download<uint16_t>(*dout, 32);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(decodeDType(out[i], DType::F16), 2 * (0.25 * i - 3)) << i;
  // Storing the undefined half is where the value is observed: a fault naming it.
  s = launch("store_undefined_half", {1}, {32}, KernelArgs().add(din).add(*dout));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("holds an undefined value here (defined bytes 0x03)"));
  EXPECT_THAT(s.message(), HasSubstr("but never written"));
}

INSTANTIATE_TEST_SUITE_P(Targets, LlvmKernelsTest, ::testing::ValuesIn(targets()));

} // namespace
} // namespace mobagen::emu::testing
