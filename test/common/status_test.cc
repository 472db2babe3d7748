#include "sluice/status.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::invalid_argument("expected a positive number");
  return x;
}

Status use(int x) {
  SLUICE_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v > 10 ? Status::invalid_argument("too big") : Status::ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status s = Status::parse_error("line 3: bad");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.to_string(), "parse error: line 3: bad");
}

TEST(StatusTest, ResultAndMacros) {
  EXPECT_TRUE(use(5).is_ok());
  EXPECT_EQ(use(-1).message(), "expected a positive number");
  EXPECT_EQ(use(11).message(), "too big");
  Result<int> r = parse_positive(4);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 4);
}

}  // namespace
}  // namespace sluice
