//===- FragmentLayout.cpp - Fragment tables from the PTX ISA ---------------===//
#include "runtime/emulator/FragmentLayout.h"

namespace mobagen::emu {

FragCoord ldmatrixElement(unsigned lane, unsigned half, bool trans) {
  const unsigned a = lane / 4, b = 2 * (lane % 4) + half;
  return trans ? FragCoord{b, a} : FragCoord{a, b};
}

FragCoord mmaAElement(unsigned k, unsigned lane, unsigned i) {
  const unsigned group = lane / 4, inGroup = lane % 4;
  if (k == 8) // a0..a3: rows groupID (i < 2) and groupID + 8
    return {i < 2 ? group : group + 8, inGroup * 2 + (i & 1)};
  // k16: a0,a1 (row g, k 0-7), a2,a3 (row g+8, k 0-7), a4,a5 (row g, k 8-15), a6,a7 (row g+8, k 8-15)
  const unsigned row = (i < 2 || (i >= 4 && i < 6)) ? group : group + 8;
  const unsigned col = inGroup * 2 + (i & 1) + (i >= 4 ? 8 : 0);
  return {row, col};
}

FragCoord mmaBElement(unsigned k, unsigned lane, unsigned i) {
  const unsigned group = lane / 4, inGroup = lane % 4;
  if (k == 8)
    return {inGroup * 2 + i, group};
  return {inGroup * 2 + (i & 1) + (i >= 2 ? 8 : 0), group};
}

FragCoord mmaCElement(unsigned lane, unsigned i) {
  const unsigned group = lane / 4, inGroup = lane % 4;
  return {i < 2 ? group : group + 8, inGroup * 2 + (i & 1)};
}

} // namespace mobagen::emu
