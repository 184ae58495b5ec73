//===- PtxModule.h - PTX decoded once into a compact instruction form -----===//
//
// The parser turns PTX text into this form once per module; the interpreter
// never looks at strings again. An instruction is an opcode, up to two types,
// a handful of small modifier fields and a run of operand slots in the
// kernel's operand pool. Registers are numbered densely per kernel (nested
// { } scopes get their own numbers), branch targets are instruction indices,
// and symbols (params, shared and local variables) are resolved to offsets in
// their state space.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mobagen::emu {

enum class Type : uint8_t {
  None, Pred, B8, B16, B32, B64, B128, U8, U16, U32, U64, S8, S16, S32, S64,
  F16, F16x2, BF16, BF16x2, F32, F64,
};
unsigned typeBytes(Type type);
bool isSignedInt(Type type);
bool isFloat(Type type); // F16 .. F64, including the x2 forms
std::string_view typeName(Type type);

enum class Space : uint8_t { Generic, Global, Shared, Local, Param, Const };
std::string_view spaceName(Space space);

enum class Op : uint8_t {
  // Integer and bit.
  Mov, Add, Sub, Mul, Mad, Div, Rem, Min, Max, Abs, Neg, And, Or, Xor, Not, Cnot, Shl, Shr,
  Popc, Clz, Brev, Bfe, Bfi, Prmt, Lop3, Shf,
  // Comparison and selection.
  Setp, Selp,
  // Conversion and address conversion.
  Cvt, Cvta,
  // Floating point.
  Fma, Ex2, Lg2, Rcp, Rsqrt, Sqrt, Sin, Cos, Tanh, Copysign,
  // Memory.
  Ld, St, Atom, Red, CpAsync, CpAsyncCommit, CpAsyncWait, CpAsyncWaitAll, Fence,
  // Control. Call exists only between parsing and linking (PtxLinker.cpp inlines it).
  Bra, Ret, Exit, Call, Trap,
  // Warp and CTA collectives.
  Bar, BarWarpSync, Shfl, Vote, Redux, Ldmatrix, Mma, Activemask,
  Count
};
std::string_view opName(Op op);

/// Instruction classes for the counters (DESIGN.md section 4).
enum class OpClass : uint8_t { Integer, Float, Special, Convert, Memory, Control, Sync, TensorCore, Count };
OpClass opClass(Op op);
std::string_view opClassName(OpClass cls);

enum class Cmp : uint8_t { None, Eq, Ne, Lt, Le, Gt, Ge, Lo, Ls, Hi, Hs, Equ, Neu, Ltu, Leu, Gtu, Geu, Num, Nan };
enum class BoolOp : uint8_t { None, And, Or, Xor };
enum class Rounding : uint8_t { None, Rn, Rz, Rm, Rp, Rni, Rzi, Rmi, Rpi, Rna };
enum class AtomOp : uint8_t { None, Add, Min, Max, Inc, Dec, Cas, Exch, And, Or, Xor };
enum class ShflMode : uint8_t { Up, Down, Bfly, Idx };
enum class VoteMode : uint8_t { All, Any, Uni, Ballot };
enum class BarKind : uint8_t { Sync, Arrive, RedPopc, RedAnd, RedOr };
enum class MmaShape : uint8_t { None, M16N8K16, M16N8K8 };
enum class MulMode : uint8_t { Lo, Hi, Wide };

/// Modifier bits.
enum InstFlag : uint16_t {
  kFtz = 1 << 0,
  kSat = 1 << 1,
  kApprox = 1 << 2,
  kTrans = 1 << 3,  // ldmatrix .trans
  kUni = 1 << 4,    // bra.uni: the ISA promises a non-divergent branch
  kNc = 1 << 5,
  kToSpace = 1 << 6, // cvta.to.<space>
  kCaCache = 1 << 7, // cp.async.ca (vs .cg)
  kLeft = 1 << 8,    // shf.l
  kClamp = 1 << 9,   // shf.clamp
  kAligned = 1 << 10, // every lane of the warp executes it together
  kNaN = 1 << 11,     // min/max .NaN: a NaN input gives NaN
  kRelu = 1 << 12,    // cvt .relu: negative results become 0
};

enum class OperandKind : uint8_t { Reg, Imm, Special, Address, Vector, Sink };

enum class SpecialReg : uint8_t {
  TidX, TidY, TidZ, NtidX, NtidY, NtidZ, CtaidX, CtaidY, CtaidZ, NctaidX, NctaidY, NctaidZ,
  LaneId, WarpId, NWarpId, LanemaskEq, LanemaskLt, LanemaskLe, LanemaskGt, LanemaskGe,
  Clock, Clock64, GlobalTimer, SmId, DynamicSmemSize, TotalSmemSize,
};

constexpr uint32_t kNoReg = 0xffffffffu;

struct Operand {
  OperandKind kind = OperandKind::Imm;
  bool negate = false;         // !%p as a predicate source
  SpecialReg special = SpecialReg::TidX;
  Space space = Space::Generic; // Address: the state space of `imm` when base is a symbol
  uint16_t count = 0;          // Vector: number of elements
  uint32_t reg = kNoReg;       // Reg; Address base register (or kNoReg); Vector: first pool index
  uint32_t variable = kNoReg;  // a module .global/.const variable whose address is added at load
  int64_t imm = 0;             // Imm bits; Address offset (symbol offset included)
};

struct Inst {
  Op op = Op::Mov;
  Type type = Type::None;  // the instruction's (destination) type
  Type type2 = Type::None; // cvt source type; mma A/B type; setp/selp second type
  Space space = Space::Generic;
  Cmp cmp = Cmp::None;
  BoolOp boolOp = BoolOp::None;
  Rounding rounding = Rounding::None;
  uint8_t vec = 1; // ld/st .v2/.v4; ldmatrix matrix count
  uint8_t sub = 0; // AtomOp / ShflMode / VoteMode / BarKind / MulMode / MmaShape / redux AtomOp
  uint16_t flags = 0;
  OpClass cls = OpClass::Integer; // for the counters: by opcode and type
  bool guardNegated = false;
  uint32_t guard = kNoReg; // predicate register, or kNoReg
  uint32_t firstOperand = 0;
  uint8_t numOperands = 0;
  uint32_t target = 0; // Bra: instruction index
  uint32_t line = 0;   // 1-based line in the PTX text
};

struct Param {
  std::string name;
  Type type = Type::None; // the declared element type (.u32, .f32, .b64 ...)
  uint32_t offset = 0, size = 0;
  bool isReturn = false; // a .func's return parameter
};

/// Param-space offsets at or above this address a thread's call frame: the
/// .param variables of call sequences, which (unlike kernel parameters) are
/// written with st.param.
constexpr uint32_t kCallParamBase = 1u << 24;

struct RegInfo {
  std::string name;
  Type type = Type::B32;
};

struct Kernel {
  std::string name;
  bool isEntry = true;
  std::vector<Param> params;
  uint32_t paramBytes = 0;
  std::vector<RegInfo> regs;
  std::vector<Inst> code;
  std::vector<Operand> operands;
  std::vector<std::string> text; // per instruction, the source statement (for messages)
  uint32_t staticSharedBytes = 0;
  uint32_t dynamicSharedOffset = 0; // where extern .shared arrays start
  uint32_t localBytes = 0;
  uint32_t callParamBytes = 0; // per-thread call-sequence .param bytes
  uint32_t maxThreads = 0; // .maxntid / .reqntid product, 0 if not given
  // .reqntid x, y, z (missing dimensions are 1); all 0 when not given. A launch
  // must use exactly this block (PTX ISA 11.4.3).
  uint32_t reqntid[3] = {0, 0, 0};

  const Operand &operand(const Inst &inst, unsigned i) const { return operands[inst.firstOperand + i]; }
};

/// A call site before linking: which function it names.
struct CallSite {
  size_t kernel;  // index in Module::kernels
  uint32_t inst;  // the Op::Call instruction
  std::string callee;
};

/// A module-scope .global or .const variable: allocated in device memory when the
/// module is loaded, holding its initializer (zeros without one).
struct ModuleVariable {
  std::string name;
  Space space = Space::Global;
  uint32_t align = 1;
  std::vector<uint8_t> init; // the variable's bytes
};

struct Module {
  std::string name; // file name, for messages
  std::string target; // "sm_80"
  std::vector<Kernel> kernels;
  std::vector<ModuleVariable> variables;
  std::vector<CallSite> calls; // cleared by linking
  const Kernel *find(std::string_view kernel) const {
    for (const Kernel &k : kernels)
      if (k.name == kernel)
        return &k;
    return nullptr;
  }
};

} // namespace mobagen::emu
