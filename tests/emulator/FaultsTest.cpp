//===- FaultsTest.cpp - Every fault class is reported, with where and who ---===//
#include "tests/emulator/EmuTestSupport.h"

namespace mobagen::emu::testing {
namespace {

using device::KernelArgs;
using ::testing::HasSubstr;

class FaultsTest : public EmuKernelTest {
protected:
  void SetUp() override { load("faults"); }
  std::string expectFault(const std::string &kernel, device::Dim3 grid, device::Dim3 block,
                          const KernelArgs &args) {
    Status s = launch(kernel, grid, block, args);
    EXPECT_FALSE(s.ok()) << kernel << " ran without a fault";
    EXPECT_THAT(s.message(), HasSubstr("kernel '" + kernel + "'"));
    return s.message();
  }
};

TEST_P(FaultsTest, OutOfBoundsWrite) {
  auto out = output<int>(100);
  const std::string m = expectFault("fault_oob_write", {1}, {128}, KernelArgs().add(out));
  EXPECT_THAT(m, HasSubstr("out-of-bounds global write"));
  EXPECT_THAT(m, HasSubstr("thread (100,0,0)")); // the first thread past the end
  EXPECT_THAT(m, HasSubstr("is at offset 400 of the 400-byte allocation"));
  EXPECT_THAT(m, HasSubstr("CTA (0,0,0)"));
  EXPECT_THAT(m, HasSubstr("st.global"));
}

TEST_P(FaultsTest, MisalignedAccess) {
  auto bytes = output<char>(64);
  const std::string m = expectFault("fault_misaligned", {1}, {1}, KernelArgs().add(bytes).add(1));
  EXPECT_THAT(m, HasSubstr("misaligned 4-byte write"));
  EXPECT_THAT(m, HasSubstr("must be a multiple of 4"));
  // The same kernel with an aligned offset runs.
  EXPECT_TRUE(launch("fault_misaligned", {1}, {1}, KernelArgs().add(bytes).add(4)).ok());
}

TEST_P(FaultsTest, UninitializedSharedRead) {
  auto out = output<int>(64);
  const std::string m = expectFault("fault_uninit_shared", {1}, {64}, KernelArgs().add(out));
  EXPECT_THAT(m, HasSubstr("read of shared memory never written"));
  EXPECT_THAT(m, HasSubstr("thread (32,0,0)"));
}

TEST_P(FaultsTest, UninitializedGlobalRead) {
  auto in = dev.allocate(64 * 4);
  ASSERT_TRUE(in.ok());
  auto out = output<int>(64);
  const std::string m = expectFault("fault_uninit_global", {1}, {64}, KernelArgs().add(*in).add(out));
  EXPECT_THAT(m, HasSubstr("read of global memory never written"));
}

TEST_P(FaultsTest, SharedMemoryRaceNamesBothThreads) {
  std::vector<int> v(64, 3);
  auto in = upload(v);
  auto out = output<int>(64);
  const std::string m = expectFault("fault_smem_race", {1}, {64}, KernelArgs().add(in).add(out));
  EXPECT_THAT(m, HasSubstr("shared-memory race"));
  // Whichever warp runs first, one access of the pair is reported with the other
  // party's thread.
  EXPECT_THAT(m, ::testing::AnyOf(HasSubstr("after the write by thread"), HasSubstr("after the read by thread")));
}

TEST_P(FaultsTest, DivergentBarrier) {
  auto out = output<int>(64);
  const std::string m = expectFault("fault_divergent_barrier", {1}, {64}, KernelArgs().add(out));
  EXPECT_THAT(m, HasSubstr("collective mismatch"));
  EXPECT_THAT(m, HasSubstr("bar"));
  EXPECT_THAT(m, HasSubstr("exited"));
}

TEST_P(FaultsTest, DeadlockReportsEachWarp) {
  auto out = output<int>(64);
  const std::string m = expectFault("fault_deadlock", {1}, {64}, KernelArgs().add(out));
  EXPECT_THAT(m, HasSubstr("deadlock"));
  EXPECT_THAT(m, HasSubstr("warp 0: lanes 0-31 wait at line"));
  EXPECT_THAT(m, HasSubstr("warp 1: lanes 0-31 wait at line"));
  EXPECT_THAT(m, HasSubstr("32 of 64 threads arrived"));
}

TEST_P(FaultsTest, CpAsyncReadBeforeWait) {
  std::vector<int> v(512, 1);
  auto in = upload(v);
  auto out = output<int>(32);
  const std::string m = expectFault("fault_cp_async_no_wait", {1}, {32}, KernelArgs().add(in).add(out));
  EXPECT_THAT(m, HasSubstr("still in flight"));
  EXPECT_THAT(m, HasSubstr("cp.async.wait_group"));
}

TEST_P(FaultsTest, LaunchErrorsNameTheLimit) {
  auto out = output<int>(64);
  Status s = launch("fault_oob_write", {1}, {2048}, KernelArgs().add(out));
  EXPECT_THAT(s.message(), HasSubstr("2048 threads; the limit is 1..1024"));
  s = launch("fault_oob_write", {1}, {32}, KernelArgs());
  EXPECT_THAT(s.message(), HasSubstr("0 arguments given, the kernel takes 1"));
  s = launch("fault_oob_write", {1}, {32}, KernelArgs().add(int(1)));
  EXPECT_THAT(s.message(), HasSubstr("has 4 bytes, the parameter has 8"));
  s = launch("no_such_kernel", {1}, {32}, KernelArgs());
  EXPECT_THAT(s.message(), HasSubstr("has no kernel 'no_such_kernel'"));
}

INSTANTIATE_TEST_SUITE_P(Targets, FaultsTest, ::testing::ValuesIn(targets()));

} // namespace
} // namespace mobagen::emu::testing
