//===- PtxDecoder.cpp - Opcode strings to Inst fields ----------------------===//
//
// An opcode is a base name and dot-separated modifiers (PTX ISA section 9.7).
// Modifiers that change what an instruction computes become Inst fields; the
// ones that only tune caching or memory ordering (.nc, .ca on ld, .relaxed,
// .gpu, L2 hints ...) are accepted and ignored, because the emulator executes
// every access in program order with sequential consistency. Anything else is
// an error naming the modifier, so nothing is silently misread.
//
//===----------------------------------------------------------------------===//
#include <array>
#include <string>
#include <utility>

#include "runtime/emulator/PtxParser.h"

namespace mobagen::emu {
namespace {

constexpr std::array<std::pair<std::string_view, Type>, 21> kTypes{{
    {"pred", Type::Pred}, {"b8", Type::B8},     {"b16", Type::B16},    {"b32", Type::B32},
    {"b64", Type::B64},   {"b128", Type::B128}, {"u8", Type::U8},      {"u16", Type::U16},
    {"u32", Type::U32},   {"u64", Type::U64},   {"s8", Type::S8},      {"s16", Type::S16},
    {"s32", Type::S32},   {"s64", Type::S64},   {"f16", Type::F16},    {"f16x2", Type::F16x2},
    {"bf16", Type::BF16}, {"bf16x2", Type::BF16x2}, {"f32", Type::F32}, {"f64", Type::F64},
    {"", Type::None},
}};

constexpr std::array<std::pair<std::string_view, Op>, 59> kOps{{
    {"mov", Op::Mov},       {"add", Op::Add},       {"sub", Op::Sub},        {"mul", Op::Mul},
    {"mad", Op::Mad},       {"div", Op::Div},       {"rem", Op::Rem},        {"min", Op::Min},
    {"max", Op::Max},       {"abs", Op::Abs},       {"neg", Op::Neg},        {"and", Op::And},
    {"or", Op::Or},         {"xor", Op::Xor},       {"not", Op::Not},        {"cnot", Op::Cnot},
    {"shl", Op::Shl},       {"shr", Op::Shr},       {"popc", Op::Popc},      {"clz", Op::Clz},
    {"brev", Op::Brev},     {"bfe", Op::Bfe},       {"bfi", Op::Bfi},        {"prmt", Op::Prmt},
    {"lop3", Op::Lop3},     {"shf", Op::Shf},       {"setp", Op::Setp},      {"selp", Op::Selp},
    {"cvt", Op::Cvt},       {"cvta", Op::Cvta},     {"fma", Op::Fma},        {"ex2", Op::Ex2},
    {"lg2", Op::Lg2},       {"rcp", Op::Rcp},       {"rsqrt", Op::Rsqrt},    {"sqrt", Op::Sqrt},
    {"sin", Op::Sin},       {"cos", Op::Cos},       {"tanh", Op::Tanh},      {"copysign", Op::Copysign},
    {"ld", Op::Ld},         {"st", Op::St},         {"atom", Op::Atom},      {"red", Op::Red},
    {"membar", Op::Fence},  {"fence", Op::Fence},   {"bra", Op::Bra},        {"ret", Op::Ret},
    {"exit", Op::Exit},     {"call", Op::Call},     {"trap", Op::Trap},     {"activemask", Op::Activemask},
    {"bar", Op::Bar},       {"barrier", Op::Bar},    {"shfl", Op::Shfl},
    {"vote", Op::Vote},     {"redux", Op::Redux},   {"ldmatrix", Op::Ldmatrix}, {"mma", Op::Mma},
}};

constexpr std::array<std::pair<std::string_view, Cmp>, 18> kCmps{{
    {"eq", Cmp::Eq},   {"ne", Cmp::Ne},   {"lt", Cmp::Lt},   {"le", Cmp::Le},   {"gt", Cmp::Gt},
    {"ge", Cmp::Ge},   {"lo", Cmp::Lo},   {"ls", Cmp::Ls},   {"hi", Cmp::Hi},   {"hs", Cmp::Hs},
    {"equ", Cmp::Equ}, {"neu", Cmp::Neu}, {"ltu", Cmp::Ltu}, {"leu", Cmp::Leu}, {"gtu", Cmp::Gtu},
    {"geu", Cmp::Geu}, {"num", Cmp::Num}, {"nan", Cmp::Nan},
}};

constexpr std::array<std::pair<std::string_view, Rounding>, 9> kRoundings{{
    {"rn", Rounding::Rn},   {"rz", Rounding::Rz},   {"rm", Rounding::Rm},
    {"rp", Rounding::Rp},   {"rni", Rounding::Rni}, {"rzi", Rounding::Rzi},
    {"rmi", Rounding::Rmi}, {"rpi", Rounding::Rpi}, {"rna", Rounding::Rna},
}};

constexpr std::array<std::pair<std::string_view, AtomOp>, 10> kAtomOps{{
    {"add", AtomOp::Add}, {"min", AtomOp::Min}, {"max", AtomOp::Max}, {"inc", AtomOp::Inc},
    {"dec", AtomOp::Dec}, {"cas", AtomOp::Cas}, {"exch", AtomOp::Exch}, {"and", AtomOp::And},
    {"or", AtomOp::Or},   {"xor", AtomOp::Xor},
}};

// Memory-ordering, scope, cache and alignment hints: no effect on a sequentially
// consistent, in-order functional model.
constexpr std::array<std::string_view, 22> kIgnored{
    "sync", "volatile", "relaxed", "acquire", "release", "acq_rel", "sc",  "weak",
    "cta",  "gpu",      "sys",     "cluster", "cs",      "lu",      "cv",  "wb",
    "wt",   "full",     "gl",      "mmio",    "noftz",   "proxy"};

template <typename T, size_t N>
bool lookup(const std::array<std::pair<std::string_view, T>, N> &table, std::string_view key,
            T &out) {
  for (const auto &[name, value] : table)
    if (name == key && !name.empty()) {
      out = value;
      return true;
    }
  return false;
}

} // namespace

unsigned typeBytes(Type type) {
  switch (type) {
  case Type::None: return 0;
  case Type::Pred: return 1;
  case Type::B8: case Type::U8: case Type::S8: return 1;
  case Type::B16: case Type::U16: case Type::S16: case Type::F16: case Type::BF16: return 2;
  case Type::B32: case Type::U32: case Type::S32: case Type::F32: case Type::F16x2:
  case Type::BF16x2: return 4;
  case Type::B64: case Type::U64: case Type::S64: case Type::F64: return 8;
  case Type::B128: return 16;
  }
  return 0;
}

bool isSignedInt(Type t) { return t == Type::S8 || t == Type::S16 || t == Type::S32 || t == Type::S64; }
bool isFloat(Type t) {
  return t == Type::F16 || t == Type::F16x2 || t == Type::BF16 || t == Type::BF16x2 ||
         t == Type::F32 || t == Type::F64;
}

std::string_view typeName(Type type) {
  for (const auto &[name, value] : kTypes)
    if (value == type)
      return name.empty() ? "none" : name;
  return "?";
}

std::string_view spaceName(Space space) {
  switch (space) {
  case Space::Generic: return "generic";
  case Space::Global: return "global";
  case Space::Shared: return "shared";
  case Space::Local: return "local";
  case Space::Param: return "param";
  case Space::Const: return "const";
  }
  return "?";
}

std::string_view opName(Op op) {
  if (op == Op::CpAsync) return "cp.async";
  if (op == Op::CpAsyncCommit) return "cp.async.commit_group";
  if (op == Op::CpAsyncWait) return "cp.async.wait_group";
  if (op == Op::CpAsyncWaitAll) return "cp.async.wait_all";
  if (op == Op::BarWarpSync) return "bar.warp.sync";
  for (const auto &[name, value] : kOps)
    if (value == op)
      return name;
  return "?";
}

OpClass opClass(Op op) {
  switch (op) {
  case Op::Add: case Op::Sub: case Op::Mul: case Op::Mad: case Op::Div: case Op::Rem:
  case Op::Min: case Op::Max: case Op::Abs: case Op::Neg: case Op::Fma: case Op::Copysign:
    return OpClass::Float; // refined by type in the counters
  case Op::Ex2: case Op::Lg2: case Op::Rcp: case Op::Rsqrt: case Op::Sqrt: case Op::Sin:
  case Op::Cos: case Op::Tanh:
    return OpClass::Special;
  case Op::Cvt: case Op::Cvta: return OpClass::Convert;
  case Op::Ld: case Op::St: case Op::Atom: case Op::Red: case Op::CpAsync:
  case Op::CpAsyncCommit: case Op::CpAsyncWait: case Op::CpAsyncWaitAll: case Op::Fence:
    return OpClass::Memory;
  case Op::Bra: case Op::Ret: case Op::Exit: case Op::Call: case Op::Trap: return OpClass::Control;
  case Op::Activemask: return OpClass::Sync;
  case Op::Bar: case Op::BarWarpSync: case Op::Shfl: case Op::Vote: case Op::Redux:
    return OpClass::Sync;
  case Op::Ldmatrix: case Op::Mma: return OpClass::TensorCore;
  default: return OpClass::Integer;
  }
}

std::string_view opClassName(OpClass cls) {
  constexpr std::array<std::string_view, size_t(OpClass::Count)> names{
      "integer", "float", "special-function", "conversion", "memory", "control", "sync",
      "tensor-core"};
  return names[size_t(cls)];
}

Status decodeOpcode(std::string_view opcode, Inst &inst) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dot = opcode.find('.', start);
    parts.push_back(opcode.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  auto unsupported = [&](std::string_view what) {
    return Status::errorf("unsupported instruction '{}' ({})", opcode, what);
  };

  size_t first = 1;
  const std::string_view base = parts[0];
  if (base == "cp") {
    if (parts.size() < 2 || parts[1] != "async")
      return unsupported("only cp.async is implemented");
    if (parts.size() >= 3 && parts[2] == "commit_group") {
      inst.op = Op::CpAsyncCommit;
      return parts.size() == 3 ? Status::success() : unsupported("unexpected modifier");
    }
    if (parts.size() >= 3 && parts[2] == "wait_group") {
      inst.op = Op::CpAsyncWait;
      return parts.size() == 3 ? Status::success() : unsupported("unexpected modifier");
    }
    if (parts.size() >= 3 && parts[2] == "wait_all") {
      inst.op = Op::CpAsyncWaitAll;
      return parts.size() == 3 ? Status::success() : unsupported("unexpected modifier");
    }
    if (parts.size() >= 3 && (parts[2] == "bulk" || parts[2] == "mbarrier"))
      return unsupported("cp.async.bulk and cp.async.mbarrier are not implemented yet");
    inst.op = Op::CpAsync;
    first = 2;
  } else if (base == "bar" && parts.size() >= 2 && parts[1] == "warp") {
    inst.op = Op::BarWarpSync;
    return parts.size() == 3 && parts[2] == "sync" ? Status::success()
                                                   : unsupported("expected bar.warp.sync");
  } else if (!lookup(kOps, base, inst.op)) {
    return Status::errorf("unsupported instruction '{}': the emulator does not implement '{}'",
                          opcode, base);
  }

  std::vector<Type> types;
  bool sawSync = false;
  for (size_t i = first; i < parts.size(); ++i) {
    const std::string_view m = parts[i];
    Type type;
    Cmp cmp;
    Rounding rounding;
    AtomOp atomOp;
    if (lookup(kTypes, m, type)) {
      types.push_back(type);
      continue;
    }
    const Op op = inst.op;
    if (m == "global") { inst.space = Space::Global; continue; }
    if (m == "shared" || m == "shared::cta") { inst.space = Space::Shared; continue; }
    if (m == "local") { inst.space = Space::Local; continue; }
    if (m == "param") { inst.space = Space::Param; continue; }
    if (m == "const") { inst.space = Space::Const; continue; }
    if (m == "to" && op == Op::Cvta) { inst.flags |= kToSpace; continue; }
    if (m == "ftz") { inst.flags |= kFtz; continue; }
    if (m == "sat" || m == "satfinite") { inst.flags |= kSat; continue; }
    if (m == "approx") { inst.flags |= kApprox; continue; }
    if (m == "nc") { inst.flags |= kNc; continue; }
    if (m == "aligned") { inst.flags |= kAligned; continue; }
    if (m == "NaN" && (op == Op::Min || op == Op::Max)) { inst.flags |= kNaN; continue; }
    if (m == "relu" && op == Op::Cvt) { inst.flags |= kRelu; continue; }
    if (m == "v2" || m == "v4" || m == "v8") { inst.vec = uint8_t(m[1] - '0'); continue; }
    if (m.starts_with("L1::") || m.starts_with("L2::")) continue;
    if ((op == Op::Setp) && lookup(kCmps, m, cmp)) { inst.cmp = cmp; continue; }
    if (op == Op::Setp && (m == "and" || m == "or" || m == "xor")) {
      inst.boolOp = m == "and" ? BoolOp::And : m == "or" ? BoolOp::Or : BoolOp::Xor;
      continue;
    }
    if ((op == Op::Mul || op == Op::Mad) && (m == "lo" || m == "hi" || m == "wide")) {
      inst.sub = uint8_t(m == "lo" ? MulMode::Lo : m == "hi" ? MulMode::Hi : MulMode::Wide);
      continue;
    }
    if ((op == Op::Atom || op == Op::Red || op == Op::Redux) && lookup(kAtomOps, m, atomOp)) {
      inst.sub = uint8_t(atomOp);
      continue;
    }
    if (lookup(kRoundings, m, rounding)) { inst.rounding = rounding; continue; }
    if (op == Op::Shfl && (m == "up" || m == "down" || m == "bfly" || m == "idx")) {
      inst.sub = uint8_t(m == "up" ? ShflMode::Up : m == "down" ? ShflMode::Down
                         : m == "bfly" ? ShflMode::Bfly : ShflMode::Idx);
      continue;
    }
    if (op == Op::Vote && (m == "all" || m == "any" || m == "uni" || m == "ballot")) {
      inst.sub = uint8_t(m == "all" ? VoteMode::All : m == "any" ? VoteMode::Any
                         : m == "uni" ? VoteMode::Uni : VoteMode::Ballot);
      continue;
    }
    if (op == Op::Bar) {
      if (m == "sync") { inst.sub = uint8_t(BarKind::Sync); sawSync = true; continue; }
      if (m == "arrive") { inst.sub = uint8_t(BarKind::Arrive); sawSync = true; continue; }
      if (m == "red") { inst.sub = uint8_t(BarKind::RedPopc); sawSync = true; continue; }
      if (m == "popc") { inst.sub = uint8_t(BarKind::RedPopc); continue; }
      if (m == "and") { inst.sub = uint8_t(BarKind::RedAnd); continue; }
      if (m == "or") { inst.sub = uint8_t(BarKind::RedOr); continue; }
    }
    if ((op == Op::Bra || op == Op::Call) && m == "uni") { inst.flags |= kUni; continue; }
    if (op == Op::Ldmatrix) {
      if (m == "m8n8") continue;
      if (m == "x1" || m == "x2" || m == "x4") { inst.vec = uint8_t(m[1] - '0'); continue; }
      if (m == "trans") { inst.flags |= kTrans; continue; }
    }
    if (op == Op::Mma) {
      if (m == "m16n8k16") { inst.sub = uint8_t(MmaShape::M16N8K16); continue; }
      if (m == "m16n8k8") { inst.sub = uint8_t(MmaShape::M16N8K8); continue; }
      if (m == "row" || m == "col") continue; // the only layout mma.sync m16n8k* allows
    }
    if (op == Op::CpAsync && (m == "ca" || m == "cg")) {
      if (m == "ca")
        inst.flags |= kCaCache;
      continue;
    }
    if (op == Op::Shf && (m == "l" || m == "r" || m == "wrap" || m == "clamp")) {
      if (m == "l") inst.flags |= kLeft;
      if (m == "clamp") inst.flags |= kClamp;
      continue;
    }
    if ((op == Op::Ld || op == Op::St) && (m == "ca" || m == "cg")) continue;
    if (op == Op::Fence && (m == "async" || m == "alias")) continue;
    bool ignored = false;
    for (std::string_view name : kIgnored)
      ignored |= name == m;
    if (ignored) {
      if (m == "sync")
        sawSync = true;
      continue;
    }
    return Status::errorf("unsupported modifier '.{}' in '{}'", m, opcode);
  }

  // Types: the last one is the instruction type, except where the ISA lists several.
  if (inst.op == Op::Cvt) {
    if (types.size() != 2)
      return Status::errorf("'{}' needs a destination and a source type", opcode);
    inst.type = types[0];
    inst.type2 = types[1];
  } else if (inst.op == Op::Mma) {
    // mma.sync.aligned.shape.row.col.dtype.atype.btype.ctype
    if (types.size() != 4 || inst.sub == uint8_t(MmaShape::None))
      return Status::errorf("'{}': expected a shape and four types (d, a, b, c)", opcode);
    if (types[0] != Type::F32 || types[3] != Type::F32 || types[1] != types[2] ||
        (types[1] != Type::F16 && types[1] != Type::BF16))
      return unsupported("only f16/bf16 inputs with f32 accumulators are implemented");
    inst.type = Type::F32;
    inst.type2 = types[1];
  } else if (!types.empty()) {
    inst.type = types.back();
    if (types.size() == 2)
      inst.type2 = types.front();
  }
  if (inst.op == Op::Bar && !sawSync)
    inst.sub = uint8_t(BarKind::Sync);
  if (inst.op == Op::Bar && parts[0] == "bar")
    inst.flags |= kAligned; // bar.sync == barrier.sync.aligned (PTX ISA 9.7.13.1)
  if (inst.op == Op::Fence && parts.size() >= 2 && parts[1] == "proxy")
    return Status::success();
  if ((inst.op == Op::Shfl || inst.op == Op::Vote || inst.op == Op::Redux) && !sawSync)
    return unsupported("only the .sync forms of shfl, vote and redux are implemented");
  return Status::success();
}

} // namespace mobagen::emu

namespace mobagen::emu {

Status checkOperands(const Inst &inst, const Kernel &kernel) {
  const unsigned n = inst.numOperands;
  auto count = [&](unsigned lo, unsigned hi) -> Status {
    if (n < lo || n > hi)
      return lo == hi ? Status::errorf("expected {} operands, found {}", lo, n)
                      : Status::errorf("expected {} to {} operands, found {}", lo, hi, n);
    return Status::success();
  };
  auto kindOf = [&](unsigned i) { return kernel.operand(inst, i).kind; };
  auto needAddress = [&](unsigned i) -> Status {
    if (kindOf(i) != OperandKind::Address)
      return Status::errorf("operand {} must be an address [..]", i + 1);
    return Status::success();
  };
  auto needDest = [&](unsigned i) -> Status {
    const OperandKind k = kindOf(i);
    if (k != OperandKind::Reg && k != OperandKind::Vector && k != OperandKind::Sink)
      return Status::errorf("operand {} must be a register", i + 1);
    return Status::success();
  };
  switch (inst.op) {
  case Op::Mov: case Op::Abs: case Op::Neg: case Op::Not: case Op::Cnot: case Op::Popc:
  case Op::Clz: case Op::Brev: case Op::Ex2: case Op::Lg2: case Op::Rcp: case Op::Rsqrt:
  case Op::Sqrt: case Op::Sin: case Op::Cos: case Op::Tanh: case Op::Cvta:
    MOBAGEN_RETURN_IF_ERROR(count(2, 2));
    return needDest(0);
  case Op::Cvt:
    MOBAGEN_RETURN_IF_ERROR(count(2, 3));
    return needDest(0);
  case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Rem: case Op::Min:
  case Op::Max: case Op::And: case Op::Or: case Op::Xor: case Op::Shl: case Op::Shr:
  case Op::Copysign:
    MOBAGEN_RETURN_IF_ERROR(count(3, 3));
    return needDest(0);
  case Op::Mad: case Op::Fma: case Op::Bfe: case Op::Prmt: case Op::Shf: case Op::Selp:
    MOBAGEN_RETURN_IF_ERROR(count(4, 4));
    return needDest(0);
  case Op::Bfi: case Op::Lop3:
    MOBAGEN_RETURN_IF_ERROR(count(5, 5));
    return needDest(0);
  case Op::Setp:
    return count(3 + (inst.boolOp != BoolOp::None), 4 + (inst.boolOp != BoolOp::None));
  case Op::Ld:
    MOBAGEN_RETURN_IF_ERROR(count(2, 2));
    MOBAGEN_RETURN_IF_ERROR(needDest(0));
    return needAddress(1);
  case Op::St:
    MOBAGEN_RETURN_IF_ERROR(count(2, 2));
    return needAddress(0);
  case Op::Atom:
    MOBAGEN_RETURN_IF_ERROR(count(AtomOp(inst.sub) == AtomOp::Cas ? 4 : 3, AtomOp(inst.sub) == AtomOp::Cas ? 4 : 3));
    return needAddress(1);
  case Op::Red:
    MOBAGEN_RETURN_IF_ERROR(count(2, 2));
    return needAddress(0);
  case Op::CpAsync:
    MOBAGEN_RETURN_IF_ERROR(count(3, 4));
    MOBAGEN_RETURN_IF_ERROR(needAddress(0));
    MOBAGEN_RETURN_IF_ERROR(needAddress(1));
    if (kindOf(2) != OperandKind::Imm)
      return Status::error("cp.async's copy size must be a constant (4, 8 or 16)");
    return Status::success();
  case Op::CpAsyncWait:
    MOBAGEN_RETURN_IF_ERROR(count(1, 1));
    if (kindOf(0) != OperandKind::Imm)
      return Status::error("cp.async.wait_group takes a constant");
    return Status::success();
  case Op::CpAsyncCommit: case Op::CpAsyncWaitAll: case Op::Ret: case Op::Exit: case Op::Fence:
  case Op::Trap:
    return count(0, 0);
  case Op::Activemask:
    MOBAGEN_RETURN_IF_ERROR(count(1, 1));
    return needDest(0);
  case Op::Bra:
    return count(1, 1);
  case Op::Call:
    return Status::success(); // checked by the parser and the linker
  case Op::Bar:
    if (BarKind(inst.sub) == BarKind::Sync || BarKind(inst.sub) == BarKind::Arrive)
      return count(1, 2);
    return count(3, 4);
  case Op::BarWarpSync:
    return count(1, 1);
  case Op::Shfl:
    MOBAGEN_RETURN_IF_ERROR(count(5, 6));
    return needDest(0);
  case Op::Vote: case Op::Redux:
    MOBAGEN_RETURN_IF_ERROR(count(3, 3));
    return needDest(0);
  case Op::Ldmatrix:
    MOBAGEN_RETURN_IF_ERROR(count(2, 2));
    if (kindOf(0) != OperandKind::Vector || kernel.operand(inst, 0).count != inst.vec)
      return Status::errorf("ldmatrix .x{} needs a vector of {} registers", inst.vec, inst.vec);
    return needAddress(1);
  case Op::Mma: {
    MOBAGEN_RETURN_IF_ERROR(count(4, 4));
    const bool k16 = MmaShape(inst.sub) == MmaShape::M16N8K16;
    const unsigned want[4] = {4, k16 ? 4u : 2u, k16 ? 2u : 1u, 4};
    for (unsigned i = 0; i < 4; ++i)
      if (kindOf(i) != OperandKind::Vector || kernel.operand(inst, i).count != want[i])
        return Status::errorf("mma operand {} must be a vector of {} registers", i + 1, want[i]);
    return Status::success();
  }
  default:
    return Status::success();
  }
}

} // namespace mobagen::emu
