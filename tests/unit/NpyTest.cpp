// .npy reading and writing: round trips, files laid out as NumPy writes them, and
// every malformed-file error.
#include "runtime/support/Npy.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

namespace mobagen {
namespace {

std::vector<uint8_t> npyBytes(const std::string &header, size_t dataBytes, int version = 1) {
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(version), 0};
  const size_t len = header.size();
  bytes.push_back(static_cast<uint8_t>(len & 0xFF));
  bytes.push_back(static_cast<uint8_t>(len >> 8));
  if (version >= 2) {
    bytes.push_back(0);
    bytes.push_back(0);
  }
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), dataBytes, 0);
  return bytes;
}

std::string errorOf(const std::vector<uint8_t> &bytes) {
  auto parsed = parseNpy(bytes, "t.npy");
  EXPECT_FALSE(parsed.ok());
  return parsed.status().message();
}

class NpyFiles : public ::testing::Test {
protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("mobagen-npy-" + std::to_string(::getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(NpyFiles, RoundTripsEveryWrittenType) {
  const std::string path = (dir / "a.npy").string();
  const std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  ASSERT_TRUE(writeNpy(path, makeNpy({2, 3}, f)).ok());
  auto back = readNpy(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->descr, "<f4");
  EXPECT_EQ(back->shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(back->data.size(), f.size() * 4);
  EXPECT_EQ(std::memcmp(back->data.data(), f.data(), back->data.size()), 0);

  const std::vector<int32_t> i = {0, 5, 9};
  ASSERT_TRUE(writeNpy(path, makeNpy({3}, i)).ok());
  back = readNpy(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->descr, "<i4");
  EXPECT_EQ(back->shape, (std::vector<int64_t>{3}));

  ASSERT_TRUE(writeNpy(path, makeNpy({0, 4}, std::vector<double>{})).ok());
  back = readNpy(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->elementCount(), 0);

  ASSERT_TRUE(writeNpy(path, makeNpy({}, std::vector<uint16_t>{42})).ok());
  back = readNpy(path);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->shape.empty());
  EXPECT_EQ(back->elementCount(), 1);
}

TEST_F(NpyFiles, HeaderIsAlignedAsNumPyRequires) {
  const std::string path = (dir / "b.npy").string();
  ASSERT_TRUE(writeNpy(path, makeNpy({2, 2, 2}, std::vector<double>(8, 1.0))).ok());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  const size_t headerLen = bytes[8] | (bytes[9] << 8);
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  EXPECT_EQ(bytes[10 + headerLen - 1], '\n');
}

TEST(Npy, ParsesNumPySpellings) {
  auto a = parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n",
                             24),
                    "t.npy");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  // Version 2 headers, '=' byte order, a one-element tuple, no trailing comma.
  a = parseNpy(npyBytes("{\"descr\": \"=i8\", \"shape\": (4,), \"fortran_order\": False}", 32, 2),
               "t.npy");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->descr, "<i8");
  a = parseNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3L,), }", 3), "t");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->descr, "|u1");
}

TEST(Npy, RejectsMalformedFiles) {
  EXPECT_NE(errorOf({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}).find("not a .npy file"), std::string::npos);
  EXPECT_NE(errorOf({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0}).find("truncated"), std::string::npos);
  auto v4 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
  v4[6] = 4;
  EXPECT_NE(errorOf(v4).find("version 4"), std::string::npos);
  auto longHeader = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
  longHeader[9] = 0x70;
  EXPECT_NE(errorOf(longHeader).find("exceeds the file"), std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4))
                .find("Fortran"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4))
                .find("big-endian"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8))
                .find("unsupported dtype \"<c8\""),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 12))
                .find("data holds 12 bytes but the header's shape and dtype need 16"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'shape': (1,), }", 4)).find("must have"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4))
                .find("non-negative integer"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4))
                .find("unknown key \"x\""),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", 4))
                .find("structured"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", 4))
                .find("after the closing"),
            std::string::npos);
  // A shape whose byte size overflows 64 bits must not wrap to something small.
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                             "(4294967296, 4294967296), }",
                             0))
                .find("the byte size of shape and dtype: 4294967296 x 4294967296 overflows the 64-bit limit"),
            std::string::npos);
}

TEST(Npy, ReportsMissingFile) {
  auto missing = readNpy("/nonexistent/dir/q.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "/nonexistent/dir/q.npy: no such file");
}

TEST_F(NpyFiles, ReportsTheCauseForPathsThatAreNotReadableFiles) {
  auto directory = readNpy(dir.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().message(), dir.string() + ": is a directory");
  auto device = readNpy("/dev/zero");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(), "/dev/zero: not a regular file (a character device)");
  if (::geteuid() != 0) { // root reads anything
    const auto locked = dir / "locked.npy";
    ASSERT_TRUE(writeNpy(locked.string(), makeNpy<float>({1}, {1.0f})).ok());
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    auto denied = readNpy(locked.string());
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.status().message(), locked.string() + ": cannot open: permission denied");
  }
}

TEST_F(NpyFiles, SizeMustMatchTheHeaderBeforeDataIsRead) {
  // A header claiming 2^40 floats on a tiny file is refused by its size, not
  // by allocating and reading.
  const auto path = dir / "huge.npy";
  auto bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", 16);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  auto read = readNpy(path.string());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message(),
            path.string() + ": data holds 16 bytes but the header's shape and dtype need 4398046511104");
}

TEST(Npy, RejectsDuplicatedKeys) {
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", 8))
                .find("malformed .npy header (duplicated key 'shape')"),
            std::string::npos);
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 4))
                .find("duplicated key 'descr'"),
            std::string::npos);
}

TEST(Npy, QuotesABoundedEscapedPrefixOfAMalformedHeader) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x\n\x01";
  header.append(60000, 'A');
  header += "': 1}";
  const std::string e = errorOf(npyBytes(header, 4));
  EXPECT_LT(e.size(), 300u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_NE(e.find("\\x0a\\x01AAAA"), std::string::npos) << e;
  EXPECT_NE(e.find(fmt::format("... ({} bytes)", header.size())), std::string::npos) << e;
}

TEST(Npy, RejectsMoreThan32Dimensions) {
  std::string shape = "(";
  for (int i = 0; i < 33; ++i)
    shape += "1, ";
  shape += ")";
  EXPECT_NE(errorOf(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", 4))
                .find("'shape' has more than 32 dimensions, NumPy's limit"),
            std::string::npos);
  NpyArray deep = makeNpy<float>(std::vector<int64_t>(33, 1), {1.0f});
  const Status written = writeNpy("/nonexistent/deep.npy", deep);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.message(), "/nonexistent/deep.npy: the array has 33 dimensions; .npy files hold at most 32 "
                               "(NumPy's limit)");
}

} // namespace
} // namespace mobagen
