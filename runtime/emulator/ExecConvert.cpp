//===- ExecConvert.cpp - cvt and cvta (PTX ISA 9.7.9.21, 9.7.9.17) ----------===//
//
// cvt between every integer and float type with the ISA's rounding modifiers:
// float-to-integer conversions saturate (NaN becomes 0), .sat clamps integers
// to the destination range and floats to [0, 1], and the packed forms
// cvt.rn.{f16x2,bf16x2}.f32 d, a, b put a in the upper half and b in the lower.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "runtime/emulator/Interpreter.h"
#include "runtime/emulator/Numerics.h"

namespace mobagen::emu {
namespace {

double roundIntegral(double x, Rounding r) {
  switch (r) {
  case Rounding::Rzi: case Rounding::Rz: return std::trunc(x);
  case Rounding::Rmi: case Rounding::Rm: return std::floor(x);
  case Rounding::Rpi: case Rounding::Rp: return std::ceil(x);
  default: return std::nearbyint(x); // ties to even under the default environment
  }
}

/// Float -> float with rounding, for f64 -> f32.
float roundToF32(double x, Rounding r) {
  const float f = float(x); // nearest even
  if (r == Rounding::Rn || r == Rounding::None || double(f) == x || std::isnan(x))
    return f;
  const bool up = double(f) < x; // f is below x
  switch (r) {
  case Rounding::Rz: return (x > 0) == up ? f : std::nextafter(f, 0.0f);
  case Rounding::Rm: return up ? f : std::nextafter(f, -INFINITY);
  case Rounding::Rp: return up ? std::nextafter(f, INFINITY) : f;
  default: return f;
  }
}

} // namespace

Status CtaRunner::execConvert(Warp &w, const Inst &inst, uint32_t mask) {
  if (!ctx_.checkUninitialized || sourcesDefined(w, inst, 1, mask))
    return execConvertValues(w, inst, mask);
  uint8_t masks[8][32] = {};
  snapshotDefinedness(*this, w, kernel(), inst, mask, masks);
  MOBAGEN_RETURN_IF_ERROR(execConvertValues(w, inst, mask));
  propagateDefinedness(w, inst, 1, mask, masks);
  return Status::success();
}

Status CtaRunner::execConvertValues(Warp &w, const Inst &inst, uint32_t mask) {
  const Kernel &k = kernel();
  const Operand &d = k.operand(inst, 0);
  if (d.kind != OperandKind::Reg)
    return fault(w, std::countr_zero(mask), inst, "the destination must be a register");

  if (inst.op == Op::Cvta) {
    const Space space = inst.space;
    for (uint32_t m = mask; m; m &= m - 1) {
      const unsigned l = std::countr_zero(m);
      const uint64_t a = read(w, k.operand(inst, 1), l);
      uint64_t r = a;
      const uint64_t window = space == Space::Shared ? kSharedWindow : kLocalWindow;
      if (space == Space::Shared || space == Space::Local) {
        if (inst.flags & kToSpace) {
          if (a < window || a >= window + kWindowSize)
            return fault(w, l, inst,
                         fmt::format("cvta.to.{} of 0x{:x}, which is not a generic {} address",
                                     spaceName(space), a, spaceName(space)));
          r = a - window;
        } else {
          r = (a & 0xffffffffull) + window;
        }
      } else if (space != Space::Global && space != Space::Const) { // global/const: generic == own
        return fault(w, l, inst, fmt::format("cvta for the {} space is not implemented", spaceName(space)));
      }
      write(w, d.reg, l, r);
    }
    return Status::success();
  }

  const Type to = inst.type, from = inst.type2;
  const bool sat = inst.flags & kSat, ftz = inst.flags & kFtz;
  const unsigned toBytes = typeBytes(to), fromBytes = typeBytes(from);
  auto readFloat = [&](uint64_t v) -> double {
    switch (from) {
    case Type::F16: return f16ToFloat(uint16_t(v));
    case Type::BF16: return bf16ToFloat(uint16_t(v));
    case Type::F32: return ftz ? flushSubnormal(std::bit_cast<float>(uint32_t(v))) : std::bit_cast<float>(uint32_t(v));
    default: return std::bit_cast<double>(v);
    }
  };
  const Rounding rnd = inst.rounding == Rounding::None ? Rounding::Rn : inst.rounding;
  auto writeFloat = [&](double x) -> uint64_t {
    if (sat)
      x = std::isnan(x) ? 0.0 : std::clamp(x, 0.0, 1.0);
    if ((inst.flags & kRelu) && x < 0)
      x = 0.0;
    switch (to) {
    case Type::F16: return doubleToF16(x, rnd == Rounding::Rni ? Rounding::Rn : rnd);
    case Type::BF16: return doubleToBf16(x, rnd == Rounding::Rni ? Rounding::Rn : rnd);
    case Type::F32: {
      float f = roundToF32(x, rnd);
      if (ftz) f = flushSubnormal(f);
      return std::bit_cast<uint32_t>(f);
    }
    default: return std::bit_cast<uint64_t>(x);
    }
  };

  for (uint32_t m = mask; m; m &= m - 1) {
    const unsigned l = std::countr_zero(m);
    const uint64_t a = read(w, k.operand(inst, 1), l);
    uint64_t r = 0;
    if (to == Type::F16x2 || to == Type::BF16x2) {
      if (inst.numOperands != 3 || from != Type::F32)
        return fault(w, l, inst, "packed cvt needs two .f32 sources");
      const float hi = std::bit_cast<float>(uint32_t(a));
      const float lo = std::bit_cast<float>(uint32_t(read(w, k.operand(inst, 2), l)));
      auto one = [&](float f) -> uint64_t {
        if (sat) f = std::isnan(f) ? 0.0f : std::clamp(f, 0.0f, 1.0f);
        if ((inst.flags & kRelu) && (f < 0 || std::isnan(f))) f = std::isnan(f) ? NAN : 0.0f;
        return to == Type::F16x2 ? floatToF16(f, rnd) : floatToBf16(f, rnd);
      };
      r = (one(hi) << 16) | one(lo);
    } else if (isFloat(to) && isFloat(from)) {
      double x = readFloat(a);
      if (inst.rounding == Rounding::Rni || inst.rounding == Rounding::Rzi || inst.rounding == Rounding::Rmi ||
          inst.rounding == Rounding::Rpi)
        x = roundIntegral(x, inst.rounding);
      r = writeFloat(x);
    } else if (isFloat(to)) { // integer -> float
      const double x = isSignedInt(from) ? double(int64_t(a << (64 - fromBytes * 8)) >> (64 - fromBytes * 8))
                                         : double(fromBytes == 8 ? a : a & ((1ull << (fromBytes * 8)) - 1));
      // 64-bit integers are not exact in double: convert to f32 directly to round once.
      if (fromBytes == 8 && to == Type::F32 && rnd == Rounding::Rn)
        r = std::bit_cast<uint32_t>(isSignedInt(from) ? float(int64_t(a)) : float(a));
      else
        r = writeFloat(x);
    } else if (isFloat(from)) { // float -> integer: round, saturate, NaN -> 0
      double x = readFloat(a);
      x = roundIntegral(x, inst.rounding == Rounding::None ? Rounding::Rzi : inst.rounding);
      const unsigned bits = toBytes * 8;
      if (std::isnan(x)) {
        r = 0;
      } else if (isSignedInt(to)) {
        const double lo = -std::ldexp(1.0, bits - 1), hi = std::ldexp(1.0, bits - 1);
        const int64_t v = x <= lo ? int64_t(lo) : x >= hi ? (bits == 64 ? INT64_MAX : int64_t(hi) - 1) : int64_t(x);
        r = uint64_t(v);
      } else {
        const double hi = std::ldexp(1.0, bits);
        r = x <= 0 ? 0 : x >= hi ? (bits == 64 ? ~0ull : uint64_t(hi) - 1) : uint64_t(x);
      }
    } else { // integer -> integer
      const unsigned fromBits = fromBytes * 8, toBits = toBytes * 8;
      int64_t sv = fromBits == 64 ? int64_t(a) : int64_t(a << (64 - fromBits)) >> (64 - fromBits);
      uint64_t uv = fromBits == 64 ? a : a & ((1ull << fromBits) - 1);
      if (sat) {
        const bool toSigned = isSignedInt(to);
        const Int128 value = isSignedInt(from) ? Int128(sv) : Int128(uv);
        const Int128 lo = toSigned ? -(Int128(1) << (toBits - 1)) : 0;
        const Int128 hi = toSigned ? (Int128(1) << (toBits - 1)) - 1 : (Int128(1) << toBits) - 1;
        r = uint64_t(std::clamp(value, lo, hi));
      } else {
        r = isSignedInt(from) ? uint64_t(sv) : uv;
      }
      if (isSignedInt(to) && toBits < 64) // sign-extend into a wider register
        r = uint64_t(int64_t(r << (64 - toBits)) >> (64 - toBits));
    }
    write(w, d.reg, l, r);
  }
  return Status::success();
}

} // namespace mobagen::emu
