//===- EmuArgs.cpp - `mobagen emu`'s --arg, --grid and --block parser -------===//
#include "tools/mobagen/EmuArgs.h"

#include <charconv>
#include <cstring>
#include <type_traits>

#include "runtime/support/CheckedMath.h"
#include "runtime/support/FloatFormats.h"

namespace mobagen::cli {
namespace {

constexpr EmuDType kDTypes[] = {
    {"f32", "<f4", 4}, {"f64", "<f8", 8}, {"f16", "<f2", 2}, {"bf16", "<u2", 2}, {"i8", "|i1", 1},
    {"u8", "|u1", 1},  {"i16", "<i2", 2}, {"u16", "<u2", 2}, {"i32", "<i4", 4},  {"u32", "<u4", 4},
    {"i64", "<i8", 8}, {"u64", "<u8", 8},
};

/// Splits at every `sep`, keeping empty parts: "8," is {"8", ""}, so a trailing
/// separator is seen (std::getline would drop it).
std::vector<std::string> splitAll(const std::string &s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos)
      return parts;
    start = at + 1;
  }
}

template <typename T> Expected<std::vector<uint8_t>> parseScalar(const std::string &text, const std::string &spec) {
  T value{};
  const char *begin = text.data(), *end = text.data() + text.size();
  std::from_chars_result r{};
  if constexpr (std::is_floating_point_v<T>) {
    r = std::from_chars(begin, end, value);
  } else {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      begin += 2;
      base = 16;
    }
    r = std::from_chars(begin, end, value, base);
  }
  if (text.empty() || r.ec != std::errc() || r.ptr != end)
    return Status::errorf("--arg '{}': '{}' is not a valid value of that type", spec, text);
  std::vector<uint8_t> bytes(sizeof(T));
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

Expected<std::vector<uint8_t>> scalarBytes(const std::string &kind, const std::string &text,
                                           const std::string &spec) {
  if (kind == "i8") return parseScalar<int8_t>(text, spec);
  if (kind == "u8") return parseScalar<uint8_t>(text, spec);
  if (kind == "i16") return parseScalar<int16_t>(text, spec);
  if (kind == "u16") return parseScalar<uint16_t>(text, spec);
  if (kind == "i32") return parseScalar<int32_t>(text, spec);
  if (kind == "u32") return parseScalar<uint32_t>(text, spec);
  if (kind == "i64") return parseScalar<int64_t>(text, spec);
  if (kind == "u64") return parseScalar<uint64_t>(text, spec);
  if (kind == "f32") return parseScalar<float>(text, spec);
  if (kind == "f64") return parseScalar<double>(text, spec);
  // f16 / bf16: parsed as double, rounded to nearest even, passed as 2 bytes.
  auto wide = parseScalar<double>(text, spec);
  if (!wide)
    return wide.status();
  double v;
  std::memcpy(&v, wide->data(), sizeof v);
  const uint16_t bits = encodeDType(v, kind == "f16" ? DType::F16 : DType::BF16);
  return std::vector<uint8_t>{static_cast<uint8_t>(bits & 0xFF), static_cast<uint8_t>(bits >> 8)};
}

} // namespace

const EmuDType *findEmuDType(const std::string &name) {
  for (const EmuDType &d : kDTypes)
    if (name == d.name)
      return &d;
  return nullptr;
}

Expected<device::Dim3> parseEmuDim(const std::string &text, const char *what) {
  const auto parts = splitAll(text, text.find('x') != std::string::npos ? 'x' : ',');
  if (text.empty() || parts.size() > 3)
    return Status::errorf("--{} '{}': expected X, X,Y or X,Y,Z", what, text);
  uint32_t v[3] = {1, 1, 1};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto [p, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v[i]);
    if (parts[i].empty() || ec != std::errc() || p != parts[i].data() + parts[i].size() || v[i] == 0)
      return Status::errorf("--{} '{}': '{}' is not an integer in [1, 4294967295]", what, text,
                            parts[i]);
  }
  const uint32_t dims[3] = {v[0], v[1], v[2]};
  auto product = checkedProduct<uint32_t>(dims, fmt::format("--{} '{}'", what, text));
  if (!product)
    return product.status();
  return device::Dim3{v[0], v[1], v[2]};
}

Expected<EmuArg> parseEmuArg(const std::string &spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos)
    return Status::errorf("--arg '{}': expected KIND:VALUE (see --help)", spec);
  const std::string kind = spec.substr(0, colon), rest = spec.substr(colon + 1);
  EmuArg arg;
  arg.spec = spec;
  if (kind == "in" || kind == "inout") {
    const auto parts = splitAll(rest, ':');
    const size_t want = kind == "in" ? 1u : 2u;
    bool empty = false;
    for (const std::string &p : parts)
      empty |= p.empty();
    if (parts.size() != want || empty)
      return Status::errorf("--arg '{}': expected {}", spec,
                            kind == "in" ? "in:FILE.npy" : "inout:IN.npy:OUT.npy");
    arg.kind = kind == "in" ? EmuArg::Kind::In : EmuArg::Kind::InOut;
    arg.input = parts[0];
    if (kind == "inout")
      arg.output = parts[1];
    return arg;
  }
  if (kind == "out") {
    const auto parts = splitAll(rest, ':');
    if (parts.size() != 3 || parts[0].empty())
      return Status::errorf("--arg '{}': expected out:FILE.npy:DTYPE:SHAPE", spec);
    arg.kind = EmuArg::Kind::Out;
    arg.output = parts[0];
    arg.dtype = findEmuDType(parts[1]);
    if (!arg.dtype)
      return Status::errorf("--arg '{}': unknown dtype '{}'", spec, parts[1]);
    // NumPy reads at most 32 dimensions (NPY_MAXDIMS in NumPy 1.x).
    const auto dims = splitAll(parts[2], 'x');
    if (dims.size() > 32)
      return Status::errorf("--arg '{}': shape '{}' has {} dimensions; at most 32", spec, parts[2],
                            dims.size());
    uint64_t count = 1;
    for (const std::string &dim : dims) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(dim.data(), dim.data() + dim.size(), v);
      if (dim.empty() || ec != std::errc() || p != dim.data() + dim.size() ||
          v > static_cast<uint64_t>(INT64_MAX))
        return Status::errorf("--arg '{}': shape '{}' must be dimensions (integers in [0, {}]) "
                              "joined by 'x', with nothing after the last",
                              spec, parts[2], INT64_MAX);
      arg.shape.push_back(static_cast<int64_t>(v));
      auto next = checkedMul<uint64_t>(count, v, fmt::format("--arg '{}': element count", spec));
      if (!next)
        return next.status();
      count = *next;
    }
    auto bytes = checkedMul<uint64_t>(count, arg.dtype->size,
                                      fmt::format("--arg '{}': bytes of {} elements", spec, count));
    if (!bytes)
      return bytes.status();
    arg.bytes = *bytes;
    return arg;
  }
  arg.dtype = findEmuDType(kind);
  if (!arg.dtype)
    return Status::errorf("--arg '{}': unknown kind '{}' (in, out, inout, i8, u8, i16, u16, i32, "
                          "u32, i64, u64, f16, bf16, f32, f64)",
                          spec, kind);
  auto value = scalarBytes(kind, rest, spec);
  if (!value)
    return value.status();
  arg.value = std::move(*value);
  return arg;
}

} // namespace mobagen::cli
