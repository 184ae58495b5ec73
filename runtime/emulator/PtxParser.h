//===- PtxParser.h - PTX text to the decoded module -------------------------===//
#pragma once

#include <string_view>

#include "runtime/emulator/PtxModule.h"
#include "runtime/support/Status.h"

namespace mobagen::emu {

/// Parses and decodes a whole PTX module. `name` (a file name) prefixes every
/// message, with the line: "gemm.ptx:42: unknown register %r99".
/// An instruction the emulator does not implement is an error naming it.
Expected<Module> parsePtx(std::string_view text, std::string_view name);

/// Decodes an opcode with its modifiers ("ld.global.nc.v4.u32") into `inst`
/// (op, types, space, modifiers). Exposed for the unit tests.
Status decodeOpcode(std::string_view opcode, Inst &inst);

/// Inlines every call of every kernel (PtxLinker.cpp), so the interpreter never
/// sees Op::Call. Recursion is an error.
Status linkCalls(Module &module);

/// Checks the operand count and kinds of a decoded instruction.
Status checkOperands(const Inst &inst, const Kernel &kernel);

} // namespace mobagen::emu
