//===- Rotation.cpp - Cold inputs for repeated measured runs ----------------===//
#include "runtime/tune/Rotation.h"

namespace mobagen::tune {

Expected<uint64_t> rotationCopies(uint64_t bytesPerSet, uint64_t l2Bytes) {
  if (bytesPerSet == 0)
    return Status::errorf("rotation copies: a buffer set of 0 bytes (L2 of {} bytes); need at least 1 byte",
                          l2Bytes);
  return l2Bytes / bytesPerSet + 2;
}

} // namespace mobagen::tune
