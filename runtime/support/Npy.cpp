#include "runtime/support/Npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

namespace mobagen {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// A header longer than this is not a NumPy header (NumPy itself refuses 10 KiB+
// headers unless asked); the bound keeps a corrupt length from allocating much.
constexpr size_t kMaxHeaderSize = 1 << 16;

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
    return Status::errorf("{}: malformed .npy header ({}): {}", name, what, text);
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
      return fail("expected ':' after key '" + *key + "'");
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
      return fail("unknown key '" + *key + "'");
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
    return Status::errorf("{}: unsupported dtype '{}'", name, descr);
  std::string d = descr;
  if (d[0] == '>' && d.substr(1) != "i1" && d.substr(1) != "u1" && d.substr(1) != "b1")
    return Status::errorf("{}: big-endian dtype '{}' is not supported; save it with "
                          "arr.astype(arr.dtype.newbyteorder('<'))",
                          name, descr);
  if (d[0] == '=' || d[0] == '<' || d[0] == '>' || d[0] == '|')
    d[0] = (d.substr(1) == "i1" || d.substr(1) == "u1" || d.substr(1) == "b1") ? '|' : '<';
  if (itemSizeOf(d) == 0)
    return Status::errorf("{}: unsupported dtype '{}' (supported: float16/32/64, "
                          "int8/16/32/64, uint8/16/32/64, bool)",
                          name, descr);
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

Expected<NpyArray> parseNpy(const std::vector<uint8_t> &bytes, const std::string &name) {
  if (bytes.size() < kMagicSize + 2 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    return Status::errorf("{}: not a .npy file (missing the \\x93NUMPY magic)", name);
  const int major = bytes[6];
  size_t headerSize = 0, offset = 0;
  if (major == 1) {
    if (bytes.size() < 10)
      return Status::errorf("{}: truncated .npy file ({} bytes)", name, bytes.size());
    headerSize = bytes[8] | (static_cast<size_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return Status::errorf("{}: truncated .npy file ({} bytes)", name, bytes.size());
    headerSize = bytes[8] | (static_cast<size_t>(bytes[9]) << 8) |
                 (static_cast<size_t>(bytes[10]) << 16) | (static_cast<size_t>(bytes[11]) << 24);
    offset = 12;
  } else {
    return Status::errorf("{}: unsupported .npy format version {} (supported: 1, 2, 3)", name,
                          major);
  }
  if (headerSize > kMaxHeaderSize || offset + headerSize > bytes.size())
    return Status::errorf("{}: .npy header length {} exceeds the file ({} bytes)", name,
                          headerSize, bytes.size());
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + offset), headerSize);
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
  array.shape = header->shape;
  const size_t item = array.itemSize();
  // Element count with overflow checks: a corrupt shape must not wrap around.
  uint64_t count = 1;
  for (int64_t d : array.shape) {
    if (d != 0 && count > std::numeric_limits<uint64_t>::max() / item / static_cast<uint64_t>(d))
      return Status::errorf("{}: shape is too large", name);
    count *= static_cast<uint64_t>(d);
  }
  const size_t dataOffset = offset + headerSize;
  const uint64_t expected = count * item;
  const uint64_t actual = bytes.size() - dataOffset;
  if (actual != expected)
    return Status::errorf("{}: data holds {} bytes but the header's shape and dtype need {}",
                          name, actual, expected);
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(dataOffset), bytes.end());
  return array;
}

Expected<NpyArray> readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::errorf("{}: cannot open: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::errorf("{}: read failed", path);
  return parseNpy(bytes, path);
}

Status writeNpy(const std::string &path, const NpyArray &array) {
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
  if (static_cast<uint64_t>(array.elementCount()) * array.itemSize() != array.data.size())
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
