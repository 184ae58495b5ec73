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
  float A[16][16], Bt[8][16], C[16][8];
  for (unsigned lane = 0; lane < 32; ++lane) {
    for (unsigned i = 0; i < K / 2; ++i) { // A: K/2 elements per lane, two per register
      const uint32_t reg = uint32_t(read(w, k.operands[aOp.reg + i / 2], lane));
      const FragCoord c = mmaAElement(K, lane, i);
      A[c.row][c.col] = toFloat(uint16_t(reg >> (16 * (i & 1))));
    }
    for (unsigned i = 0; i < K / 4; ++i) {
      const uint32_t reg = uint32_t(read(w, k.operands[bOp.reg + i / 2], lane));
      const FragCoord c = mmaBElement(K, lane, i);
      Bt[c.col][c.row] = toFloat(uint16_t(reg >> (16 * (i & 1))));
    }
    for (unsigned i = 0; i < 4; ++i) {
      const FragCoord c = mmaCElement(lane, i);
      C[c.row][c.col] = std::bit_cast<float>(uint32_t(read(w, k.operands[cOp.reg + i], lane)));
    }
  }
  float D[16][8];
  for (unsigned r = 0; r < 16; ++r)
    for (unsigned c = 0; c < 8; ++c) {
      float acc = C[r][c];
      for (unsigned kk = 0; kk < K; ++kk)
        acc += A[r][kk] * Bt[c][kk];
      D[r][c] = acc;
    }
  for (unsigned lane = 0; lane < 32; ++lane)
    for (unsigned i = 0; i < 4; ++i) {
      const FragCoord c = mmaCElement(lane, i);
      const Operand &e = k.operands[dOp.reg + i];
      if (e.kind == OperandKind::Reg)
        write(w, e.reg, lane, std::bit_cast<uint32_t>(D[c.row][c.col]));
    }
  counters_.tensorCoreFlops += 2ull * 16 * 8 * K;
  return Status::success();
}

} // namespace mobagen::emu
