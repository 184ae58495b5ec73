//===- InterpreterTest.cpp - Hand-written PTX for the execution model ------===//
#include <bit>
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/emulator/Emulator.h"

namespace mobagen::emu {
namespace {

using ::testing::HasSubstr;

std::string wrap(const std::string &body, const std::string &regs = "") {
  return ".version 8.0\n.target sm_80\n.address_size 64\n"
         ".visible .entry k(.param .u64 k_out)\n{\n"
         ".reg .pred %p<4>;\n.reg .b32 %r<16>;\n.reg .b64 %rd<8>;\n.reg .f32 %f<8>;\n.reg .b16 %rs<4>;\n" +
         regs + "ld.param.u64 %rd1, [k_out];\nmov.u32 %r1, %tid.x;\nmul.wide.u32 %rd2, %r1, 4;\n"
                "add.s64 %rd3, %rd1, %rd2;\n" +
         body + "\nret;\n}\n";
}

class InterpreterTest : public ::testing::Test {
protected:
  Status run(const std::string &ptx, unsigned threads, std::vector<uint32_t> &out) {
    auto id = dev.loadModule(ptx, "t.ptx");
    if (!id)
      return id.status();
    auto buf = dev.allocate(threads * 4);
    std::vector<uint32_t> zero(threads, 0);
    MOBAGEN_RETURN_IF_ERROR(dev.copyToDevice(*buf, zero.data(), threads * 4));
    Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {threads}, 0}, device::KernelArgs().add(*buf));
    out.assign(threads, 0);
    MOBAGEN_RETURN_IF_ERROR(dev.copyToHost(out.data(), *buf, threads * 4));
    return s;
  }
  EmulatorDevice dev{EmulatorOptions{.threads = 1}};
};

TEST_F(InterpreterTest, NestedScopesShadowRegistersAndLabels) {
  const std::string body = R"(
    mov.u32 %r2, 5;
    {
      .reg .b32 %r<3>;
      mov.u32 %r2, 100;       // the inner %r2
      mov.u32 %r1, %tid.x;    // the inner %r1 is a new register too
      add.u32 %r2, %r2, %r1;
      bra $L_x;
      mov.u32 %r2, 0;
    $L_x:
      st.global.u32 [%rd3], %r2;
    }
    {
      .reg .b32 %r<3>;
    $L_x:                    // the same label name in a sibling scope
      mov.u32 %r2, 1;
    }
    add.u32 %r2, %r2, 0;     // the outer %r2 is still 5
    setp.ne.u32 %p1, %r2, 5;
    @%p1 st.global.u32 [%rd3], 0;
  )";
  std::vector<uint32_t> out;
  Status s = run(wrap(body), 32, out);
  ASSERT_TRUE(s.ok()) << s.message();
  for (unsigned t = 0; t < 32; ++t)
    EXPECT_EQ(out[t], 100 + t);
}

TEST_F(InterpreterTest, PackingAndUnpackingMovAndHexFloats) {
  const std::string body = R"(
    mov.f32 %f1, 0f40400000;            // 3.0
    mov.b16 %rs1, 0x1234;
    mov.b16 %rs2, 0xABCD;
    mov.b32 %r2, {%rs1, %rs2};          // first element is the low half
    mov.b32 {%rs3, %rs1}, %r2;
    cvt.u32.u16 %r3, %rs3;
    cvt.rzi.u32.f32 %r4, %f1;
    mad.lo.u32 %r5, %r4, 0x10000, %r3;  // 3 * 65536 + 0x1234
    xor.b32 %r5, %r5, %r2;
    st.global.u32 [%rd3], %r5;
  )";
  std::vector<uint32_t> out;
  Status s = run(wrap(body), 1, out);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(out[0], (3u * 65536 + 0x1234) ^ 0xABCD1234u);
}

TEST_F(InterpreterTest, ReadOfNeverWrittenRegisterIsAFault) {
  std::vector<uint32_t> out;
  Status s = run(wrap("add.u32 %r2, %r9, 1;\nst.global.u32 [%rd3], %r2;"), 32, out);
  ASSERT_FALSE(s.ok());
  // The add propagates the undefined value; the store observes it and names the origin.
  EXPECT_THAT(s.message(), HasSubstr("line 16 `st.global.u32 [%rd3], %r2;`"));
  EXPECT_THAT(s.message(), HasSubstr("register %r2 holds an undefined value"));
  EXPECT_THAT(s.message(), HasSubstr("computed from register %r9, read at line 15 but never written"));
  EXPECT_THAT(s.message(), HasSubstr("thread (0,0,0)"));
}

TEST_F(InterpreterTest, SelpOfAnUndefinedSourceIsDefinedWhenNotSelected) {
  auto body = [](int limit) {
    return fmt::format(R"(
    setp.lt.u32 %p1, %r1, {};          // limit 100: %r9 (never written) is never chosen
    selp.b32 %r2, %r1, %r9, %p1;
    st.global.u32 [%rd3], %r2;
  )", limit);
  };
  std::vector<uint32_t> out;
  Status s = run(wrap(body(100)), 32, out);
  ASSERT_TRUE(s.ok()) << s.message();
  for (unsigned t = 0; t < 32; ++t)
    EXPECT_EQ(out[t], t);
  // Choosing it for some lanes makes those lanes' value undefined when stored.
  s = run(wrap(body(7)), 32, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("thread (7,0,0)"));
  EXPECT_THAT(s.message(), HasSubstr("computed from register %r9"));
}

TEST_F(InterpreterTest, PartlyWrittenRegisterFaultsOnTheLaneThatMissedIt) {
  const std::string body = R"(
    setp.lt.u32 %p1, %r1, 7;
    @%p1 mov.u32 %r2, 1;
    st.global.u32 [%rd3], %r2;
  )";
  std::vector<uint32_t> out;
  Status s = run(wrap(body), 32, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("thread (7,0,0)"));
}

TEST_F(InterpreterTest, BraUniThatDivergesIsAFault) {
  const std::string body = R"(
    setp.lt.u32 %p1, %r1, 3;
    @%p1 bra.uni $L_a;
  $L_a:
    st.global.u32 [%rd3], %r1;
  )";
  std::vector<uint32_t> out;
  Status s = run(wrap(body), 32, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("bra.uni diverged: lanes 0-2 branch, lanes 3-31 do not"));
}

TEST_F(InterpreterTest, EndlessLoopHitsTheInstructionLimit) {
  dev.options().instructionLimitPerCta = 10000;
  std::vector<uint32_t> out;
  Status s = run(wrap("$L_spin:\nbra $L_spin;"), 32, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("exceeded the limit of 10000 warp instructions"));
}

TEST_F(InterpreterTest, ShflWithALaneOutsideTheMaskIsAFault) {
  const std::string body = R"(
    shfl.sync.idx.b32 %r2, %r1, 20, 31, 0x0000ffff;
    st.global.u32 [%rd3], %r2;
  )";
  std::vector<uint32_t> out;
  Status s = run(wrap(body), 32, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("not in membermask 0x0000ffff"));
}

constexpr const char *kCallModule = R"(
.version 8.0
.target sm_80
.address_size 64
.visible .func (.param .b32 twice_ret) twice(.param .b32 twice_a)
{
  .reg .b32 %r<3>;
  .local .align 4 .b8 spill[4];
  ld.param.b32 %r1, [twice_a];
  st.local.u32 [spill], %r1;
  ld.local.u32 %r2, [spill];
  add.s32 %r2, %r2, %r1;
  st.param.b32 [twice_ret], %r2;
  ret;
}
.visible .func (.param .b32 loop_ret) loop(.param .b32 loop_a)
{
  .reg .b32 %r<2>;
  ld.param.b32 %r1, [loop_a];
  { .param .b32 p; .param .b32 q;
    st.param.b32 [p], %r1;
    call.uni (q), loop, (p);
  }
  st.param.b32 [loop_ret], %r1;
  ret;
}
.visible .entry k(.param .u64 k_out, .param .u32 k_recurse)
{
  .reg .pred %p<3>;
  .reg .b32 %r<6>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [k_out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  add.u32 %r2, %r1, 100;
  setp.lt.u32 %p1, %r1, 5;
  { // callseq
    .reg .b32 %r<2>;
    .param .b32 param0;
    .param .b32 retval0;
    st.param.b32 [param0], %r2;
    @%p1 call (retval0), twice, (param0);
    @%p1 ld.param.b32 %r2, [retval0];
  }
  st.global.u32 [%rd3], %r2;
  ret;
}
)";

TEST_F(InterpreterTest, CallsAreInlinedWithTheirGuard) {
  std::string ptx = kCallModule;
  // Without the recursive function the module links and runs.
  const size_t begin = ptx.find(".visible .func (.param .b32 loop_ret)");
  const size_t end = ptx.find(".visible .entry k");
  ptx.erase(begin, end - begin);
  auto id = dev.loadModule(ptx, "call.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(32 * 4);
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {32}, 0},
                        device::KernelArgs().add(*buf).add(uint32_t(0)));
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint32_t> out(32);
  ASSERT_TRUE(dev.copyToHost(out.data(), *buf, 128).ok());
  for (unsigned t = 0; t < 32; ++t)
    EXPECT_EQ(out[t], t < 5 ? 2 * (t + 100) : t + 100) << t;
}

TEST_F(InterpreterTest, RecursionIsReportedNotRun) {
  std::string ptx = kCallModule;
  ptx.replace(ptx.find("@%p1 call (retval0), twice"), std::string("@%p1 call (retval0), twice").size(),
              "@%p1 call (retval0), loop");
  auto id = dev.loadModule(ptx, "call.ptx");
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("recursion is not implemented"));
  std::string missing = kCallModule;
  missing.replace(missing.find("@%p1 call (retval0), twice"), std::string("@%p1 call (retval0), twice").size(),
                  "@%p1 call (retval0), nowhere");
  auto id2 = dev.loadModule(missing, "call.ptx");
  ASSERT_FALSE(id2.ok());
  EXPECT_THAT(id2.status().message(), HasSubstr("call to 'nowhere', which has no body"));
}

TEST_F(InterpreterTest, WriteAfterReadsByTwoThreadsIsARaceEvenIfTheWriterReadLast) {
  const std::string body = R"(
    shl.b32 %r2, %r1, 2;
    st.shared.u32 [%r2], %r1;
    bar.sync 0;
    setp.eq.u32 %p1, %r1, 1;
    @%p1 ld.shared.u32 %r5, [s];
    setp.eq.u32 %p2, %r1, 0;
    @%p2 ld.shared.u32 %r6, [s];
    @%p2 st.shared.u32 [s], %r1;     // thread 0 writes what thread 1 read: no barrier between
    st.global.u32 [%rd3], %r1;
  )";
  auto id = dev.loadModule(wrap(body, ".shared .align 4 .b8 s[128];\n"), "t.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(128);
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {32}, 0}, device::KernelArgs().add(*buf));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("shared-memory race: write of offset 0 after the read by thread (1,0,0)"));
  EXPECT_THAT(s.message(), HasSubstr("thread (0,0,0)"));
  // With bar.warp.sync between the reads and the write, the same code is race-free.
  std::string synced = body;
  synced.replace(synced.find("@%p2 st.shared"), 0, "bar.warp.sync -1;\n    ");
  auto id2 = dev.loadModule(wrap(synced, ".shared .align 4 .b8 s[128];\n"), "t.ptx");
  ASSERT_TRUE(id2.ok()) << id2.status().message();
  s = dev.launch(*id2, "k", device::LaunchConfig{{1}, {32}, 0}, device::KernelArgs().add(*buf));
  EXPECT_TRUE(s.ok()) << s.message();
}

// One conversion per thread: thread t converts value t of a table with one cvt form
// and stores the result bits.
struct CvtCase {
  const char *cvt;   // the instruction, reading %f1 (f32) or %rd4 (s64) and writing %r2 or %rs1
  float in;
  uint32_t want;
};

TEST_F(InterpreterTest, CvtRoundingModesAndSaturation) {
  const CvtCase cases[] = {
      {"cvt.rzi.s32.f32 %r2, %f1;", -2.7f, uint32_t(-2)},
      {"cvt.rmi.s32.f32 %r2, %f1;", -2.2f, uint32_t(-3)},
      {"cvt.rpi.s32.f32 %r2, %f1;", 2.2f, 3u},
      {"cvt.rni.s32.f32 %r2, %f1;", 2.5f, 2u},            // ties to even
      {"cvt.rni.s32.f32 %r2, %f1;", 3.5f, 4u},
      {"cvt.rzi.s32.f32 %r2, %f1;", 3e9f, 0x7fffffffu},    // float -> int saturates
      {"cvt.rzi.u32.f32 %r2, %f1;", -5.0f, 0u},
      {"cvt.rzi.s32.f32 %r2, %f1;", NAN, 0u},              // NaN -> 0
      {"cvt.rn.f16.f32 %rs1, %f1;", 1.0f + 0x1p-11f, 0x3c00u}, // tie -> even
      {"cvt.rp.f16.f32 %rs1, %f1;", 1.0f + 0x1p-13f, 0x3c01u},
      {"cvt.rz.f16.f32 %rs1, %f1;", 70000.0f, 0x7bffu},   // rz overflow -> max finite
      {"cvt.rn.f16.f32 %rs1, %f1;", 70000.0f, 0x7c00u},   // rn overflow -> inf
      {"cvt.rn.f16.f32 %rs1, %f1;", 0x1p-24f, 0x0001u},   // smallest subnormal
      {"cvt.rn.bf16.f32 %rs1, %f1;", 1.0f + 0x1p-8f, 0x3f80u},
      {"cvt.rz.bf16.f32 %rs1, %f1;", -1.0f - 0x1p-7f - 0x1p-9f, 0xbf81u},
      {"cvt.sat.f32.f32 %r2, %f1;", 1.5f, 0x3f800000u},
      {"cvt.rni.f32.f32 %r2, %f1;", -2.5f, 0xc0000000u},
  };
  for (const CvtCase &c : cases) {
    const std::string body = fmt::format(R"(
      mov.b32 %f1, 0x{:08x};
      mov.u32 %r2, 0;
      mov.b16 %rs1, 0;
      {}
      cvt.u32.u16 %r3, %rs1;
      or.b32 %r2, %r2, %r3;
      st.global.u32 [%rd3], %r2;
    )", std::bit_cast<uint32_t>(c.in), c.cvt);
    std::vector<uint32_t> out;
    Status s = run(wrap(body), 1, out);
    ASSERT_TRUE(s.ok()) << c.cvt << ": " << s.message();
    EXPECT_EQ(out[0], c.want) << c.cvt << " of " << c.in;
  }
}

TEST_F(InterpreterTest, RedAndAtomOnSharedAndGlobal) {
  const std::string body = R"(
    mov.u32 %r2, 0;
    setp.eq.u32 %p1, %r1, 0;
    @%p1 st.shared.u32 [s], %r2;
    bar.sync 0;
    red.shared.add.u32 [s], %r1;
    bar.sync 0;
    ld.shared.u32 %r3, [s];
    atom.global.exch.b32 %r4, [%rd1], %r1;  // every lane swaps into word 0
    setp.eq.u32 %p2, %r1, 1;
    @%p2 red.global.max.s32 [%rd1+4], %r3;
    st.global.u32 [%rd3+8], %r3;
  )";
  auto id = dev.loadModule(wrap(body, ".shared .align 4 .b8 s[4];\n"), "t.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(48 * 4);
  std::vector<uint32_t> zero(48, 0);
  ASSERT_TRUE(dev.copyToDevice(*buf, zero.data(), zero.size() * 4).ok());
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {32}, 0}, device::KernelArgs().add(*buf));
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint32_t> out(48);
  ASSERT_TRUE(dev.copyToHost(out.data(), *buf, out.size() * 4).ok());
  EXPECT_EQ(out[1], 496u); // red.global.max of the shared sum 0 + 1 + ... + 31
  EXPECT_LT(out[0], 32u);  // some lane's id
  for (unsigned t = 2; t < 34; ++t)
    EXPECT_EQ(out[t], 496u);
}

TEST_F(InterpreterTest, MaxNaNReluActivemaskAndTrap) {
  const std::string body = R"(
    mov.b32 %f1, 0x7fc00000;             // NaN
    mov.f32 %f2, 0f40000000;             // 2
    max.f32 %f3, %f1, %f2;               // 2: max ignores a NaN
    max.NaN.f32 %f4, %f1, %f2;           // NaN
    mov.f32 %f5, 0fC0400000;             // -3
    cvt.rn.relu.bf16x2.f32 %r2, %f2, %f5; // {hi: 2, lo: relu(-3) = 0}
    setp.lt.u32 %p1, %r1, 10;
    @%p1 bra $L_low;
    activemask.b32 %r3;
    bra $L_join;
  $L_low:
    activemask.b32 %r3;
  $L_join:
    mov.b32 %r4, %f3;
    mov.b32 %r5, %f4;
    setp.eq.u32 %p2, %r1, 0;
    @%p2 st.global.v4.u32 [%rd1+128], {%r4, %r5, %r2, %r3};
    st.global.u32 [%rd3], %r3;
  )";
  auto id = dev.loadModule(wrap(body), "t.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(48 * 4);
  std::vector<uint32_t> zero(48, 0);
  ASSERT_TRUE(dev.copyToDevice(*buf, zero.data(), 48 * 4).ok());
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {32}, 0}, device::KernelArgs().add(*buf));
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint32_t> all(48);
  ASSERT_TRUE(dev.copyToHost(all.data(), *buf, 48 * 4).ok());
  for (unsigned t = 0; t < 32; ++t)
    EXPECT_EQ(all[t], t < 10 ? 0x3ffu : 0xfffffc00u) << t; // the lanes that took the same path
  EXPECT_EQ(all[32], 0x40000000u);
  EXPECT_TRUE(std::isnan(std::bit_cast<float>(all[33])));
  EXPECT_EQ(all[34], 0x40000000u); // bf16 2.0 in the upper half, +0 below
  EXPECT_EQ(all[35], 0x3ffu);

  std::vector<uint32_t> out;
  Status trapped = run(wrap("setp.eq.u32 %p1, %r1, 3;\n@%p1 trap;\nst.global.u32 [%rd3], %r1;"), 32, out);
  ASSERT_FALSE(trapped.ok());
  EXPECT_THAT(trapped.message(), HasSubstr("thread (3,0,0): trap executed"));
}

TEST_F(InterpreterTest, BarrierThreadCountsThatDisagreeAreAMismatch) {
  const std::string body = R"(
    setp.lt.u32 %p1, %r1, 32;
    @%p1 bra $L_first;
    bar.sync 1, 96;
    bra $L_done;
  $L_first:
    bar.sync 1, 64;
  $L_done:
    st.global.u32 [%rd3], %r1;
  )";
  auto id = dev.loadModule(wrap(body), "t.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(128 * 4);
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {128}, 0}, device::KernelArgs().add(*buf));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("barrier mismatch: barrier 1 expects"));
  EXPECT_THAT(s.message(), ::testing::AnyOf(HasSubstr("expects 96 threads here but 64"),
                                            HasSubstr("expects 64 threads here but 96")));
}

TEST_F(InterpreterTest, CountsBankConflicts) {
  // Each lane stores to word 32 * lane: all in bank 0, 32 distinct words: 31 extra wavefronts.
  const std::string body = R"(
    shl.b32 %r2, %r1, 7;
    st.shared.u32 [%r2], %r1;
    shl.b32 %r3, %r1, 2;
    st.shared.u32 [%r3+8192], %r1;     // conflict-free
    st.global.u32 [%rd3], %r1;
  )";
  auto id = dev.loadModule(wrap(body, ".shared .align 4 .b8 s[8320];\n"), "t.ptx");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto buf = dev.allocate(128);
  Status s = dev.launch(*id, "k", device::LaunchConfig{{1}, {32}, 0}, device::KernelArgs().add(*buf));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dev.counters().sharedBankConflicts, 31u);
  EXPECT_EQ(dev.counters().sharedAccesses, 2u);
}

} // namespace
} // namespace mobagen::emu

namespace mobagen::emu {
namespace {

TEST(GlobalMemoryLimit, FollowsHostMemoryAndNamesRequestAndLimit) {
  const uint64_t limit = GlobalMemory::allocationLimit();
  EXPECT_GT(limit, 0u);
  EXPECT_LE(limit, 64ull << 30);
  // A 16 GiB request (what `4294967296x4294967297` used to wrap to) on a host
  // with less than 64 GiB available fails up front instead of paging until OOM.
  GlobalMemory memory;
  auto tooLarge = memory.allocate(limit + 1);
  ASSERT_FALSE(tooLarge.ok());
  EXPECT_EQ(tooLarge.status().message(),
            fmt::format("allocation of {} bytes exceeds the emulator's limit of {} bytes (a quarter of the host's "
                        "available memory, at most 64 GiB: each byte takes a data and a shadow byte)",
                        limit + 1, limit));
  EXPECT_TRUE(memory.allocate(4096).ok());
}

} // namespace
} // namespace mobagen::emu
