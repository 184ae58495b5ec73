#include "templates/SequenceBlocks.h"

using namespace mobagen::templates;

Tile mobagen::templates::blockCount(const Tile &len, int64_t blockSize) {
  return (len + (blockSize - 1)) / blockSize;
}

Tile mobagen::templates::blocksBefore(KernelBuilder &kb, const Tile &cuK, const Tile &seq,
                                      int64_t blockSize) {
  mlir::Type i32 = kb.i32();
  return kb.forLoop(kb.constant(0, i32), seq, kb.constant(1, i32), {kb.constant(0, i32)},
                    [&](Tile b, llvm::ArrayRef<Tile> carried) -> llvm::SmallVector<Tile> {
                      Tile len = kb.load(cuK + (b + 1)) - kb.load(cuK + b);
                      return {carried[0] + blockCount(len, blockSize)};
                    })[0];
}
