//===- PtxParserTest.cpp - Parsing and decoding PTX -------------------------===//
#include <bit>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/emulator/PtxParser.h"

namespace mobagen::emu {
namespace {

using ::testing::HasSubstr;

constexpr const char *kModule = R"(
.version 8.0
.target sm_90
.address_size 64
.extern .shared .align 16 .b8 dyn[];
.visible .entry k(
  .param .u32 k_param_0,
  .param .u64 k_param_1,
  .param .align 8 .b8 k_param_2[12]
)
.maxntid 128, 1, 1
{
  .reg .pred %p<3>;
  .reg .b32 %r<10>;
  .reg .f32 %f<4>;
  .reg .b64 %rd<4>;
  .shared .align 4 .b8 tile[256];
  .local .align 8 .b8 frame[24];
  ld.param.u32 %r1, [k_param_0];
  ld.param.u64 %rd1, [k_param_1+0];
  mov.f32 %f1, 0f3F800000;
  mov.u32 %r2, tile;
  mov.u32 %r3, dyn;
  @!%p1 bra $L_end;
  {
    .reg .b32 %r<2>;
    mov.b32 %r1, {%r2, %r3};
  $L_inner:
    ld.global.v4.u32 {%r4, %r5, _, %r7}, [%rd1+16];
  }
$L_end:
  setp.lt.and.s32 %p1|%p2, %r1, -3, !%p0;
  ret;
}
)";

TEST(PtxParser, ParsesDeclarationsOperandsAndScopes) {
  auto m = parsePtx(kModule, "test.ptx");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->kernels.size(), 1u);
  const Kernel &k = m->kernels[0];
  EXPECT_EQ(m->target, "sm_90");
  EXPECT_EQ(k.name, "k");
  EXPECT_EQ(k.maxThreads, 128u);
  ASSERT_EQ(k.params.size(), 3u);
  EXPECT_EQ(k.params[1].offset, 8u);
  EXPECT_EQ(k.params[2].offset, 16u);
  EXPECT_EQ(k.params[2].size, 12u);
  EXPECT_EQ(k.paramBytes, 28u);
  EXPECT_EQ(k.staticSharedBytes, 256u);
  EXPECT_EQ(k.dynamicSharedOffset, 256u);
  EXPECT_EQ(k.localBytes, 24u);
  EXPECT_EQ(k.regs.size(), 3u + 10 + 4 + 4 + 2); // the inner scope's %r0, %r1 are new registers

  const Inst &movf = k.code[2];
  EXPECT_EQ(movf.op, Op::Mov);
  EXPECT_EQ(std::bit_cast<float>(uint32_t(k.operand(movf, 1).imm)), 1.0f);
  EXPECT_EQ(k.operand(k.code[3], 1).imm, 0);   // tile: shared offset 0
  EXPECT_EQ(k.operand(k.code[4], 1).imm, 256); // dyn: after the static variables

  const Inst &bra = k.code[5];
  EXPECT_EQ(bra.op, Op::Bra);
  EXPECT_TRUE(bra.guardNegated);
  EXPECT_EQ(bra.target, 8u);

  const Inst &pack = k.code[6];
  EXPECT_EQ(k.operand(pack, 0).reg, 22u); // the inner %r1, not the outer one
  EXPECT_EQ(k.operand(pack, 1).kind, OperandKind::Vector);
  EXPECT_EQ(k.operand(pack, 1).count, 2);

  const Inst &ld = k.code[7];
  EXPECT_EQ(ld.op, Op::Ld);
  EXPECT_EQ(ld.space, Space::Global);
  EXPECT_EQ(ld.vec, 4);
  EXPECT_EQ(ld.type, Type::U32);
  EXPECT_EQ(k.operand(ld, 1).imm, 16);
  EXPECT_EQ(k.operands[k.operand(ld, 0).reg + 2].kind, OperandKind::Sink);

  const Inst &setp = k.code[8];
  EXPECT_EQ(setp.cmp, Cmp::Lt);
  EXPECT_EQ(setp.boolOp, BoolOp::And);
  EXPECT_EQ(setp.numOperands, 5);
  EXPECT_EQ(k.operand(setp, 3).imm, -3);
  EXPECT_TRUE(k.operand(setp, 4).negate);
  EXPECT_EQ(k.text[8], "setp.lt.and.s32 %p1|%p2, %r1, -3, !%p0;");
  EXPECT_EQ(k.text[7], "ld.global.v4.u32 {%r4, %r5, _, %r7}, [%rd1+16];");
  EXPECT_EQ(k.text[5], "@!%p1 bra $L_end;");
}

TEST(PtxParser, DecodesModifiers) {
  Inst i;
  ASSERT_TRUE(decodeOpcode("cvt.rn.bf16x2.f32", i).ok());
  EXPECT_EQ(i.op, Op::Cvt);
  EXPECT_EQ(i.type, Type::BF16x2);
  EXPECT_EQ(i.type2, Type::F32);
  EXPECT_EQ(i.rounding, Rounding::Rn);
  Inst m;
  ASSERT_TRUE(decodeOpcode("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", m).ok());
  EXPECT_EQ(MmaShape(m.sub), MmaShape::M16N8K16);
  EXPECT_EQ(m.type2, Type::BF16);
  Inst l;
  ASSERT_TRUE(decodeOpcode("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16", l).ok());
  EXPECT_EQ(l.vec, 4);
  EXPECT_TRUE(l.flags & kTrans);
  Inst c;
  ASSERT_TRUE(decodeOpcode("cp.async.cg.shared.global.L2::128B", c).ok());
  EXPECT_EQ(c.op, Op::CpAsync);
  Inst s;
  ASSERT_TRUE(decodeOpcode("shfl.sync.bfly.b32", s).ok());
  EXPECT_EQ(ShflMode(s.sub), ShflMode::Bfly);
  Inst mw;
  ASSERT_TRUE(decodeOpcode("mul.wide.s32", mw).ok());
  EXPECT_EQ(MulMode(mw.sub), MulMode::Wide);
}

TEST(PtxParser, UnknownInstructionIsAnErrorNamingItAndTheLine) {
  const std::string ptx = ".version 8.0\n.target sm_80\n.address_size 64\n"
                          ".visible .entry k()\n{\n.reg .b32 %r<2>;\n"
                          "frobnicate.b32 %r1, %r0;\nret;\n}\n";
  auto m = parsePtx(ptx, "bad.ptx");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("bad.ptx:7:"));
  EXPECT_THAT(m.status().message(), HasSubstr("'frobnicate'"));
}

TEST(PtxParser, ErrorsNameWhatIsWrong) {
  auto parse = [](const std::string &body) {
    return parsePtx(".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n"
                    ".reg .b32 %r<2>;\n" + body + "\n}\n", "e.ptx");
  };
  EXPECT_THAT(parse("add.wrap.s32 %r1, %r0, 1;").status().message(), HasSubstr("unsupported modifier '.wrap'"));
  EXPECT_THAT(parse("add.s32 %r1, %r7, 1;").status().message(), HasSubstr("unknown register %r7"));
  EXPECT_THAT(parse("bra $nowhere;").status().message(), HasSubstr("unknown label '$nowhere'"));
  EXPECT_THAT(parse("add.s32 %r1, %r0;").status().message(), HasSubstr("expected 3 operands, found 2"));
  EXPECT_THAT(parse("cp.async.bulk.tensor.2d.shared::cluster.global [%r0], [%r1];").status().message(),
              HasSubstr("not implemented yet"));
  EXPECT_THAT(parse("{ $L: ret; }\nbra $L;").status().message(), HasSubstr("unknown label '$L'"));
}

TEST(PtxParser, OversizedDeclarationsAreErrorsNotOverflows) {
  auto parse = [](const std::string &params, const std::string &body) {
    return parsePtx(".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k(" + params +
                        ")\n{\n" + body + "\nret;\n}\n",
                    "big.ptx");
  };
  // Dimensions whose product passes 2^32 elements (here 2^16 x 2^17) are refused
  // before the count can wrap.
  EXPECT_THAT(parse("", ".shared .b8 s[65536][131072];").status().message(),
              HasSubstr("array of 65536 x 131072 elements exceeds 2^32 elements"));
  EXPECT_THAT(parse("", ".shared .b8 s[18446744073709551615][18446744073709551615];")
                  .status()
                  .message(),
              HasSubstr("exceeds 2^32 elements"));
  EXPECT_THAT(parse(".param .align 4 .b8 p[40000]", "").status().message(),
              HasSubstr("parameter 'p' is 40000 bytes; kernel parameters hold at most 32764"));
  EXPECT_THAT(parse(".param .b32 p[]", "").status().message(),
              HasSubstr("parameter 'p' is an unsized array"));
  EXPECT_TRUE(parse(".param .align 4 .b8 p[64]", ".shared .align 4 .b8 s[16][16];").ok());
}

TEST(PtxParser, ThreadCountDirectivesAndAlignmentsAreChecked) {
  auto parse = [](const std::string &directives, const std::string &body) {
    return parsePtx(".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n" + directives +
                        "\n{\n" + body + "\nret;\n}\n",
                    "t.ptx");
  };
  // The product is bounded before it is multiplied, so 2^32-1 squared cannot
  // wrap to a small count.
  EXPECT_EQ(parse(".reqntid 4294967295, 4294967295, 1", "").status().message(),
            "t.ptx:5: .reqntid 4294967295: the block of 1 x 4294967295 threads exceeds the limit of 1024 threads");
  EXPECT_EQ(parse(".maxntid 64, 32, 1", "").status().message(),
            "t.ptx:5: .maxntid 64, 32: the block of 64 x 32 threads exceeds the limit of 1024 threads");
  EXPECT_EQ(parse(".reqntid 0", "").status().message(), "t.ptx:5: .reqntid 0: dimension 0 is 0; each must be at least 1");
  EXPECT_EQ(parse(".reqntid 1, 1, 1, 1", "").status().message(), "t.ptx:5: .reqntid has more than 3 dimensions");
  auto exact = parse(".reqntid 128, 2", "");
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  EXPECT_EQ(exact->kernels[0].maxThreads, 256u);
  EXPECT_EQ(exact->kernels[0].reqntid[0], 128u);
  EXPECT_EQ(exact->kernels[0].reqntid[1], 2u);
  EXPECT_EQ(exact->kernels[0].reqntid[2], 1u);
  EXPECT_EQ(parse("", ".shared .align 3 .b8 s[16];").status().message(),
            "t.ptx:7: .align 3 is invalid: the alignment must be a power of two in [1, 2^31]");
  EXPECT_EQ(parse("", ".local .align 0 .b8 s[16];").status().message(),
            "t.ptx:7: .align 0 is invalid: the alignment must be a power of two in [1, 2^31]");
  EXPECT_TRUE(parse("", ".shared .align 16 .b8 s[16];").ok());
}

TEST(PtxParser, TruncatedAndMangledInputNeverCrashes) {
  // Every prefix of a module, and the module with each token-sized chunk removed,
  // must give a module or an error: never a crash or a hang.
  const std::string text = kModule;
  size_t errors = 0;
  for (size_t n = 0; n < text.size(); n += 3) {
    auto m = parsePtx(text.substr(0, n), "cut.ptx");
    errors += !m.ok();
  }
  for (size_t at = 0; at + 4 < text.size(); at += 5) {
    auto m = parsePtx(text.substr(0, at) + text.substr(at + 4), "hole.ptx");
    errors += !m.ok();
  }
  EXPECT_GT(errors, 100u);
}

} // namespace
} // namespace mobagen::emu
