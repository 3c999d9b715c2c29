// Five-field cron expressions ("minute hour day-of-month month day-of-week"), as crontab(5)
// writes them: numbers, '*', ranges "1-5", lists "1,15", steps "*/10" and "8-18/2", names for
// months and weekdays (jan..dec, sun..sat), 0 or 7 for Sunday, and the macros @hourly,
// @daily (@midnight), @weekly, @monthly, @yearly (@annually). Times are UTC.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::coordinator {

class CronExpression {
 public:
  // InvalidArgument naming the field and the reason.
  static absl::StatusOr<CronExpression> Parse(absl::string_view text);

  // The first matching minute strictly after `after_unix_seconds`; 0 if none within 5 years
  // (e.g. "0 0 31 2 *").
  int64_t NextAfter(int64_t after_unix_seconds) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0..6, Sunday = 0
  // crontab(5): when both day fields are restricted, a day matches if either matches.
  bool day_of_month_restricted_ = false;
  bool day_of_week_restricted_ = false;
};

}  // namespace tlsweep::coordinator
