//===- SequenceBlocks.h - varlen block bookkeeping shared by the MoBA kernels ===//
#pragma once

#include "templates/dsl/KernelBuilder.h"

namespace mobagen::templates {

/// The number of key blocks of the sequences before `seq` (sum of ceil(Lk / bs)
/// over cu_seqlens_k[0 .. seq]): where sequence `seq`'s blocks start in the pooled
/// keys [total blocks, Hkv, D]. A scalar loop over B, small next to any kernel's work.
Tile blocksBefore(KernelBuilder &kb, const Tile &cuSeqlensK, const Tile &seq, int64_t blockSize);

/// ceil(len / blockSize) for a non-negative i32 `len`.
Tile blockCount(const Tile &len, int64_t blockSize);

} // namespace mobagen::templates
