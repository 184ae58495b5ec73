//===- ExecAlu.cpp - Integer, bit, float, comparison and selection ops -----===//
//
// Semantics from PTX ISA sections 9.7.1 (integer), 9.7.3 (float), 9.7.4 (half),
// 9.7.6 (comparison and selection), 9.7.7 (logic and shift). Values live in
// registers as raw bit patterns; each op reads them as its instruction type.
// Integer division by zero is undefined in PTX, so it is a fault here.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/emulator/Interpreter.h"
#include "runtime/emulator/Numerics.h"

namespace mobagen::emu {
namespace {

uint64_t widthMask(unsigned bytes) { return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1; }

int64_t signExtend(uint64_t v, unsigned bytes) {
  if (bytes >= 8)
    return int64_t(v);
  const unsigned shift = 64 - bytes * 8;
  return int64_t(v << shift) >> shift;
}

float asF32(uint64_t v) { return std::bit_cast<float>(uint32_t(v)); }
double asF64(uint64_t v) { return std::bit_cast<double>(v); }
uint64_t fromF32(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t fromF64(double d) { return std::bit_cast<uint64_t>(d); }

bool compareInt(Cmp c, int64_t a, int64_t b, uint64_t ua, uint64_t ub) {
  switch (c) {
  case Cmp::Eq: return a == b;
  case Cmp::Ne: return a != b;
  case Cmp::Lt: return a < b;
  case Cmp::Le: return a <= b;
  case Cmp::Gt: return a > b;
  case Cmp::Ge: return a >= b;
  case Cmp::Lo: return ua < ub;
  case Cmp::Ls: return ua <= ub;
  case Cmp::Hi: return ua > ub;
  case Cmp::Hs: return ua >= ub;
  default: return false;
  }
}

bool compareFloat(Cmp c, double a, double b) {
  const bool unordered = std::isnan(a) || std::isnan(b);
  switch (c) {
  case Cmp::Eq: return !unordered && a == b;
  case Cmp::Ne: return !unordered && a != b;
  case Cmp::Lt: return !unordered && a < b;
  case Cmp::Le: return !unordered && a <= b;
  case Cmp::Gt: return !unordered && a > b;
  case Cmp::Ge: return !unordered && a >= b;
  case Cmp::Equ: return unordered || a == b;
  case Cmp::Neu: return unordered || a != b;
  case Cmp::Ltu: return unordered || a < b;
  case Cmp::Leu: return unordered || a <= b;
  case Cmp::Gtu: return unordered || a > b;
  case Cmp::Geu: return unordered || a >= b;
  case Cmp::Num: return !unordered;
  case Cmp::Nan: return unordered;
  default: return false;
  }
}

/// PTX min/max on floats: if one input is NaN the other is returned.
double fmin2(double a, double b) { return std::isnan(a) ? b : std::isnan(b) ? a : std::min(a, b); }
double fmax2(double a, double b) { return std::isnan(a) ? b : std::isnan(b) ? a : std::max(a, b); }

enum class Kind { Unsigned, Signed, F16, BF16, F32, F64, F16x2, BF16x2, Pred };

Kind kindOf(Type t) {
  switch (t) {
  case Type::S8: case Type::S16: case Type::S32: case Type::S64: return Kind::Signed;
  case Type::F16: return Kind::F16;
  case Type::BF16: return Kind::BF16;
  case Type::F32: return Kind::F32;
  case Type::F64: return Kind::F64;
  case Type::F16x2: return Kind::F16x2;
  case Type::BF16x2: return Kind::BF16x2;
  case Type::Pred: return Kind::Pred;
  default: return Kind::Unsigned;
  }
}

} // namespace

/// The hot instructions of address arithmetic and f32 math, without the general
/// path's per-lane dispatch: integer add/sub/mul.lo/mad.lo/logic work modulo 2^width
/// on the raw bits, so signedness does not matter for them.
bool CtaRunner::tryFastPath(Warp &w, const Inst &inst, uint32_t mask, Status &status) {
  const Kernel &k = kernel();
  const Operand &d = k.operand(inst, 0);
  if (d.kind != OperandKind::Reg || (inst.flags & (kSat | kFtz)))
    return false;
  const unsigned bytes = typeBytes(inst.type);
  const uint64_t wmask = widthMask(bytes);
  const uint32_t dreg = d.reg;
  const unsigned n = inst.numOperands;
  auto lanes = [&](auto &&f) {
    for (uint32_t m = mask; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      write(w, dreg, l, f(l));
    }
    status = Status::success();
    return true;
  };
  const Operand *o1 = n > 1 ? &k.operand(inst, 1) : nullptr;
  const Operand *o2 = n > 2 ? &k.operand(inst, 2) : nullptr;
  const Operand *o3 = n > 3 ? &k.operand(inst, 3) : nullptr;
  if (o1 && o1->kind == OperandKind::Vector)
    return false;
  const bool isInt = !isFloat(inst.type) && inst.type != Type::Pred && bytes >= 4;
  const MulMode mul = MulMode(inst.sub);
  switch (inst.op) {
  case Op::Mov:
    return lanes([&](unsigned l) { return read(w, *o1, l); });
  case Op::Add:
    if (isInt) return lanes([&](unsigned l) { return (read(w, *o1, l) + read(w, *o2, l)) & wmask; });
    if (inst.type == Type::F32)
      return lanes([&](unsigned l) { return uint64_t(std::bit_cast<uint32_t>(asF32(read(w, *o1, l)) + asF32(read(w, *o2, l)))); });
    return false;
  case Op::Sub:
    if (isInt) return lanes([&](unsigned l) { return (read(w, *o1, l) - read(w, *o2, l)) & wmask; });
    return false;
  case Op::And: if (isInt) return lanes([&](unsigned l) { return read(w, *o1, l) & read(w, *o2, l); }); return false;
  case Op::Or: if (isInt) return lanes([&](unsigned l) { return read(w, *o1, l) | read(w, *o2, l); }); return false;
  case Op::Xor: if (isInt) return lanes([&](unsigned l) { return (read(w, *o1, l) ^ read(w, *o2, l)) & wmask; }); return false;
  case Op::Shl:
    if (isInt)
      return lanes([&](unsigned l) {
        const uint64_t sh = read(w, *o2, l) & 0xffffffffull;
        return sh >= bytes * 8 ? 0 : (read(w, *o1, l) << sh) & wmask;
      });
    return false;
  case Op::Mul:
    if (isInt && mul == MulMode::Lo)
      return lanes([&](unsigned l) { return (read(w, *o1, l) * read(w, *o2, l)) & wmask; });
    if (isInt && mul == MulMode::Wide && bytes == 4) {
      if (isSignedInt(inst.type))
        return lanes([&](unsigned l) {
          return uint64_t(int64_t(int32_t(read(w, *o1, l))) * int64_t(int32_t(read(w, *o2, l))));
        });
      return lanes([&](unsigned l) { return (read(w, *o1, l) & 0xffffffffull) * (read(w, *o2, l) & 0xffffffffull); });
    }
    if (inst.type == Type::F32)
      return lanes([&](unsigned l) { return uint64_t(std::bit_cast<uint32_t>(asF32(read(w, *o1, l)) * asF32(read(w, *o2, l)))); });
    return false;
  case Op::Mad:
    if (isInt && mul == MulMode::Lo)
      return lanes([&](unsigned l) { return (read(w, *o1, l) * read(w, *o2, l) + read(w, *o3, l)) & wmask; });
    return false;
  case Op::Fma:
    if (inst.type == Type::F32)
      return lanes([&](unsigned l) {
        return uint64_t(std::bit_cast<uint32_t>(std::fma(asF32(read(w, *o1, l)), asF32(read(w, *o2, l)), asF32(read(w, *o3, l)))));
      });
    return false;
  case Op::Selp:
    return lanes([&](unsigned l) { return read(w, *o3, l) ? read(w, *o1, l) : read(w, *o2, l); });
  default:
    return false;
  }
}

void snapshotDefinedness(const CtaRunner &cta, const Warp &w, const Kernel &k, const Inst &inst, uint32_t mask,
                         uint8_t (*out)[32]) {
  for (unsigned i = 0; i < inst.numOperands && i < 8; ++i) {
    const Operand &op = k.operand(inst, i);
    for (uint32_t m = mask; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      if (op.kind == OperandKind::Vector) {
        for (unsigned e = 0; e < op.count && i + e < 8; ++e)
          out[i + e][l] = cta.definedMask(w, k.operands[op.reg + e], l);
      } else {
        out[i][l] = cta.definedMask(w, op, l);
      }
    }
  }
}

Status CtaRunner::execAlu(Warp &w, const Inst &inst, uint32_t mask) {
  const Kernel &k = kernel();
  const unsigned n = inst.numOperands;
  // Sources start after the destination; setp p|q has two destinations.
  const unsigned firstSource = (inst.op == Op::Setp && n == 4u + (inst.boolOp != BoolOp::None)) ? 2 : 1;
  if (!ctx_.checkUninitialized || sourcesDefined(w, inst, firstSource, mask))
    return execAluValues(w, inst, mask);
  // Some source bytes are undefined: compute anyway and propagate (Definedness.cpp).
  uint8_t masks[8][32] = {};
  snapshotDefinedness(*this, w, k, inst, mask, masks);
  MOBAGEN_RETURN_IF_ERROR(execAluValues(w, inst, mask));
  propagateDefinedness(w, inst, firstSource, mask, masks);
  return Status::success();
}

Status CtaRunner::execAluValues(Warp &w, const Inst &inst, uint32_t mask) {
  const Kernel &k = kernel();
  const unsigned n = inst.numOperands;
  const Operand &d = k.operand(inst, 0);
  const Type type = inst.type;
  const unsigned bytes = typeBytes(type);
  const uint64_t wmask = widthMask(bytes);
  const Kind kind = kindOf(type);
  const bool ftz = inst.flags & kFtz;
  const bool sat = inst.flags & kSat;
  auto unsupported = [&](const char *what) {
    return fault(w, std::countr_zero(mask), inst, fmt::format("not implemented: {}", what));
  };
  if (isFloat(type) && inst.rounding != Rounding::None && inst.rounding != Rounding::Rn &&
      inst.op != Op::Cvt)
    return unsupported("float arithmetic with a rounding mode other than .rn");

  if (Status fast = Status::success(); tryFastPath(w, inst, mask, fast))
    return fast;

  // Float helpers: one scalar op on f32 / f64 / f16 / bf16, or per half of x2 types.
  auto floatOp = [&](auto &&f, uint64_t a, uint64_t b, uint64_t c) -> uint64_t {
    auto fin32 = [&](float x) { return ftz ? flushSubnormal(x) : x; };
    auto fout32 = [&](float x) {
      if (sat)
        x = std::isnan(x) ? 0.0f : std::clamp(x, 0.0f, 1.0f);
      return ftz ? flushSubnormal(x) : x;
    };
    auto fout64 = [&](double x) { // .sat on half types; .ftz does not apply to them
      if (sat)
        x = std::isnan(x) ? 0.0 : std::clamp(x, 0.0, 1.0);
      return x;
    };
    switch (kind) {
    case Kind::F32:
      return fromF32(fout32(float(f(double(fin32(asF32(a))), double(fin32(asF32(b))), double(fin32(asF32(c)))))));
    case Kind::F64:
      return fromF64(f(asF64(a), asF64(b), asF64(c)));
    // Half types: computed in double (exact for add, sub, mul; one rounding for fma),
    // then rounded once to the 16-bit format.
    case Kind::F16:
      return doubleToF16(fout64(f(f16ToFloat(uint16_t(a)), f16ToFloat(uint16_t(b)), f16ToFloat(uint16_t(c)))));
    case Kind::BF16:
      return doubleToBf16(fout64(f(bf16ToFloat(uint16_t(a)), bf16ToFloat(uint16_t(b)), bf16ToFloat(uint16_t(c)))));
    case Kind::F16x2: {
      uint64_t r = 0;
      for (int h = 0; h < 2; ++h)
        r |= uint64_t(doubleToF16(fout64(f(f16ToFloat(uint16_t(a >> (16 * h))), f16ToFloat(uint16_t(b >> (16 * h))),
                                           f16ToFloat(uint16_t(c >> (16 * h))))))) << (16 * h);
      return r;
    }
    case Kind::BF16x2: {
      uint64_t r = 0;
      for (int h = 0; h < 2; ++h)
        r |= uint64_t(doubleToBf16(fout64(f(bf16ToFloat(uint16_t(a >> (16 * h))), bf16ToFloat(uint16_t(b >> (16 * h))),
                                            bf16ToFloat(uint16_t(c >> (16 * h))))))) << (16 * h);
      return r;
    }
    default:
      return 0;
    }
  };
  const bool isF = isFloat(type);
  auto src = [&](unsigned i, unsigned lane) { return read(w, k.operand(inst, i), lane); };

  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    uint64_t r = 0;
    switch (inst.op) {
    case Op::Mov: {
      const Operand &s = k.operand(inst, 1);
      if (d.kind == OperandKind::Vector) { // unpack: mov.b32 {lo, hi}, r
        const uint64_t v = read(w, s, l);
        const unsigned part = bytes * 8 / d.count;
        for (unsigned i = 0; i < d.count; ++i) {
          const Operand &e = k.operands[d.reg + i];
          if (e.kind == OperandKind::Reg)
            write(w, e.reg, l, (v >> (part * i)) & widthMask(part / 8));
        }
        continue;
      }
      if (s.kind == OperandKind::Vector) { // pack: mov.b32 r, {lo, hi}
        const unsigned part = bytes * 8 / s.count;
        for (unsigned i = 0; i < s.count; ++i)
          r |= (read(w, k.operands[s.reg + i], l) & widthMask(part / 8)) << (part * i);
      } else {
        r = read(w, s, l);
      }
      break;
    }
    case Op::Add: case Op::Sub: case Op::Min: case Op::Max: case Op::Copysign: {
      const uint64_t a = src(1, l), b = src(2, l);
      if (isF) {
        switch (inst.op) {
        case Op::Add: r = floatOp([](double x, double y, double) { return x + y; }, a, b, 0); break;
        case Op::Sub: r = floatOp([](double x, double y, double) { return x - y; }, a, b, 0); break;
        case Op::Min:
          r = (inst.flags & kNaN)
                  ? floatOp([](double x, double y, double) { return std::isnan(x) || std::isnan(y) ? NAN : fmin2(x, y); }, a, b, 0)
                  : floatOp([](double x, double y, double) { return fmin2(x, y); }, a, b, 0);
          break;
        case Op::Max:
          r = (inst.flags & kNaN)
                  ? floatOp([](double x, double y, double) { return std::isnan(x) || std::isnan(y) ? NAN : fmax2(x, y); }, a, b, 0)
                  : floatOp([](double x, double y, double) { return fmax2(x, y); }, a, b, 0);
          break;
        default: r = floatOp([](double x, double y, double) { return std::copysign(y, x); }, a, b, 0); break;
        }
      } else if (kind == Kind::Signed) {
        const int64_t x = signExtend(a, bytes), y = signExtend(b, bytes);
        int64_t v = inst.op == Op::Add ? x + y : inst.op == Op::Sub ? x - y
                    : inst.op == Op::Min ? std::min(x, y) : std::max(x, y);
        if (sat && bytes == 4)
          v = std::clamp<int64_t>(v, INT32_MIN, INT32_MAX);
        r = uint64_t(v);
      } else {
        const uint64_t x = a & wmask, y = b & wmask;
        r = inst.op == Op::Add ? x + y : inst.op == Op::Sub ? x - y
            : inst.op == Op::Min ? std::min(x, y) : std::max(x, y);
      }
      break;
    }
    case Op::Mul: case Op::Mad: {
      const uint64_t a = src(1, l), b = src(2, l);
      const uint64_t c = inst.op == Op::Mad ? src(3, l) : 0;
      if (isF) {
        if (inst.op == Op::Mul)
          r = floatOp([](double x, double y, double) { return x * y; }, a, b, 0);
        else if (kind == Kind::F32 && !ftz && !sat)
          r = fromF32(std::fma(asF32(a), asF32(b), asF32(c)));
        else
          r = floatOp([](double x, double y, double z) { return std::fma(x, y, z); }, a, b, c);
        break;
      }
      const MulMode mode = MulMode(inst.sub);
      if (mode == MulMode::Wide) {
        if (kind == Kind::Signed)
          r = uint64_t(signExtend(a, bytes) * signExtend(b, bytes));
        else
          r = (a & wmask) * (b & wmask);
        r += c;
        break;
      }
      if (mode == MulMode::Hi) {
        if (bytes == 8) {
          if (kind == Kind::Signed)
            r = uint64_t((Int128(int64_t(a)) * Int128(int64_t(b))) >> 64);
          else
            r = uint64_t((UInt128)(a) * (UInt128)(b) >> 64);
        } else if (kind == Kind::Signed) {
          r = uint64_t((signExtend(a, bytes) * signExtend(b, bytes)) >> (bytes * 8));
        } else {
          r = ((a & wmask) * (b & wmask)) >> (bytes * 8);
        }
      } else {
        r = a * b;
      }
      r += c;
      break;
    }
    case Op::Fma: {
      if (kind == Kind::F32 && !ftz && !sat) // one rounding, as fma.rn.f32 does
        r = fromF32(std::fma(asF32(src(1, l)), asF32(src(2, l)), asF32(src(3, l))));
      else
        r = floatOp([](double x, double y, double z) { return std::fma(x, y, z); }, src(1, l), src(2, l), src(3, l));
      break;
    }
    case Op::Div: case Op::Rem: {
      const uint64_t a = src(1, l), b = src(2, l);
      if (isF) {
        if (inst.op == Op::Rem)
          return unsupported("rem on floats");
        r = floatOp([](double x, double y, double) { return x / y; }, a, b, 0);
        if (kind == Kind::F32 && !ftz)
          r = fromF32(asF32(a) / asF32(b));
        break;
      }
      if ((b & wmask) == 0)
        return fault(w, l, inst, "integer division by zero (undefined in PTX)");
      if (kind == Kind::Signed) {
        const int64_t x = signExtend(a, bytes), y = signExtend(b, bytes);
        if (bytes == 8 && x == INT64_MIN && y == -1)
          r = inst.op == Op::Div ? uint64_t(x) : 0;
        else
          r = uint64_t(inst.op == Op::Div ? x / y : x % y);
      } else {
        r = inst.op == Op::Div ? (a & wmask) / (b & wmask) : (a & wmask) % (b & wmask);
      }
      break;
    }
    case Op::Abs: case Op::Neg: {
      const uint64_t a = src(1, l);
      if (isF) {
        if (inst.op == Op::Abs)
          r = floatOp([](double x, double, double) { return std::fabs(x); }, a, 0, 0);
        else
          r = floatOp([](double x, double, double) { return -x; }, a, 0, 0);
      } else {
        const int64_t x = signExtend(a, bytes);
        r = uint64_t(inst.op == Op::Abs ? (x < 0 ? -x : x) : -x);
      }
      break;
    }
    case Op::And: r = src(1, l) & src(2, l); break;
    case Op::Or: r = src(1, l) | src(2, l); break;
    case Op::Xor: r = src(1, l) ^ src(2, l); break;
    case Op::Not: r = type == Type::Pred ? uint64_t(src(1, l) == 0) : ~src(1, l); break;
    case Op::Cnot: r = (src(1, l) & wmask) == 0; break;
    case Op::Shl: case Op::Shr: {
      const uint64_t a = src(1, l);
      const uint32_t s = uint32_t(src(2, l));
      const unsigned bits = bytes * 8;
      if (inst.op == Op::Shl)
        r = s >= bits ? 0 : a << s;
      else if (kind == Kind::Signed)
        r = uint64_t(signExtend(a, bytes) >> std::min<uint32_t>(s, bits - 1));
      else
        r = s >= bits ? 0 : (a & wmask) >> s;
      break;
    }
    case Op::Popc: r = std::popcount(src(1, l) & wmask); break;
    case Op::Clz: r = bytes == 8 ? std::countl_zero(src(1, l)) : std::countl_zero(uint32_t(src(1, l))); break;
    case Op::Brev: {
      uint64_t a = src(1, l) & wmask, v = 0;
      for (unsigned i = 0; i < bytes * 8; ++i)
        v |= ((a >> i) & 1) << (bytes * 8 - 1 - i);
      r = v;
      break;
    }
    case Op::Bfe: {
      const uint64_t a = src(1, l);
      const unsigned bits = bytes * 8;
      const unsigned pos = unsigned(src(2, l) & 0xff), len = unsigned(src(3, l) & 0xff);
      uint64_t v = 0;
      const bool sbit = kind == Kind::Signed && len > 0 &&
                        ((a >> std::min(pos + len - 1, bits - 1)) & 1);
      for (unsigned i = 0; i < bits; ++i) {
        const bool bit = (i < len && pos + i < bits) ? ((a >> (pos + i)) & 1) : (kind == Kind::Signed ? sbit : false);
        v |= uint64_t(bit) << i;
      }
      r = v;
      break;
    }
    case Op::Bfi: {
      const uint64_t a = src(1, l), b = src(2, l);
      const unsigned pos = unsigned(src(3, l) & 0xff), len = unsigned(src(4, l) & 0xff);
      const unsigned bits = bytes * 8;
      uint64_t v = b;
      for (unsigned i = 0; i < len && pos + i < bits; ++i)
        v = (v & ~(1ull << (pos + i))) | (((a >> i) & 1) << (pos + i));
      r = v;
      break;
    }
    case Op::Prmt: {
      if (inst.type2 != Type::None && inst.type2 != Type::B32)
        return unsupported("prmt modes (.f4e, .b4e, .rc8, ...)");
      const uint64_t bytesAB = (src(1, l) & 0xffffffffull) | ((src(2, l) & 0xffffffffull) << 32);
      const uint32_t sel = uint32_t(src(3, l));
      uint32_t v = 0;
      for (unsigned i = 0; i < 4; ++i) {
        const unsigned s = (sel >> (4 * i)) & 0xf;
        uint8_t byte = uint8_t(bytesAB >> (8 * (s & 7)));
        if (s & 8)
          byte = (byte & 0x80) ? 0xff : 0;
        v |= uint32_t(byte) << (8 * i);
      }
      r = v;
      break;
    }
    case Op::Lop3: {
      const uint64_t a = src(1, l), b = src(2, l), c = src(3, l);
      const uint32_t lut = uint32_t(src(4, l));
      uint64_t v = 0;
      for (unsigned i = 0; i < 32; ++i) {
        const unsigned idx = (((a >> i) & 1) << 2) | (((b >> i) & 1) << 1) | ((c >> i) & 1);
        v |= uint64_t((lut >> idx) & 1) << i;
      }
      r = v;
      break;
    }
    case Op::Shf: {
      const uint64_t lo = src(1, l) & 0xffffffffull, hi = src(2, l) & 0xffffffffull;
      uint32_t s = uint32_t(src(3, l));
      s = (inst.flags & kClamp) ? std::min(s, 32u) : (s & 31);
      const uint64_t both = (hi << 32) | lo;
      r = (inst.flags & kLeft) ? ((both << s) >> 32) & 0xffffffffull : (both >> s) & 0xffffffffull;
      break;
    }
    case Op::Setp: {
      // setp.cmp[.bool].type p[|q], a, b[, c]
      const bool dual = n == 4 + (inst.boolOp != BoolOp::None);
      const unsigned ai = dual ? 2 : 1;
      const uint64_t a = src(ai, l), b = src(ai + 1, l);
      bool v;
      if (isF) {
        double x, y;
        if (kind == Kind::F32) { x = asF32(a); y = asF32(b); }
        else if (kind == Kind::F64) { x = asF64(a); y = asF64(b); }
        else if (kind == Kind::F16) { x = f16ToFloat(uint16_t(a)); y = f16ToFloat(uint16_t(b)); }
        else if (kind == Kind::BF16) { x = bf16ToFloat(uint16_t(a)); y = bf16ToFloat(uint16_t(b)); }
        else return unsupported("setp on packed half pairs");
        if (ftz && kind == Kind::F32) { x = flushSubnormal(float(x)); y = flushSubnormal(float(y)); }
        v = compareFloat(inst.cmp, x, y);
      } else {
        const int64_t x = kind == Kind::Signed ? signExtend(a, bytes) : int64_t(a & wmask);
        const int64_t y = kind == Kind::Signed ? signExtend(b, bytes) : int64_t(b & wmask);
        Cmp c = inst.cmp;
        if (kind != Kind::Signed) // unsigned/bit types: lt/le/gt/ge compare unsigned
          c = c == Cmp::Lt ? Cmp::Lo : c == Cmp::Le ? Cmp::Ls : c == Cmp::Gt ? Cmp::Hi : c == Cmp::Ge ? Cmp::Hs : c;
        v = compareInt(c, x, y, a & wmask, b & wmask);
      }
      bool q = !v;
      if (inst.boolOp != BoolOp::None) {
        const bool c = src(ai + 2, l) != 0;
        auto combine = [&](bool x) {
          return inst.boolOp == BoolOp::And ? (x && c) : inst.boolOp == BoolOp::Or ? (x || c) : (x != c);
        };
        q = combine(!v);
        v = combine(v);
      }
      if (d.kind == OperandKind::Reg)
        write(w, d.reg, l, v);
      if (dual && k.operand(inst, 1).kind == OperandKind::Reg)
        write(w, k.operand(inst, 1).reg, l, q);
      continue;
    }
    case Op::Selp: r = src(3, l) ? src(1, l) : src(2, l); break;
    case Op::Ex2: case Op::Lg2: case Op::Rcp: case Op::Rsqrt: case Op::Sqrt: case Op::Sin:
    case Op::Cos: case Op::Tanh: {
      const uint64_t a = src(1, l);
      const Op op = inst.op;
      auto f = [op](double x, double, double) -> double {
        switch (op) {
        case Op::Ex2: return std::exp2(x);
        case Op::Lg2: return std::log2(x);
        case Op::Rcp: return 1.0 / x;
        case Op::Rsqrt: return 1.0 / std::sqrt(x);
        case Op::Sqrt: return std::sqrt(x);
        case Op::Sin: return std::sin(x);
        case Op::Cos: return std::cos(x);
        default: return std::tanh(x);
        }
      };
      if (kind == Kind::F32 && !(ftz || sat) && (op == Op::Sqrt || op == Op::Rcp) && !(inst.flags & kApprox))
        r = op == Op::Sqrt ? fromF32(std::sqrt(asF32(a))) : fromF32(1.0f / asF32(a)); // correctly rounded
      else
        r = floatOp(f, a, 0, 0);
      break;
    }
    default:
      return unsupported(std::string(opName(inst.op)).c_str());
    }
    if (d.kind == OperandKind::Reg)
      write(w, d.reg, l, inst.op == Op::Mov || bytes == 0 ? r : (inst.op == Op::Mul || inst.op == Op::Mad) &&
                                                                    MulMode(inst.sub) == MulMode::Wide
                                                                ? r
                                                                : r & wmask);
  }
  return Status::success();
}

} // namespace mobagen::emu
