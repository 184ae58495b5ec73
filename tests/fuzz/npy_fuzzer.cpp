//===- npy_fuzzer.cpp - libFuzzer target for the .npy reader ---------------===//
//
// Feeds arbitrary bytes to parseNpy, the in-memory core of readNpy. The reader must
// return an array or a Status for every input: no crash, no sanitizer report, no
// allocation beyond the input's size. An accepted array must hold exactly
// elementCount() * itemSize() bytes, which is what every caller relies on.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "runtime/support/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  auto array = mobagen::parseNpy(bytes, "fuzz.npy");
  if (!array)
    return 0;
  // The data is C-ordered and complete: an accepted header that disagrees with the
  // payload would let callers read past the buffer.
  if (array->data.size() != size_t(array->elementCount()) * array->itemSize())
    std::abort();
  return 0;
}
