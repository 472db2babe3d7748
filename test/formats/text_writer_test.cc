#include "sluice/detail/text_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::detail {
namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string csv(std::string_view s, char delimiter = ',') {
  std::string out;
  append_csv_field(out, s, delimiter);
  return out;
}

TEST(AppendJsonStringTest, Escapes) {
  EXPECT_EQ(json(""), "\"\"");
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
}

TEST(AppendJsonStringTest, Utf8) {
  EXPECT_EQ(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(json("\xff"), R"("\u00ff")");
  EXPECT_EQ(json("a\xc3"), R"("a\u00c3")");                              // truncated sequence
  EXPECT_EQ(json("\xc0\xaf"), R"("\u00c0\u00af")");                      // overlong '/'
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");            // surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // above U+10FFFF
}

TEST(AppendCsvFieldTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv("plain"), "plain");
  EXPECT_EQ(csv(""), "");
  EXPECT_EQ(csv("a,b"), "\"a,b\"");
  EXPECT_EQ(csv("a;b"), "a;b");
  EXPECT_EQ(csv("a;b", ';'), "\"a;b\"");
  EXPECT_EQ(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv(" padded"), "\" padded\"");
}

class FileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_file_writer_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

TEST_F(FileWriterTest, BuffersFlushesAndTruncates) {
  std::string path = (dir_ / "out.txt").string();
  { std::ofstream(path) << "old content that must go away\n"; }
  FileWriter::Options options;
  options.flush_threshold = 8;
  options.sync_on_close = true;
  auto writer = FileWriter::open(path, options);
  ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
  ASSERT_TRUE((*writer)->append("abc").is_ok());
  EXPECT_EQ(slurp(path), "");  // below the threshold: still buffered
  ASSERT_TRUE((*writer)->append("defghij\n").is_ok());
  EXPECT_EQ(slurp(path), "abcdefghij\n");
  (*writer)->buffer() += "tail";
  ASSERT_TRUE((*writer)->maybe_flush().is_ok());
  EXPECT_EQ((*writer)->bytes_appended(), 15u);
  ASSERT_TRUE((*writer)->close().is_ok());
  EXPECT_TRUE((*writer)->close().is_ok());
  EXPECT_EQ(slurp(path), "abcdefghij\ntail");
}

TEST_F(FileWriterTest, OpenErrorNamesThePath) {
  std::string path = (dir_ / "no_such_dir" / "out.txt").string();
  auto writer = FileWriter::open(path);
  ASSERT_FALSE(writer.is_ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kIoError);
  EXPECT_NE(writer.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace sluice::detail
