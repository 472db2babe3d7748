#include "sluice/detail/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sluice::detail {
namespace {

using ReadStatus = LineReader::ReadStatus;

struct Line {
  std::string file;
  uint64_t number;
  std::string text;
  bool operator==(const Line&) const = default;
};

void PrintTo(const Line& l, std::ostream* os) {
  *os << l.file << ":" << l.number << ": " << l.text;
}

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_line_reader_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Reads every line, with its file and number; fails the test on kWouldBlock.
  static std::vector<Line> read_all(LineReader& reader) {
    std::vector<Line> lines;
    std::string_view line;
    ReadStatus s;
    while ((s = reader.next(line)) == ReadStatus::kLine) {
      lines.push_back({std::filesystem::path(reader.current_file()).filename().string(),
                       reader.line_number(), std::string(line)});
    }
    EXPECT_EQ(s, ReadStatus::kEnd);
    EXPECT_TRUE(reader.status().is_ok()) << reader.status().to_string();
    return lines;
  }

  std::filesystem::path dir_;
};

TEST_F(LineReaderTest, SingleFileWithCrlfAndNoTrailingNewline) {
  std::string p = write("a.csv", "one\r\ntwo\n\nfour\r\nlast");
  auto reader = LineReader::open(p);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  std::vector<Line> want = {{"a.csv", 1, "one"},
                            {"a.csv", 2, "two"},
                            {"a.csv", 3, ""},
                            {"a.csv", 4, "four"},
                            {"a.csv", 5, "last"}};
  EXPECT_EQ(read_all(**reader), want);
}

TEST_F(LineReaderTest, ByteOffsets) {
  std::string p = write("a.txt", "ab\r\ncde\nf");
  auto reader = LineReader::open(p);
  ASSERT_TRUE(reader.is_ok());
  std::string_view line;
  EXPECT_EQ((*reader)->byte_offset(), 0u);
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ((*reader)->byte_offset(), 4u);
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ((*reader)->byte_offset(), 8u);
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ(line, "f");
  EXPECT_EQ((*reader)->byte_offset(), 9u);
  EXPECT_EQ((*reader)->next(line), ReadStatus::kEnd);
  EXPECT_EQ((*reader)->next(line), ReadStatus::kEnd);
}

TEST_F(LineReaderTest, DirectoryInNameOrderSkippingHiddenAndSubdirectories) {
  write("b.txt", "b1\nb2\n");
  write("a.txt", "a1\n");
  write("c.txt", "c1");
  write(".hidden", "h\n");
  std::filesystem::create_directories(dir_ / "sub");
  write("sub/d.txt", "d1\n");
  write("empty.txt", "");
  auto reader = LineReader::open(dir_.string());
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  EXPECT_EQ((*reader)->files().size(), 4u);
  std::vector<Line> want = {
      {"a.txt", 1, "a1"}, {"b.txt", 1, "b1"}, {"b.txt", 2, "b2"}, {"c.txt", 1, "c1"}};
  EXPECT_EQ(read_all(**reader), want);
}

TEST_F(LineReaderTest, Glob) {
  write("x2.csv", "second\n");
  write("x1.csv", "first\n");
  write("y.csv", "not matched\n");
  write("x3.txt", "not matched either\n");
  auto reader = LineReader::open(path("x*.csv"));
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  std::vector<Line> want = {{"x1.csv", 1, "first"}, {"x2.csv", 1, "second"}};
  EXPECT_EQ(read_all(**reader), want);
}

TEST_F(LineReaderTest, MissingPathsAreNamed) {
  auto missing = LineReader::open(path("nope.csv"));
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path("nope.csv")), std::string::npos);

  auto no_match = LineReader::open(path("*.json"));
  ASSERT_FALSE(no_match.is_ok());
  EXPECT_EQ(no_match.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_match.status().message().find("*.json"), std::string::npos);

  EXPECT_FALSE(LineReader::open("fd:x").is_ok());
}

TEST_F(LineReaderTest, EmptyDirectoryHasNoLines) {
  auto reader = LineReader::open(dir_.string());
  ASSERT_TRUE(reader.is_ok());
  EXPECT_TRUE(read_all(**reader).empty());
}

TEST_F(LineReaderTest, LinesLongerThanTheBuffer) {
  std::string long_line(1000, 'x');
  long_line += "end";
  std::string content = "short\n" + long_line + "\r\nafter\n" + long_line;
  std::string p = write("long.txt", content);
  for (size_t buffer_size : {1, 2, 7, 16, 4096}) {
    LineReader::Options options;
    options.buffer_size = buffer_size;
    auto reader = LineReader::open(p, options);
    ASSERT_TRUE(reader.is_ok());
    std::vector<Line> want = {{"long.txt", 1, "short"},
                              {"long.txt", 2, long_line},
                              {"long.txt", 3, "after"},
                              {"long.txt", 4, long_line}};
    EXPECT_EQ(read_all(**reader), want) << "buffer size " << buffer_size;
    EXPECT_EQ((*reader)->byte_offset(), content.size());
  }
}

TEST_F(LineReaderTest, ManyLinesAcrossBufferRefills) {
  std::string content;
  for (int i = 0; i < 10000; ++i) content += std::to_string(i) + "\n";
  std::string p = write("many.txt", content);
  LineReader::Options options;
  options.buffer_size = 100;
  auto reader = LineReader::open(p, options);
  ASSERT_TRUE(reader.is_ok());
  std::vector<Line> lines = read_all(**reader);
  ASSERT_EQ(lines.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_EQ(lines[static_cast<size_t>(i)].text, std::to_string(i));
    EXPECT_EQ(lines[static_cast<size_t>(i)].number, static_cast<uint64_t>(i + 1));
  }
}

TEST_F(LineReaderTest, PipeNeverBlocks) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto reader = LineReader::open("fd:" + std::to_string(fds[0]));
  ASSERT_TRUE(reader.is_ok());
  EXPECT_EQ((*reader)->current_file(), "fd:" + std::to_string(fds[0]));
  std::string_view line;
  EXPECT_EQ((*reader)->next(line), ReadStatus::kWouldBlock);  // nothing written yet

  auto put = [&](std::string_view s) {
    ASSERT_EQ(::write(fds[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  };
  put("first\nsec");
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ(line, "first");
  EXPECT_EQ((*reader)->next(line), ReadStatus::kWouldBlock);  // "sec" is not a full line yet
  put("ond\r\nthi");
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ(line, "second");
  EXPECT_EQ((*reader)->line_number(), 2u);
  EXPECT_EQ((*reader)->next(line), ReadStatus::kWouldBlock);
  put("rd");
  ::close(fds[1]);  // end of input: the partial line is the last line
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ(line, "third");
  EXPECT_EQ((*reader)->next(line), ReadStatus::kEnd);
  EXPECT_TRUE((*reader)->status().is_ok());
  ::close(fds[0]);
}

TEST_F(LineReaderTest, StdinThroughDup2) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved_stdin = ::dup(STDIN_FILENO);
  ASSERT_EQ(::dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  ::close(fds[0]);
  ASSERT_EQ(::write(fds[1], "a\nb\n", 4), 4);
  ::close(fds[1]);
  auto reader = LineReader::open("-");
  ASSERT_TRUE(reader.is_ok());
  std::vector<Line> want = {{"stdin", 1, "a"}, {"stdin", 2, "b"}};
  EXPECT_EQ(read_all(**reader), want);
  ::dup2(saved_stdin, STDIN_FILENO);
  ::close(saved_stdin);
}

TEST_F(LineReaderTest, FileRemovedAfterOpenIsAnIoError) {
  write("a.txt", "a\n");
  std::string b = write("b.txt", "b\n");
  auto reader = LineReader::open(dir_.string());
  ASSERT_TRUE(reader.is_ok());
  std::filesystem::remove(b);
  std::string_view line;
  ASSERT_EQ((*reader)->next(line), ReadStatus::kLine);
  EXPECT_EQ((*reader)->next(line), ReadStatus::kEnd);
  EXPECT_EQ((*reader)->status().code(), StatusCode::kIoError);
  EXPECT_NE((*reader)->status().message().find(b), std::string::npos);
}

}  // namespace
}  // namespace sluice::detail
