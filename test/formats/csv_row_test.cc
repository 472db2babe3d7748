#include "sluice/csv_row.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sluice/detail/csv_splitter.h"

namespace sluice {
namespace {

using detail::CsvSplitter;

std::vector<std::string> fields_of(const CsvRow& row) {
  std::vector<std::string> out;
  for (size_t i = 0; i < row.size(); ++i) out.emplace_back(row.str(i));
  return out;
}

std::vector<std::string> split(std::string_view line, char delimiter = ',') {
  CsvSplitter splitter(delimiter);
  CsvRow row;
  Status status = splitter.split(line, row);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return fields_of(row);
}

using Fields = std::vector<std::string>;

TEST(CsvSplitterTest, PlainFields) {
  EXPECT_EQ(split("1,ACME,12.5"), (Fields{"1", "ACME", "12.5"}));
  EXPECT_EQ(split("single"), (Fields{"single"}));
}

TEST(CsvSplitterTest, EmptyFields) {
  EXPECT_EQ(split(""), (Fields{""}));
  EXPECT_EQ(split(","), (Fields{"", ""}));
  EXPECT_EQ(split("a,,b,"), (Fields{"a", "", "b", ""}));
  EXPECT_EQ(split("\"\",x"), (Fields{"", "x"}));
}

TEST(CsvSplitterTest, QuotedFields) {
  EXPECT_EQ(split("\"a,b\",c"), (Fields{"a,b", "c"}));
  EXPECT_EQ(split("x,\"with space \""), (Fields{"x", "with space "}));
  // A quote inside an unquoted field is an ordinary character.
  EXPECT_EQ(split("5\" pipe,2"), (Fields{"5\" pipe", "2"}));
}

TEST(CsvSplitterTest, EscapedQuotes) {
  EXPECT_EQ(split("\"say \"\"hi\"\"\",\"\"\"\"", ','), (Fields{"say \"hi\"", "\""}));
  // Several escaped fields in one line each keep their own bytes in the scratch buffer.
  EXPECT_EQ(split("\"a\"\"\",\"b\"\"\",\"c\"\"\""), (Fields{"a\"", "b\"", "c\""}));
}

TEST(CsvSplitterTest, Delimiter) {
  EXPECT_EQ(split("a;b,c;\"d;e\"", ';'), (Fields{"a", "b,c", "d;e"}));
  EXPECT_EQ(split("a\tb\t", '\t'), (Fields{"a", "b", ""}));
}

TEST(CsvSplitterTest, UnterminatedQuoteNamesTheColumn) {
  CsvSplitter splitter;
  CsvRow row;
  Status status = splitter.split("1,2,\"open", row);
  EXPECT_EQ(status.code(), StatusCode::kParseError);
  EXPECT_EQ(status.message(), "column 3: unterminated quoted field starting at character 5");
}

TEST(CsvSplitterTest, JunkAfterClosingQuote) {
  CsvSplitter splitter;
  CsvRow row;
  Status status = splitter.split("\"a\"b,c", row);
  EXPECT_EQ(status.code(), StatusCode::kParseError);
  EXPECT_NE(status.message().find("column 1: expected ',' or the end of the line"),
            std::string::npos)
      << status.message();
}

TEST(CsvSplitterTest, ReusesRowAndClearsError) {
  CsvSplitter splitter;
  CsvRow row;
  ASSERT_TRUE(splitter.split("x", row).is_ok());
  EXPECT_EQ(row.int64(0), 0);
  ASSERT_NE(row.error(), nullptr);
  ASSERT_TRUE(splitter.split("4,5", row).is_ok());
  EXPECT_EQ(row.error(), nullptr);
  EXPECT_EQ(row.int64(1), 5);
}

TEST(CsvRowTest, Numbers) {
  CsvRow row({"42", "-7", " +3 ", "2.5", "-1e3", "9223372036854775807"});
  EXPECT_EQ(row.int64(0), 42);
  EXPECT_EQ(row.int64(1), -7);
  EXPECT_EQ(row.int64(2), 3);
  EXPECT_EQ(row.float64(3), 2.5);
  EXPECT_EQ(row.float64(4), -1000.0);
  EXPECT_EQ(row.float64(0), 42.0);
  EXPECT_EQ(row.int64(5), INT64_MAX);
  EXPECT_EQ(row.error(), nullptr);
}

TEST(CsvRowTest, Booleans) {
  CsvRow row({"true", "FALSE", "1", "0", "True"});
  EXPECT_TRUE(row.boolean(0));
  EXPECT_FALSE(row.boolean(1));
  EXPECT_TRUE(row.boolean(2));
  EXPECT_FALSE(row.boolean(3));
  EXPECT_TRUE(row.boolean(4));
  EXPECT_EQ(row.error(), nullptr);
  CsvRow bad({"yes"});
  EXPECT_FALSE(bad.boolean(0));
  ASSERT_NE(bad.error(), nullptr);
  EXPECT_EQ(*bad.error(),
            "column 1 (index 0): expected a boolean (true, false, 1 or 0), got 'yes'");
}

TEST(CsvRowTest, BadNumberNamesTheColumn) {
  CsvRow row({"1", "ACME", "abc"});
  EXPECT_EQ(row.int64(2), 0);
  ASSERT_NE(row.error(), nullptr);
  EXPECT_EQ(*row.error(), "column 3 (index 2): expected an integer, got 'abc'");
}

TEST(CsvRowTest, TrailingJunkAndEmpty) {
  CsvRow row({"12x", "1.5.2", "", "1.5"});
  EXPECT_EQ(row.int64(0), 0);
  EXPECT_EQ(*row.error(), "column 1 (index 0): expected an integer, got '12x'");
  for (size_t i : {1, 2}) {
    CsvRow one({row.str(i)});
    EXPECT_EQ(one.float64(0), 0.0);
    EXPECT_NE(one.error(), nullptr);
  }
  CsvRow fraction({"1.5"});
  EXPECT_EQ(fraction.int64(0), 0);
  EXPECT_EQ(*fraction.error(), "column 1 (index 0): expected an integer, got '1.5'");
}

TEST(CsvRowTest, Overflow) {
  CsvRow row({"9223372036854775808"});
  EXPECT_EQ(row.int64(0), 0);
  EXPECT_EQ(*row.error(),
            "column 1 (index 0): expected an integer that fits in 64 bits, got "
            "'9223372036854775808'");
}

TEST(CsvRowTest, FirstErrorWins) {
  CsvRow row({"a", "b"});
  EXPECT_EQ(row.int64(5), 0);
  EXPECT_EQ(row.float64(1), 0.0);
  EXPECT_EQ(row.str(7), "");
  ASSERT_NE(row.error(), nullptr);
  EXPECT_EQ(*row.error(), "column 6 (index 5): missing, the record has 2 columns");
}

TEST(CsvRowTest, LongValuesAreCutInMessages) {
  std::string long_value(100, '7');
  long_value += "x";
  CsvRow row({long_value});
  EXPECT_EQ(row.int64(0), 0);
  EXPECT_EQ(*row.error(),
            "column 1 (index 0): expected an integer, got '" + std::string(40, '7') + "...'");
}

}  // namespace
}  // namespace sluice
