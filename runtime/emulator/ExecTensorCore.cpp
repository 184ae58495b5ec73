//===- ExecTensorCore.cpp - ldmatrix and mma.sync (PTX ISA 9.7.14) ---------===//
//
// Both are warp-wide and .aligned: they run once all 32 lanes have arrived.
// The lane <-> element maps come from FragmentLayout.h, written from the ISA
// text. mma multiplies exactly (f16/bf16 products are exact in f32) and
// accumulates in f32 in k order.
//
//===----------------------------------------------------------------------===//
#include <bit>
#include <cstring>

#include "runtime/emulator/FragmentLayout.h"
#include "runtime/emulator/Interpreter.h"
#include "runtime/emulator/Numerics.h"

namespace mobagen::emu {

Status CtaRunner::execLdmatrix(Warp &w, const Inst &inst, uint32_t group) {
  const Kernel &k = kernel();
  const Operand &d = k.operand(inst, 0), &a = k.operand(inst, 1);
  const unsigned matrices = inst.vec;
  const uint32_t addressLanes = matrices == 4 ? 0xffffffffu : (1u << (8 * matrices)) - 1;
  MOBAGEN_RETURN_IF_ERROR(checkWritten(w, a, addressLanes, inst));
  // Snapshot: the 8 rows of 8 b16 elements of every matrix.
  uint16_t rows[4][8][8];
  uint32_t offsets[32];
  for (unsigned t = 0; t < 8 * matrices; ++t) {
    Space space = inst.space;
    uint64_t addr = effectiveAddress(w, a, t, inst.space);
    MOBAGEN_RETURN_IF_ERROR(load(w, t, inst, space, addr, 16, rows[t / 8][t % 8], 16));
    if (space != Space::Shared)
      return fault(w, t, inst, fmt::format("ldmatrix row address 0x{:x} is not in shared memory", addr));
    offsets[t] = uint32_t(addr);
  }
  countSharedAccess(offsets, addressLanes, 16);
  const bool trans = inst.flags & kTrans;
  for (uint32_t m = group; m; m &= m - 1) {
    const unsigned lane = std::countr_zero(m);
    for (unsigned i = 0; i < matrices; ++i) {
      const FragCoord lo = ldmatrixElement(lane, 0, trans), hi = ldmatrixElement(lane, 1, trans);
      const uint32_t v = uint32_t(rows[i][lo.row][lo.col]) | (uint32_t(rows[i][hi.row][hi.col]) << 16);
      const Operand &e = k.operands[d.reg + i];
      if (e.kind == OperandKind::Reg)
        write(w, e.reg, lane, v);
    }
  }
  return Status::success();
}

Status CtaRunner::execMma(Warp &w, const Inst &inst, uint32_t group) {
  const Kernel &k = kernel();
  for (unsigned i = 1; i < 4; ++i)
    MOBAGEN_RETURN_IF_ERROR(checkWritten(w, k.operand(inst, i), group, inst));
  const unsigned K = MmaShape(inst.sub) == MmaShape::M16N8K16 ? 16 : 8;
  const Operand &dOp = k.operand(inst, 0), &aOp = k.operand(inst, 1), &bOp = k.operand(inst, 2),
                &cOp = k.operand(inst, 3);
  const bool bf16 = inst.type2 == Type::BF16;
  auto toFloat = [bf16](uint16_t h) { return bf16 ? bf16ToFloat(h) : f16ToFloat(h); };
  // The fragment tables, flattened once: element index in A (16 x K), Bt (8 x K), C (16 x 8).
  struct Tables {
    uint8_t a[2][32][8], b[2][32][4], c[32][4];
    Tables() {
      for (unsigned s = 0; s < 2; ++s) {
        const unsigned kk = s ? 16 : 8;
        for (unsigned lane = 0; lane < 32; ++lane) {
          for (unsigned i = 0; i < kk / 2; ++i) {
            const FragCoord e = mmaAElement(kk, lane, i);
            a[s][lane][i] = uint8_t(e.row * 16 + e.col);
          }
          for (unsigned i = 0; i < kk / 4; ++i) {
            const FragCoord e = mmaBElement(kk, lane, i);
            b[s][lane][i] = uint8_t(e.row * 8 + e.col);
          }
        }
      }
      for (unsigned lane = 0; lane < 32; ++lane)
        for (unsigned i = 0; i < 4; ++i) {
          const FragCoord e = mmaCElement(lane, i);
          c[lane][i] = uint8_t(e.row * 8 + e.col);
        }
    }
  };
  static const Tables tables;
  const unsigned s = K == 16 ? 1 : 0;
  float A[16 * 16], B[16 * 8], C[16 * 8];
  const uint64_t *regs = w.regs.data();
  for (unsigned i = 0; i < K / 4; ++i) { // A: K/2 elements per lane, two per register
    const uint64_t *r = regs + size_t(k.operands[aOp.reg + i].reg) * 32;
    for (unsigned lane = 0; lane < 32; ++lane) {
      A[tables.a[s][lane][2 * i]] = toFloat(uint16_t(r[lane]));
      A[tables.a[s][lane][2 * i + 1]] = toFloat(uint16_t(r[lane] >> 16));
    }
  }
  for (unsigned i = 0; i < K / 8; ++i) {
    const uint64_t *r = regs + size_t(k.operands[bOp.reg + i].reg) * 32;
    for (unsigned lane = 0; lane < 32; ++lane) {
      B[tables.b[s][lane][2 * i]] = toFloat(uint16_t(r[lane]));
      B[tables.b[s][lane][2 * i + 1]] = toFloat(uint16_t(r[lane] >> 16));
    }
  }
  for (unsigned i = 0; i < 4; ++i) {
    const Operand &e = k.operands[cOp.reg + i];
    for (unsigned lane = 0; lane < 32; ++lane)
      C[tables.c[lane][i]] = std::bit_cast<float>(uint32_t(read(w, e, lane)));
  }
  // D = C + A B, each element accumulated in k order; the loop over the 8 columns
  // is innermost so that it vectorizes.
  float D[16 * 8];
  for (unsigned r = 0; r < 16; ++r) {
    float acc[8];
    for (unsigned c = 0; c < 8; ++c)
      acc[c] = C[r * 8 + c];
    for (unsigned kk = 0; kk < K; ++kk) {
      const float a = A[r * 16 + kk];
      for (unsigned c = 0; c < 8; ++c)
        acc[c] += a * B[kk * 8 + c];
    }
    for (unsigned c = 0; c < 8; ++c)
      D[r * 8 + c] = acc[c];
  }
  for (unsigned i = 0; i < 4; ++i) {
    const Operand &e = k.operands[dOp.reg + i];
    if (e.kind == OperandKind::Reg)
      for (unsigned lane = 0; lane < 32; ++lane)
        write(w, e.reg, lane, std::bit_cast<uint32_t>(D[tables.c[lane][i]]));
  }
  counters_.tensorCoreFlops += 2ull * 16 * 8 * K;
  return Status::success();
}

} // namespace mobagen::emu
