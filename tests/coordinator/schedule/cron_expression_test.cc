#include "coordinator/schedule/cron_expression.h"

#include <gtest/gtest.h>

namespace tlsweep::coordinator {
namespace {

// 2026-11-28 12:40:00 UTC, a Saturday.
constexpr int64_t kSaturdayNoon = 1795869600;

int64_t Next(absl::string_view text, int64_t after = kSaturdayNoon) {
  absl::StatusOr<CronExpression> cron = CronExpression::Parse(text);
  EXPECT_TRUE(cron.ok()) << cron.status();
  return cron.ok() ? cron->NextAfter(after) : -1;
}

TEST(CronExpressionTest, EveryMinuteIsTheNextMinute) {
  EXPECT_EQ(Next("* * * * *"), kSaturdayNoon + 60);
  EXPECT_EQ(Next("* * * * *", kSaturdayNoon + 30), kSaturdayNoon + 60);
}

TEST(CronExpressionTest, DailyAtAFixedTime) {
  EXPECT_EQ(Next("30 3 * * *"), kSaturdayNoon - 12 * 3600 - 40 * 60 + 86400 + 3 * 3600 + 30 * 60);
  EXPECT_EQ(Next("@daily"), kSaturdayNoon - 12 * 3600 - 40 * 60 + 86400);
}

TEST(CronExpressionTest, StepsRangesListsAndNames) {
  EXPECT_EQ(Next("*/15 * * * *"), kSaturdayNoon + 5 * 60);                  // 12:45
  EXPECT_EQ(Next("0 8-18/2 * * *"), kSaturdayNoon + 80 * 60);               // 14:00
  EXPECT_EQ(Next("0 9 * * mon-fri"), kSaturdayNoon + 44 * 3600 + 20 * 60);  // Monday 09:00
  EXPECT_EQ(Next("0 0 1 jan *"), 1798761600);                               // 2027-01-01
  EXPECT_EQ(Next("0 12 * * 7"), kSaturdayNoon + 24 * 3600 - 40 * 60);       // Sunday noon (7 = 0)
}

TEST(CronExpressionTest, RestrictedDayFieldsMatchEitherAsCronDoes) {
  // The 1st of the month or any Sunday: Sunday 2026-11-29 comes first.
  EXPECT_EQ(Next("0 0 1 * sun"), kSaturdayNoon - 12 * 3600 - 40 * 60 + 86400);
}

TEST(CronExpressionTest, ImpossibleDateHasNoNextRun) { EXPECT_EQ(Next("0 0 31 2 *"), 0); }

TEST(CronExpressionTest, ErrorsNameTheField) {
  auto minute = CronExpression::Parse("61 * * * *");
  ASSERT_FALSE(minute.ok());
  EXPECT_NE(minute.status().message().find("minute"), absl::string_view::npos);
  auto fields = CronExpression::Parse("* * *");
  ASSERT_FALSE(fields.ok());
  EXPECT_NE(fields.status().message().find("five fields"), absl::string_view::npos);
  EXPECT_FALSE(CronExpression::Parse("0 0 * foo *").ok());
  EXPECT_FALSE(CronExpression::Parse("*/0 * * * *").ok());
  EXPECT_FALSE(CronExpression::Parse("5-1 * * * *").ok());
}

}  // namespace
}  // namespace tlsweep::coordinator
