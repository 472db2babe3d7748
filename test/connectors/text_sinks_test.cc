#include "sluice/connectors/text_sinks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "sluice/connectors/nexmark_source.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Point {
  int x = 0;
  int y = 0;
};
template <typename W>
void sluice_fields(const Point& p, W& w) {
  w("x", p.x);
  w("y", p.y);
}

struct Sample {
  uint64_t key = 0;
  std::string name;
  double ratio = 0;
  bool ok = false;
  Timestamp at = 0;
  std::optional<int64_t> maybe;
  Point where;
  FixedString<8> code;
};
template <typename W>
void sluice_fields(const Sample& s, W& w) {
  w("key", s.key);
  w("name", s.name);
  w("ratio", s.ratio);
  w("ok", s.ok);
  w("at", as_time(s.at));
  w("maybe", s.maybe);
  w("where", s.where);
  w("code", s.code);
}

Sample sample() {
  Sample s{7, "a, \"b\"", 0.25, true, 1767225600123, std::nullopt, {1, -2}, {}};
  s.code.assign("XY");
  return s;
}

template <typename Encoder, typename T>
std::string encode(const T& row) {
  std::string out;
  Encoder encoder;
  encoder.append_row(out, row);
  return out;
}

TEST(RowEncoderTest, Json) {
  EXPECT_EQ(encode<detail::JsonRowEncoder>(sample()),
            R"({"key":7,"name":"a, \"b\"","ratio":0.25,"ok":true,"at":"2026-01-01 00:00:00.123",)"
            R"("maybe":null,"where":{"x":1,"y":-2},"code":"XY"})"
            "\n");
  EXPECT_EQ(encode<detail::JsonRowEncoder>(std::make_pair(std::string("w"), int64_t{3})),
            "{\"f0\":\"w\",\"f1\":3}\n");
  EXPECT_EQ(encode<detail::JsonRowEncoder>(int64_t{5}), "{\"value\":5}\n");
  EXPECT_EQ(encode<detail::JsonRowEncoder>(std::make_tuple(1.0 / 0.0, 'c', std::string_view("z"))),
            "{\"f0\":null,\"f1\":\"c\",\"f2\":\"z\"}\n");
}

TEST(RowEncoderTest, Csv) {
  std::string header;
  detail::CsvRowEncoder().append_header(header, Sample{});
  EXPECT_EQ(header, "key,name,ratio,ok,at,maybe,where.x,where.y,code\n");
  EXPECT_EQ(encode<detail::CsvRowEncoder>(sample()),
            "7,\"a, \"\"b\"\"\",0.25,true,2026-01-01 00:00:00.123,,1,-2,XY\n");
  std::optional<Point> none;
  EXPECT_EQ(encode<detail::CsvRowEncoder>(std::make_tuple(1, none, 2)), "1,,,2\n");
  header.clear();
  detail::CsvRowEncoder().append_header(header, std::make_tuple(1, none, 2));
  EXPECT_EQ(header, "f0,f1.x,f1.y,f2\n");
}

TEST(RowEncoderTest, Text) {
  EXPECT_EQ(encode<detail::TextRowEncoder>(sample()),
            "key=7 name=\"a, \\\"b\\\"\" ratio=0.25 ok=true at=2026-01-01 00:00:00.123 "
            "maybe=null where={x=1 y=-2} code=XY\n");
  EXPECT_EQ(encode<detail::TextRowEncoder>(std::make_pair(std::string("word"), 3)),
            "f0=word f1=3\n");
  EXPECT_EQ(encode<detail::TextRowEncoder>(std::string("just a line")), "\"just a line\"\n");
  EXPECT_EQ(encode<detail::TextRowEncoder>(42), "42\n");
}

TEST(RowEncoderTest, TimestampsAsFormatTimestamp) {
  for (Timestamp t : {Timestamp{0}, Timestamp{-1}, Timestamp{-86'400'001},
                      Timestamp{951'782'400'000}, Timestamp{1'767'225'600'000},
                      Timestamp{4'102'444'799'999}, Timestamp{253'402'300'799'999}}) {
    std::string out;
    detail::append_timestamp(out, t);
    EXPECT_EQ(out, format_timestamp(t)) << t;
  }
}

TEST(RowEncoderTest, NexmarkRecordsAsToJson) {
  nexmark::Generator gen({.seed = 3});
  nexmark::Event e;
  for (uint64_t n = 0; n < 200; ++n) {
    gen.event(n, e);
    EXPECT_EQ(encode<detail::JsonRowEncoder>(e), nexmark::to_json(e) + "\n");
    if (e.kind == nexmark::EventKind::kBid) {
      const std::string json = nexmark::to_json(e.bid);
      const std::string_view kind = "{\"kind\":\"bid\",";
      ASSERT_TRUE(json.starts_with(kind));
      EXPECT_EQ(encode<detail::JsonRowEncoder>(e.bid),
                fmt::format("{{{}\n", json.substr(kind.size())));
      EXPECT_EQ(encode<detail::CsvRowEncoder>(e.bid), nexmark::to_csv_row(e.bid) + "\n");
    }
  }
  std::string header;
  detail::CsvRowEncoder().append_header(header, nexmark::Bid{});
  EXPECT_EQ(header, std::string(nexmark::csv_header(nexmark::EventKind::kBid)) + "\n");
}

TEST(SubtaskPathTest, InsertsTheSubtaskBeforeTheExtension) {
  EXPECT_EQ(detail::subtask_path("out/counts.csv", 0, 1), "out/counts.csv");
  EXPECT_EQ(detail::subtask_path("out/counts.csv", 1, 2), "out/counts.1.csv");
  EXPECT_EQ(detail::subtask_path("out/a.b.jsonl", 3, 4), "out/a.b.3.jsonl");
  EXPECT_EQ(detail::subtask_path("out.d/counts", 0, 2), "out.d/counts.0");
  EXPECT_EQ(detail::subtask_path(".hidden", 1, 2), ".hidden.1");
}

class TextSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_text_sink_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static JobOptions options(int p) {
    JobOptions o;
    o.parallelism = p;
    o.batch_size = 16;
    o.handle_signals = false;
    return o;
  }

  std::filesystem::path dir_;
};

TEST_F(TextSinkTest, CsvAndJsonFilesWithOneSubtask) {
  Environment env(options(1));
  auto rows = env.generate(100, [](uint64_t i) { return Point{static_cast<int>(i), 2}; });
  rows.sink(sinks::csv_file<Point>((dir_ / "points.csv").string()));
  rows.sink(sinks::json_file<Point>((dir_ / "points.jsonl").string()));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<std::string> csv = lines_of(dir_ / "points.csv");
  ASSERT_EQ(csv.size(), 101u);
  EXPECT_EQ(csv[0], "x,y");
  EXPECT_EQ(csv[1], "0,2");
  EXPECT_EQ(csv[100], "99,2");
  std::vector<std::string> json = lines_of(dir_ / "points.jsonl");
  ASSERT_EQ(json.size(), 100u);
  EXPECT_EQ(json[42], "{\"x\":42,\"y\":2}");
}

TEST_F(TextSinkTest, EachSubtaskWritesItsOwnFile) {
  Environment env(options(2));
  env.generate(100, [](uint64_t i) { return static_cast<int64_t>(i); })
      .sink(sinks::csv_file<int64_t>((dir_ / "n.csv").string()));
  ASSERT_TRUE(env.execute().is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "n.csv"));
  std::vector<std::string> all;
  for (const char* name : {"n.0.csv", "n.1.csv"}) {
    std::vector<std::string> lines = lines_of(dir_ / name);
    ASSERT_FALSE(lines.empty()) << name;
    EXPECT_EQ(lines[0], "value");
    all.insert(all.end(), lines.begin() + 1, lines.end());
  }
  ASSERT_EQ(all.size(), 100u);
  std::vector<int> numbers;
  for (const std::string& l : all) numbers.push_back(std::stoi(l));
  std::sort(numbers.begin(), numbers.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(numbers[i], i);
}

TEST_F(TextSinkTest, UnwritableFileFailsTheJobNamingIt) {
  Environment env(options(1));
  const std::string path = (dir_ / "missing" / "x.csv").string();
  env.generate(10, [](uint64_t i) { return i; }).sink(sinks::csv_file<uint64_t>(path));
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST_F(TextSinkTest, PrintWritesWholeLines) {
  const std::filesystem::path out = dir_ / "stdout.txt";
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  {
    Environment env(options(3));
    auto rows = env.generate(300, [](uint64_t i) { return Point{static_cast<int>(i), -1}; });
    rows.sink(sinks::print<Point>(fd));
    rows.sink(sinks::print_json<Point>(fd));
    ASSERT_TRUE(env.execute().is_ok());
  }
  ::close(fd);
  std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 600u);
  std::vector<std::string> text, json;
  for (const std::string& l : lines) (l.starts_with("{") ? json : text).push_back(l);
  ASSERT_EQ(text.size(), 300u);
  std::sort(text.begin(), text.end());
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) expected.push_back(fmt::format("x={} y=-1", i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(text, expected);
  for (const std::string& l : json) EXPECT_TRUE(l.ends_with(",\"y\":-1}")) << l;
}

}  // namespace
}  // namespace sluice
