#include "sluice/json_row.h"

#include <gtest/gtest.h>

#include <string>

#include "sluice/detail/json_line_parser.h"

namespace sluice {
namespace {

using detail::JsonLineParser;

class JsonRowTest : public ::testing::Test {
 protected:
  void parse(std::string_view line) {
    Status status = parser_.parse(line, row_);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }
  JsonLineParser parser_;
  JsonRow row_;
};

TEST_F(JsonRowTest, Fields) {
  parse(R"({"id": 7, "symbol": "ACME", "price": 12.5, "live": true, "qty": -3, "note": null})");
  EXPECT_EQ(row_.int64("id"), 7);
  EXPECT_EQ(row_.str("symbol"), "ACME");
  EXPECT_EQ(row_.float64("price"), 12.5);
  EXPECT_EQ(row_.float64("qty"), -3.0);  // integers are numbers
  EXPECT_TRUE(row_.boolean("live"));
  EXPECT_TRUE(row_.has("note"));
  EXPECT_TRUE(row_.is_null("note"));
  EXPECT_FALSE(row_.is_null("id"));
  EXPECT_FALSE(row_.has("absent"));
  EXPECT_FALSE(row_.is_null("absent"));
  EXPECT_EQ(row_.error(), nullptr);
}

TEST_F(JsonRowTest, NestedFieldsAreIgnoredOrReachedByPointer) {
  parse(R"({"meta": {"tags": ["a", {"deep": [1, 2]}], "user": {"id": 99}}, "id": 1})");
  EXPECT_EQ(row_.int64("id"), 1);
  EXPECT_EQ(row_.int64("/meta/user/id"), 99);
  EXPECT_EQ(row_.str("/meta/tags/0"), "a");
  EXPECT_EQ(row_.error(), nullptr);
  EXPECT_EQ(row_.int64("user"), 0);  // not a top-level member
  ASSERT_NE(row_.error(), nullptr);
  EXPECT_EQ(*row_.error(), "field 'user': missing");
}

TEST_F(JsonRowTest, EscapedStrings) {
  parse(R"({"s": "a\"b\\c\n\u00e9"})");
  EXPECT_EQ(row_.str("s"), "a\"b\\c\n\xc3\xa9");
}

TEST_F(JsonRowTest, MissingField) {
  parse(R"({"id": 1})");
  EXPECT_EQ(row_.float64("price"), 0.0);
  ASSERT_NE(row_.error(), nullptr);
  EXPECT_EQ(*row_.error(), "field 'price': missing");
}

TEST_F(JsonRowTest, WrongTypes) {
  parse(R"({"price": "12", "id": 1.5, "flag": 1, "name": 3, "big": 18446744073709551615})");
  EXPECT_EQ(row_.float64("price"), 0.0);
  EXPECT_EQ(*row_.error(), "field 'price': expected a number, got string");
  parse(R"({"price": "12", "id": 1.5, "flag": 1, "name": 3, "big": 18446744073709551615})");
  EXPECT_EQ(row_.error(), nullptr);  // a new parse clears the error
  EXPECT_EQ(row_.int64("id"), 0);
  EXPECT_EQ(*row_.error(), "field 'id': expected an integer, got number");
  parse(R"({"flag": 1})");
  EXPECT_FALSE(row_.boolean("flag"));
  EXPECT_EQ(*row_.error(), "field 'flag': expected a boolean, got integer");
  parse(R"({"name": 3})");
  EXPECT_EQ(row_.str("name"), "");
  EXPECT_EQ(*row_.error(), "field 'name': expected a string, got integer");
  parse(R"({"big": 18446744073709551615})");
  EXPECT_EQ(row_.int64("big"), 0);
  EXPECT_EQ(*row_.error(),
            "field 'big': expected an integer that fits in 64 bits, got 18446744073709551615");
  parse(R"({"n": null})");
  EXPECT_EQ(row_.int64("n"), 0);
  EXPECT_EQ(*row_.error(), "field 'n': expected an integer, got null");
}

TEST_F(JsonRowTest, FirstErrorWins) {
  parse(R"({"a": "x"})");
  EXPECT_EQ(row_.int64("b"), 0);
  EXPECT_EQ(row_.int64("a"), 0);
  EXPECT_EQ(*row_.error(), "field 'b': missing");
}

TEST_F(JsonRowTest, MalformedDocuments) {
  for (std::string_view line : {R"({"id": 1)", R"({"id": })", "{\"id\": tru}", "", "{} x"}) {
    Status status = parser_.parse(line, row_);
    EXPECT_EQ(status.code(), StatusCode::kParseError) << line;
    EXPECT_TRUE(status.message().starts_with("malformed JSON: ")) << status.message();
  }
  Status status = parser_.parse("[1, 2]", row_);
  EXPECT_EQ(status.message(), "expected a JSON object, got an array");
  status = parser_.parse("3", row_);
  EXPECT_EQ(status.message(), "expected a JSON object, got a scalar value");
  // A row left by a failed parse has no fields.
  EXPECT_FALSE(row_.has("id"));
  EXPECT_EQ(row_.int64("id"), 0);
  EXPECT_EQ(*row_.error(), "field 'id': missing");
}

TEST_F(JsonRowTest, LinesOfGrowingLengthReuseThePaddedBuffer) {
  for (int n : {1, 1000, 10, 100000, 5}) {
    std::string line = "{\"s\":\"" + std::string(static_cast<size_t>(n), 'z') +
                       "\",\"n\":" + std::to_string(n) + "}";
    parse(line);
    EXPECT_EQ(row_.str("s").size(), static_cast<size_t>(n));
    EXPECT_EQ(row_.int64("n"), n);
  }
}

TEST(JsonRowMoveTest, MovedRowKeepsItsObject) {
  JsonLineParser parser;
  JsonRow row;
  ASSERT_TRUE(parser.parse(R"({"x": 5})", row).is_ok());
  JsonRow moved = std::move(row);
  EXPECT_EQ(moved.int64("x"), 5);
}

}  // namespace
}  // namespace sluice
