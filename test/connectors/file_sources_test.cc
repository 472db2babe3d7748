#include "sluice/connectors/file_sources.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "sluice/detail/json_line_parser.h"
#include "sluice/sinks.h"

namespace sluice {
namespace {

struct Trade {
  int64_t id = 0;
  std::string symbol;
  double price = 0;
  bool operator<(const Trade& o) const { return id < o.id; }
};

// One line of a dead-letter file.
struct DeadLetter {
  std::string source, file;
  int64_t line;
  std::string reason, record;
};

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_file_source_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "in");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static JobOptions options(int p) {
    JobOptions o;
    o.parallelism = p;
    o.batch_size = 3;  // several batches per file
    o.handle_signals = false;
    return o;
  }

  std::vector<DeadLetter> dead_letters(const std::string& file) {
    std::vector<DeadLetter> out;
    std::ifstream in(file);
    detail::JsonLineParser parser;
    JsonRow row;
    for (std::string line; std::getline(in, line);) {
      EXPECT_TRUE(parser.parse(line, row).is_ok()) << line;
      out.push_back({std::string(row.str("source")), std::string(row.str("file")),
                     row.int64("line"), std::string(row.str("reason")),
                     std::string(row.str("record"))});
    }
    std::sort(out.begin(), out.end(), [](const DeadLetter& a, const DeadLetter& b) {
      return std::tie(a.file, a.line) < std::tie(b.file, b.line);
    });
    return out;
  }

  std::filesystem::path dir_;
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class TextParallelismTest : public FileSourceTest, public ::testing::WithParamInterface<int> {};

TEST_P(TextParallelismTest, DirectoryAndGlobGiveEveryLineOnce) {
  std::vector<std::string> expected;
  for (int f = 0; f < 5; ++f) {
    std::string content;
    for (int l = 0; l < 7 + f; ++l) {
      std::string line = "file" + std::to_string(f) + " line " + std::to_string(l);
      content += line + "\n";
      expected.push_back(line);
    }
    write("in/part-" + std::to_string(f) + ".txt", content);
  }
  write("in/.hidden", "not read\n");
  write("in/other.log", "only in the directory\n");
  write("in/odd [1]*?.log", "a name that looks like a glob\n");

  for (const std::string& spec : {path("in"), path("in/part-*.txt")}) {
    Environment env(options(GetParam()));
    SourceMetrics metrics;
    FileSourceOptions opts;
    opts.metrics = &metrics;
    std::vector<std::string> out;
    read_text(env, spec, opts).sink(sinks::collect(&out));
    Status s = env.execute();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    std::vector<std::string> want = expected;
    if (spec == path("in")) {
      want.push_back("only in the directory");
      want.push_back("a name that looks like a glob");
    }
    EXPECT_EQ(sorted(out), sorted(want)) << spec;
    EXPECT_EQ(metrics.records.load(), want.size());
    EXPECT_EQ(metrics.bad_records.load(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Parallelism, TextParallelismTest, ::testing::Values(1, 2, 3, 8));

Trade parse_trade(const CsvRow& r) {
  if (r.str(1) == "THROW") throw std::runtime_error("no such symbol");
  return Trade{r.int64(0), std::string(r.str(1)), r.float64(2)};
}

TEST_F(FileSourceTest, MalformedCsvLinesGoToTheDeadLetterFile) {
  const std::string a = write("in/a.csv",
                              "id,symbol,price\n"
                              "1,ACME,10.5\n"
                              "2,\"BAD,3\n"  // unterminated quote
                              "3,XYZ,1.25\n"
                              "\n"  // blank: not a record
                              "4,ACME,abc\n");
  const std::string b = write("in/b.csv",
                              "id,symbol,price\n"
                              "5,THROW,1\n"
                              "6,\"Q,R\",2\n"
                              "7,ONLY_TWO\n");
  for (int p : {1, 2}) {
    const std::string dlq = path("dlq-" + std::to_string(p) + "/bad.jsonl");
    Environment env(options(p));
    SourceMetrics metrics;
    CsvSourceOptions opts;
    opts.header = true;
    opts.name = "trades";
    opts.on_bad_record = BadRecordPolicy::kDeadLetter;
    opts.dead_letter_path = dlq;
    opts.metrics = &metrics;
    std::vector<Trade> out;
    read_csv(env, path("in/*.csv"), parse_trade, opts).sink(sinks::collect(&out));
    Status s = env.execute();
    ASSERT_TRUE(s.is_ok()) << s.to_string();

    std::sort(out.begin(), out.end());
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].id, 1);
    EXPECT_EQ(out[1].id, 3);
    EXPECT_EQ(out[1].price, 1.25);
    EXPECT_EQ(out[2].symbol, "Q,R");
    EXPECT_EQ(metrics.records.load(), 3u);
    EXPECT_EQ(metrics.bad_records.load(), 4u);
    EXPECT_EQ(metrics.dead_letters.load(), 4u);

    std::vector<DeadLetter> dl = dead_letters(dlq);
    ASSERT_EQ(dl.size(), 4u);
    EXPECT_EQ(dl[0].file, a);
    EXPECT_EQ(dl[0].line, 3);
    EXPECT_EQ(dl[0].record, "2,\"BAD,3");
    EXPECT_NE(dl[0].reason.find("quote"), std::string::npos) << dl[0].reason;
    EXPECT_EQ(dl[1].file, a);
    EXPECT_EQ(dl[1].line, 6);
    EXPECT_EQ(dl[1].reason, "column 3 (index 2): expected a number, got 'abc'");
    EXPECT_EQ(dl[2].file, b);
    EXPECT_EQ(dl[2].line, 2);
    EXPECT_EQ(dl[2].reason, "parse function threw: no such symbol");
    EXPECT_EQ(dl[3].file, b);
    EXPECT_EQ(dl[3].line, 4);
    EXPECT_EQ(dl[3].record, "7,ONLY_TWO");
    EXPECT_NE(dl[3].reason.find("column 3"), std::string::npos) << dl[3].reason;
    for (const DeadLetter& d : dl) EXPECT_EQ(d.source, "trades");
  }
}

TEST_F(FileSourceTest, SkippedCsvLinesAreCounted) {
  write("in/a.csv", "1,A,1\nx,B,2\n3,C,3\n4,D\n");
  Environment env(options(1));
  SourceMetrics metrics;
  CsvSourceOptions opts;
  opts.on_bad_record = BadRecordPolicy::kSkip;
  opts.metrics = &metrics;
  std::vector<Trade> out;
  read_csv<Trade>(env, path("in/a.csv"), parse_trade, opts).sink(sinks::collect(&out));
  ASSERT_TRUE(env.execute().is_ok());
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(metrics.records.load(), 2u);
  EXPECT_EQ(metrics.bad_records.load(), 2u);
  EXPECT_EQ(metrics.dead_letters.load(), 0u);
}

TEST_F(FileSourceTest, BadCsvLineFailsTheJobNamingFileAndLine) {
  const std::string a = write("in/a.csv", "1,A,1\n2,B,2\n3,C,oops\n4,D,4\n");
  Environment env(options(1));
  std::vector<Trade> out;
  read_csv(env, a, parse_trade).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(a + " line 3: column 3 (index 2): expected a number, got 'oops'"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("read_csv"), std::string::npos) << s.message();
}

struct Click {
  int64_t user;
  std::string page;
};

Click parse_click(const JsonRow& r) {
  return Click{r.int64("user"), std::string(r.str("/page/id"))};
}

TEST_F(FileSourceTest, MalformedJsonLinesGoToTheDeadLetterFile) {
  const std::string a = write("in/clicks.jsonl",
                              "{\"user\":1,\"page\":{\"id\":\"home\"}}\n"
                              "{\"user\":2,\"page\":{\"id\":\"cart\"}\n"  // unbalanced
                              "{\"user\":\"three\",\"page\":{\"id\":\"x\"}}\n"
                              "   \n"
                              "[1,2]\n"
                              "{\"user\":4,\"page\":{}}\n"
                              "{\"user\":5,\"page\":{\"id\":\"pay\"}}");  // no final newline
  const std::string dlq = path("bad.jsonl");
  Environment env(options(1));
  SourceMetrics metrics;
  FileSourceOptions opts;
  opts.on_bad_record = BadRecordPolicy::kDeadLetter;
  opts.dead_letter_path = dlq;
  opts.metrics = &metrics;
  std::vector<Click> out;
  read_json(env, a, parse_click, opts).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].page, "home");
  EXPECT_EQ(out[1].user, 5);
  EXPECT_EQ(metrics.bad_records.load(), 4u);
  std::vector<DeadLetter> dl = dead_letters(dlq);
  ASSERT_EQ(dl.size(), 4u);
  EXPECT_EQ(dl[0].line, 2);
  EXPECT_EQ(dl[1].line, 3);
  EXPECT_EQ(dl[1].reason, "field 'user': expected an integer, got string");
  EXPECT_EQ(dl[2].line, 5);
  EXPECT_EQ(dl[3].line, 6);
  EXPECT_EQ(dl[3].reason, "field '/page/id': missing");
  for (const DeadLetter& d : dl) {
    EXPECT_EQ(d.file, a);
    EXPECT_EQ(d.source, "read_json");
    EXPECT_FALSE(d.reason.empty());
  }
}

TEST_F(FileSourceTest, MissingPathFailsTheJob) {
  Environment env(options(2));
  std::vector<std::string> out;
  read_text(env, path("nothing-here")).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("nothing-here"), std::string::npos) << s.message();
}

TEST_F(FileSourceTest, DeadLetterPolicyWithoutPathFailsTheJob) {
  write("in/a.csv", "1,A,1\n");
  Environment env(options(1));
  CsvSourceOptions opts;
  opts.on_bad_record = BadRecordPolicy::kDeadLetter;
  std::vector<Trade> out;
  read_csv(env, path("in"), parse_trade, opts).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("dead_letter_path"), std::string::npos) << s.message();
}

// A pipe read through "fd:N" never blocks its worker: with one worker thread, a generator in the
// same job runs to its end while the pipe stays silent, and only then are lines written.
TEST_F(FileSourceTest, PipeDoesNotBlockTheWorker) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  JobOptions o = options(2);  // subtask 1 of the pipe source ends at once
  o.workers = 1;
  Environment env(o);
  std::atomic<uint64_t> generated{0};
  env.generate(
         5000, [](uint64_t i) { return i; }, GeneratorOptions{.rate = 50'000})
      .sink([&](const uint64_t&) { generated.fetch_add(1); });
  std::vector<Trade> out;
  read_csv(env, "fd:" + std::to_string(fds[0]), parse_trade).sink(sinks::collect(&out));

  std::thread writer([&] {
    while (generated.load() < 5000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::string part1 = "1,A,1.5\n2,B,";
    const std::string part2 = "2.5\n3,C,3.5\n";
    EXPECT_EQ(::write(fds[1], part1.data(), part1.size()), static_cast<ssize_t>(part1.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(::write(fds[1], part2.data(), part2.size()), static_cast<ssize_t>(part2.size()));
    ::close(fds[1]);
  });
  Status s = env.execute();
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::sort(out.begin(), out.end());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].symbol, "B");
  EXPECT_EQ(out[1].price, 2.5);
}

}  // namespace
}  // namespace sluice
