#include "runtime/support/Npy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <span>

#include "runtime/support/CheckedMath.h"
#include "runtime/support/FileRead.h"
#include "runtime/support/Quote.h"

namespace mobagen {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// A header longer than this is not a NumPy header (NumPy itself refuses 10 KiB+
// headers unless asked); the bound keeps a corrupt length from allocating much.
constexpr size_t kMaxHeaderSize = 1 << 16;
// The bytes before the header text: magic, version, and a 2-byte (1.0) or
// 4-byte (2.0, 3.0) header length.
constexpr size_t kMaxPreambleSize = kMagicSize + 2 + 4;

/// A cursor over the header's Python dict literal.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consumeWord(std::string_view word) {
    skipSpace();
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  std::optional<std::string> parseString() {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return std::nullopt;
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos)
      return std::nullopt;
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  std::optional<int64_t> parseInt() {
    skipSpace();
    int64_t value = 0;
    size_t digits = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const int d = text_[pos_++] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - d) / 10)
        return std::nullopt;
      value = value * 10 + d;
      ++digits;
    }
    // Python 2 era files may carry an 'L' suffix on longs.
    if (digits && pos_ < text_.size() && text_[pos_] == 'L')
      ++pos_;
    return digits ? std::optional<int64_t>(value) : std::nullopt;
  }
  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }

private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

Expected<Header> parseHeader(std::string_view text, const std::string &name) {
  auto fail = [&](std::string_view what) -> Status {
    return Status::errorf("{}: malformed .npy header ({}): {}", name, what, quoteBounded(text));
  };
  HeaderParser p(text);
  Header header;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  if (!p.consume('{'))
    return fail("expected '{'");
  while (!p.consume('}')) {
    auto key = p.parseString();
    if (!key)
      return fail("expected a quoted key");
    if (!p.consume(':'))
      return fail("expected ':' after key " + quoteBounded(*key));
    // Python's dict literal keeps the last of repeated keys; NumPy never writes
    // one, so a repeat means a hand-made or corrupt header and is refused.
    if ((*key == "descr" && haveDescr) || (*key == "fortran_order" && haveOrder) ||
        (*key == "shape" && haveShape))
      return fail("duplicated key '" + *key + "'");
    if (*key == "descr") {
      auto descr = p.parseString();
      if (!descr)
        return fail("'descr' is not a string (structured dtypes are not supported)");
      header.descr = *descr;
      haveDescr = true;
    } else if (*key == "fortran_order") {
      if (p.consumeWord("True"))
        header.fortranOrder = true;
      else if (p.consumeWord("False"))
        header.fortranOrder = false;
      else
        return fail("'fortran_order' is not True or False");
      haveOrder = true;
    } else if (*key == "shape") {
      if (!p.consume('('))
        return fail("'shape' is not a tuple");
      if (!p.consume(')')) {
        while (true) {
          auto dim = p.parseInt();
          if (!dim)
            return fail("'shape' holds something other than a non-negative integer");
          if (header.shape.size() == kMaxNpyDims)
            return fail(fmt::format("'shape' has more than {} dimensions, NumPy's limit", kMaxNpyDims));
          header.shape.push_back(*dim);
          if (p.consume(')'))
            break;
          if (!p.consume(','))
            return fail("expected ',' or ')' in 'shape'");
          if (p.consume(')')) // a trailing comma, as in (3,)
            break;
        }
      }
      haveShape = true;
    } else {
      return fail("unknown key " + quoteBounded(*key));
    }
    if (!p.consume(',')) {
      if (!p.consume('}'))
        return fail("expected ',' or '}'");
      break;
    }
  }
  if (!p.atEnd())
    return fail("text after the closing '}'");
  if (!haveDescr || !haveOrder || !haveShape)
    return fail("it must have 'descr', 'fortran_order' and 'shape'");
  return header;
}

/// Byte size of one element of a normalized descr, or 0 when unsupported.
size_t itemSizeOf(std::string_view descr) {
  static constexpr std::string_view kSupported[] = {"<f2", "<f4", "<f8", "|i1", "<i2", "<i4",
                                                    "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"};
  for (std::string_view s : kSupported)
    if (descr == s)
      return static_cast<size_t>(s[2] - '0');
  return 0;
}

/// Maps NumPy's spellings of the same dtype to one: '=' and '<' are little-endian
/// on the machines mobagen runs on; single-byte types take '|'.
Expected<std::string> normalizeDescr(const std::string &descr, const std::string &name) {
  if (descr.size() < 3)
    return Status::errorf("{}: unsupported dtype {}", name, quoteBounded(descr));
  std::string d = descr;
  if (d[0] == '>' && d.substr(1) != "i1" && d.substr(1) != "u1" && d.substr(1) != "b1")
    return Status::errorf("{}: big-endian dtype {} is not supported; save it with "
                          "arr.astype(arr.dtype.newbyteorder('<'))",
                          name, quoteBounded(descr));
  if (d[0] == '=' || d[0] == '<' || d[0] == '>' || d[0] == '|')
    d[0] = (d.substr(1) == "i1" || d.substr(1) == "u1" || d.substr(1) == "b1") ? '|' : '<';
  if (itemSizeOf(d) == 0)
    return Status::errorf("{}: unsupported dtype {} (supported: float16/32/64, "
                          "int8/16/32/64, uint8/16/32/64, bool)",
                          name, quoteBounded(descr));
  return d;
}

template <typename T> constexpr std::string_view descrOf() {
  if constexpr (std::is_same_v<T, float>)
    return "<f4";
  else if constexpr (std::is_same_v<T, double>)
    return "<f8";
  else if constexpr (std::is_same_v<T, int32_t>)
    return "<i4";
  else if constexpr (std::is_same_v<T, int64_t>)
    return "<i8";
  else if constexpr (std::is_same_v<T, uint16_t>)
    return "<u2";
  else
    static_assert(sizeof(T) == 0, "no .npy dtype for this type");
}

} // namespace

int64_t NpyArray::elementCount() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

size_t NpyArray::itemSize() const { return itemSizeOf(descr); }

namespace {

/// Where the header text lies, from the preamble (the first bytes of the file).
struct HeaderExtent {
  size_t offset = 0; // of the header text
  size_t size = 0;   // of the header text
};

Expected<HeaderExtent> headerExtent(std::span<const uint8_t> pre, uint64_t fileSize, const std::string &name) {
  if (pre.size() < kMagicSize + 2 || std::memcmp(pre.data(), kMagic, kMagicSize) != 0)
    return Status::errorf("{}: not a .npy file (missing the \\x93NUMPY magic)", name);
  const int major = pre[6];
  HeaderExtent e;
  if (major == 1) {
    if (pre.size() < 10)
      return Status::errorf("{}: truncated .npy file ({} bytes)", name, fileSize);
    e.size = pre[8] | (static_cast<size_t>(pre[9]) << 8);
    e.offset = 10;
  } else if (major == 2 || major == 3) {
    if (pre.size() < 12)
      return Status::errorf("{}: truncated .npy file ({} bytes)", name, fileSize);
    e.size = pre[8] | (static_cast<size_t>(pre[9]) << 8) | (static_cast<size_t>(pre[10]) << 16) |
             (static_cast<size_t>(pre[11]) << 24);
    e.offset = 12;
  } else {
    return Status::errorf("{}: unsupported .npy format version {} (supported: 1, 2, 3)", name, major);
  }
  if (e.size > kMaxHeaderSize)
    return Status::errorf("{}: .npy header length {} exceeds the limit of {} bytes", name, e.size,
                          kMaxHeaderSize);
  if (e.offset + e.size > fileSize)
    return Status::errorf("{}: .npy header length {} exceeds the file ({} bytes)", name, e.size, fileSize);
  return e;
}

/// The data bytes `array`'s shape and dtype need, overflow-checked (the reader's
/// and the writer's one rule).
Expected<int64_t> dataBytes(const NpyArray &array, const std::string &name) {
  const std::string what = fmt::format("{}: the byte size of shape and dtype", name);
  auto count = checkedProduct<int64_t>(array.shape, what);
  if (!count)
    return count.status();
  return checkedMul<int64_t>(*count, int64_t(array.itemSize()), what);
}

/// The array the header describes, without its data, and the data's byte size.
Expected<std::pair<NpyArray, uint64_t>> describe(std::string_view text, const std::string &name) {
  auto header = parseHeader(text, name);
  if (!header)
    return header.status();
  if (header->fortranOrder)
    return Status::errorf("{}: Fortran-ordered arrays are not supported; save "
                          "np.ascontiguousarray(arr)",
                          name);
  auto descr = normalizeDescr(header->descr, name);
  if (!descr)
    return descr.status();
  NpyArray array;
  array.descr = std::move(*descr);
  array.shape = std::move(header->shape);
  // A corrupt shape must not wrap around to a small size that matches the file.
  auto bytes = dataBytes(array, name);
  if (!bytes)
    return bytes.status();
  return std::make_pair(std::move(array), uint64_t(*bytes));
}

Status checkDataSize(uint64_t actual, uint64_t expected, const std::string &name) {
  if (actual != expected)
    return Status::errorf("{}: data holds {} bytes but the header's shape and dtype need {}", name, actual,
                          expected);
  return Status::success();
}

} // namespace

Expected<NpyArray> parseNpy(const std::vector<uint8_t> &bytes, const std::string &name) {
  auto extent = headerExtent(std::span(bytes).first(std::min(bytes.size(), kMaxPreambleSize)), bytes.size(), name);
  if (!extent)
    return extent.status();
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + extent->offset), extent->size);
  auto described = describe(text, name);
  if (!described)
    return described.status();
  auto &[array, expected] = *described;
  const size_t dataOffset = extent->offset + extent->size;
  MOBAGEN_RETURN_IF_ERROR(checkDataSize(bytes.size() - dataOffset, expected, name));
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(dataOffset), bytes.end());
  return std::move(array);
}

Expected<NpyArray> readNpy(const std::string &path) {
  // The header first: the size it names must match the file before any data
  // is read, so a huge or endless input is refused without reading it.
  auto file = InputFile::open(path);
  if (!file)
    return file.status();
  uint8_t pre[kMaxPreambleSize];
  const size_t preSize = size_t(std::min<uint64_t>(file->size(), kMaxPreambleSize));
  MOBAGEN_RETURN_IF_ERROR(file->readAt(0, pre, preSize));
  auto extent = headerExtent(std::span<const uint8_t>(pre, preSize), file->size(), path);
  if (!extent)
    return extent.status();
  std::string text(extent->size, '\0');
  MOBAGEN_RETURN_IF_ERROR(file->readAt(extent->offset, text.data(), text.size()));
  auto described = describe(text, path);
  if (!described)
    return described.status();
  auto &[array, expected] = *described;
  const uint64_t dataOffset = extent->offset + extent->size;
  MOBAGEN_RETURN_IF_ERROR(checkDataSize(file->size() - dataOffset, expected, path));
  array.data.resize(size_t(expected));
  MOBAGEN_RETURN_IF_ERROR(file->readAt(dataOffset, array.data.data(), array.data.size()));
  return std::move(array);
}

Status writeNpy(const std::string &path, const NpyArray &array) {
  if (array.shape.size() > kMaxNpyDims)
    return Status::errorf("{}: the array has {} dimensions; .npy files hold at most {} (NumPy's limit)", path,
                          array.shape.size(), kMaxNpyDims);
  for (int64_t d : array.shape)
    if (d < 0)
      return Status::errorf("{}: shape dimension {} is negative", path, d);
  auto bytes = dataBytes(array, path);
  if (!bytes)
    return bytes.status();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': (", array.descr);
  for (int64_t d : array.shape)
    header += fmt::format("{}, ", d);
  if (array.shape.size() > 1)
    header.resize(header.size() - 1); // "(3, 4)" rather than "(3, 4, )"
  else if (array.shape.size() == 1)
    header.pop_back(); // "(3,)"
  header += "), }";
  // Version 1.0: total header (magic, version, length, text, newline) padded with
  // spaces to a multiple of 64 bytes so the data is aligned.
  const size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xFFFF)
    return Status::errorf("{}: .npy header too long ({} bytes)", path, header.size());
  if (uint64_t(*bytes) != array.data.size())
    return Status::errorf("{}: {} data bytes do not match shape and dtype '{}'", path,
                          array.data.size(), array.descr);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return Status::errorf("{}: cannot create: {}", path, std::strerror(errno));
  out.write(kMagic, kMagicSize);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const char length[2] = {static_cast<char>(header.size() & 0xFF),
                          static_cast<char>(header.size() >> 8)};
  out.write(length, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char *>(array.data.data()),
            static_cast<std::streamsize>(array.data.size()));
  out.close();
  if (!out)
    return Status::errorf("{}: write failed: {}", path, std::strerror(errno));
  return Status::success();
}

template <typename T> NpyArray makeNpy(std::vector<int64_t> shape, const std::vector<T> &values) {
  NpyArray array;
  array.descr = std::string(descrOf<T>());
  array.shape = std::move(shape);
  array.data.resize(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

template NpyArray makeNpy(std::vector<int64_t>, const std::vector<float> &);
template NpyArray makeNpy(std::vector<int64_t>, const std::vector<double> &);
template NpyArray makeNpy(std::vector<int64_t>, const std::vector<int32_t> &);
template NpyArray makeNpy(std::vector<int64_t>, const std::vector<int64_t> &);
template NpyArray makeNpy(std::vector<int64_t>, const std::vector<uint16_t> &);

} // namespace mobagen
