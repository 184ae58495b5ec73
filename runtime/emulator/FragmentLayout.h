//===- FragmentLayout.h - Which lane holds which matrix element -----------===//
//
// Written from the PTX ISA text (sections "Warp-level matrix load instruction:
// ldmatrix" and "Matrix Fragments for mma.m16n8k16 / mma.m16n8k8 with floating
// point type"), independently of any code generator. groupID = lane / 4 and
// threadID_in_group = lane % 4, as the ISA names them.
//
//   mma A (16 x K, .row)        mma B (K x 8, .col)       mma C/D (16 x 8, f32)
//   lane 0 holds a0,a1 at       lane 0 holds b0,b1 at     lane 0 holds c0,c1 at
//   row 0, cols 0,1; a2,a3 at   rows (k) 0,1 of col 0     row 0, cols 0,1 and
//   row 8, cols 0,1 ...         ...                       c2,c3 at row 8 ...
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace mobagen::emu {

struct FragCoord {
  unsigned row, col;
  bool operator==(const FragCoord &) const = default;
};

/// ldmatrix .m8n8 .b16: element `half` (0 = low 16 bits) of the register that
/// `lane` receives from one 8x8 matrix, as (row, column) of the matrix as stored
/// (row r is the 16 bytes addressed by thread r of that matrix's group of 8).
/// Without .trans lane l holds row l/4, columns 2*(l%4) and 2*(l%4)+1; with
/// .trans it holds column l/4 of rows 2*(l%4) and 2*(l%4)+1.
FragCoord ldmatrixElement(unsigned lane, unsigned half, bool trans);

/// The thread whose address supplies row `row` of matrix `matrix` (0..3).
inline unsigned ldmatrixAddressLane(unsigned matrix, unsigned row) { return matrix * 8 + row; }

/// mma.sync A fragment (row-major 16 x k, k = 16 or 8): element i (0..7 for
/// k16, 0..3 for k8), packed two per .b32 register: register i/2, half i%2.
FragCoord mmaAElement(unsigned k, unsigned lane, unsigned i);
/// mma.sync B fragment (k x 8, column-major): element i (0..3 for k16, 0..1 for k8).
FragCoord mmaBElement(unsigned k, unsigned lane, unsigned i);
/// mma.sync C and D fragments with f32 accumulators: element i (0..3), one per register.
FragCoord mmaCElement(unsigned lane, unsigned i);

} // namespace mobagen::emu
