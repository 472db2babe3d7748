#include "sluice/time.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TimeTest, FormatsUtcWithMillis) {
  EXPECT_EQ(format_timestamp(1767225600000), "2026-01-01 00:00:00.000");
  EXPECT_EQ(format_timestamp(1767225600000 + 3723004), "2026-01-01 01:02:03.004");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31 23:59:59.999");
}

}  // namespace
}  // namespace sluice
