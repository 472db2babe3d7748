#include "sluice/detail/dead_letter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice::detail {
namespace {

class DeadLetterWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_dead_letter_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

  std::filesystem::path dir_;
};

TEST_F(DeadLetterWriterTest, CreatesParentDirectoriesAndAppends) {
  std::string path = (dir_ / "a" / "b" / "dead.jsonl").string();
  for (int round = 0; round < 2; ++round) {
    auto writer = DeadLetterWriter::open(path);
    ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
    ASSERT_TRUE((*writer)->write("trades", "in/a.csv", 7, "bad", "7,x").is_ok());
    ASSERT_TRUE((*writer)->flush().is_ok());
  }
  std::vector<std::string> got = lines(path);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0],
            R"({"source":"trades","file":"in/a.csv","line":7,"reason":"bad","record":"7,x"})");
  EXPECT_EQ(got[1], got[0]);
}

TEST_F(DeadLetterWriterTest, EscapingRoundTripsThroughSimdjson) {
  std::string path = (dir_ / "dead.jsonl").string();
  using namespace std::string_literals;
  const std::string record = "q\"uote\\ tab\t nl\n cr\r nul\0 ctl\x01 \xc3\xa9 \xf0\x9f\x98\x80"s;
  const std::string reason = "column 3 (index 2): expected an integer, got 'x\"y'";
  const std::string bad_utf8 =
      "a\xff\xfe"
      "b\xc3";
  {
    auto writer = DeadLetterWriter::open(path);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)
                    ->write("src \"1\"", "dir/f\n.csv", 18446744073709551615ull, reason, record)
                    .is_ok());
    ASSERT_TRUE((*writer)->write("s", "f", 1, "r", bad_utf8).is_ok());
  }  // the destructor flushes

  std::vector<std::string> got = lines(path);
  ASSERT_EQ(got.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(got[0]).get(doc), simdjson::SUCCESS) << got[0];
  EXPECT_EQ(std::string_view(doc["source"]), "src \"1\"");
  EXPECT_EQ(std::string_view(doc["file"]), "dir/f\n.csv");
  EXPECT_EQ(uint64_t(doc["line"]), 18446744073709551615ull);
  EXPECT_EQ(std::string_view(doc["reason"]), reason);
  EXPECT_EQ(std::string_view(doc["record"]), record);

  // Bytes that are not UTF-8 come back as the code points U+00XX.
  ASSERT_EQ(parser.parse(got[1]).get(doc), simdjson::SUCCESS) << got[1];
  EXPECT_EQ(got[1].find("\\u00ff\\u00feb\\u00c3"), got[1].find("\"record\":\"a") + 11);
  EXPECT_EQ(std::string_view(doc["record"]),
            "a\xc3\xbf\xc3\xbe"
            "b\xc3\x83");
}

TEST_F(DeadLetterWriterTest, SharedBetweenThreads) {
  std::string path = (dir_ / "dead.jsonl").string();
  auto writer = DeadLetterWriter::open(path);
  ASSERT_TRUE(writer.is_ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string file = fmt::format("f{}", t);
      const std::string record(100, 'x');
      for (int i = 0; i < 2000; ++i) {
        EXPECT_TRUE((*writer)->write("s", file, static_cast<uint64_t>(i), "r", record).is_ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*writer)->flush().is_ok());
  std::vector<std::string> got = lines(path);
  ASSERT_EQ(got.size(), 8000u);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  for (const std::string& l : got) ASSERT_EQ(parser.parse(l).get(doc), simdjson::SUCCESS) << l;
}

TEST_F(DeadLetterWriterTest, OpenErrorNamesThePath) {
  std::filesystem::create_directories(dir_);
  std::string blocker = (dir_ / "file").string();
  std::ofstream(blocker) << "x";
  auto writer = DeadLetterWriter::open(blocker + "/dead.jsonl");  // parent is a regular file
  ASSERT_FALSE(writer.is_ok());
  EXPECT_NE(writer.status().message().find(blocker), std::string::npos)
      << writer.status().message();
}

}  // namespace
}  // namespace sluice::detail
