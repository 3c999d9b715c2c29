#include "coordinator/schedule/cron_expression.h"

#include <ctime>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tlsweep::coordinator {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  std::vector<const char*> names;  // names[i] stands for min + i.
};

const FieldSpec kMinute{"minute", 0, 59, {}};
const FieldSpec kHour{"hour", 0, 23, {}};
const FieldSpec kDayOfMonth{"day of month", 1, 31, {}};
const FieldSpec kMonth{
    "month",
    1,
    12,
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
const FieldSpec kDayOfWeek{"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

absl::StatusOr<int> ParseValue(absl::string_view text, const FieldSpec& spec) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (size_t i = 0; i < spec.names.size(); ++i) {
    if (lower == spec.names[i]) return spec.min + static_cast<int>(i);
  }
  int value;
  if (!absl::SimpleAtoi(text, &value) || value < spec.min || value > spec.max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cron ", spec.name, ": '", text, "' is not a value from ", spec.min, " to ", spec.max));
  }
  return value;
}

// Sets the bits of one field; returns whether the field was restricted (not '*').
absl::StatusOr<bool> ParseField(absl::string_view field, const FieldSpec& spec,
                                std::vector<bool>& bits) {
  bits.assign(spec.max + 1, false);
  bool restricted = false;
  for (absl::string_view item : absl::StrSplit(field, ',')) {
    int step = 1;
    const size_t slash = item.find('/');
    absl::string_view range = item.substr(0, slash);
    if (slash != absl::string_view::npos) {
      if (!absl::SimpleAtoi(item.substr(slash + 1), &step) || step < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("cron ", spec.name, ": bad step in '", item, "'"));
      }
    }
    int low = spec.min;
    int high = spec.max;
    if (range == "*") {
      if (slash != absl::string_view::npos) restricted = true;
    } else {
      restricted = true;
      const size_t dash = range.find('-');
      absl::StatusOr<int> first = ParseValue(range.substr(0, dash), spec);
      if (!first.ok()) return first.status();
      low = high = *first;
      if (dash != absl::string_view::npos) {
        absl::StatusOr<int> last = ParseValue(range.substr(dash + 1), spec);
        if (!last.ok()) return last.status();
        high = *last;
      } else if (slash != absl::string_view::npos) {
        high = spec.max;  // "5/15" means 5-max/15, as cron does.
      }
      if (low > high) {
        return absl::InvalidArgumentError(
            absl::StrCat("cron ", spec.name, ": range '", range, "' runs backwards"));
      }
    }
    for (int value = low; value <= high; value += step) bits[value] = true;
  }
  return restricted;
}

absl::string_view ExpandMacro(absl::string_view text) {
  if (text == "@hourly") return "0 * * * *";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  return text;
}

}  // namespace

absl::StatusOr<CronExpression> CronExpression::Parse(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  const absl::string_view expanded = ExpandMacro(trimmed);
  std::vector<absl::string_view> fields =
      absl::StrSplit(expanded, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cron expression '", trimmed,
        "' needs five fields (minute hour day-of-month month day-of-week) or a macro such "
        "as @daily"));
  }
  CronExpression cron;
  cron.text_ = std::string(trimmed);
  std::vector<bool> bits;
  const FieldSpec* specs[] = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<bool> restricted = ParseField(fields[i], *specs[i], bits);
    if (!restricted.ok()) return restricted.status();
    for (size_t value = 0; value < bits.size(); ++value) {
      if (!bits[value]) continue;
      switch (i) {
        case 0:
          cron.minutes_.set(value);
          break;
        case 1:
          cron.hours_.set(value);
          break;
        case 2:
          cron.days_of_month_.set(value);
          break;
        case 3:
          cron.months_.set(value);
          break;
        case 4:
          cron.days_of_week_.set(value % 7);
          break;
      }
    }
    if (i == 2) cron.day_of_month_restricted_ = *restricted;
    if (i == 4) cron.day_of_week_restricted_ = *restricted;
  }
  return cron;
}

int64_t CronExpression::NextAfter(int64_t after_unix_seconds) const {
  // Minute by minute would be 2.6M steps for five years; skip whole days and hours instead.
  int64_t t = (after_unix_seconds / 60 + 1) * 60;
  const int64_t limit = after_unix_seconds + int64_t{5} * 366 * 86400;
  while (t <= limit) {
    const time_t seconds = static_cast<time_t>(t);
    struct tm parts;
    gmtime_r(&seconds, &parts);
    const bool dom = days_of_month_[parts.tm_mday];
    const bool dow = days_of_week_[parts.tm_wday];
    const bool day_matches =
        (day_of_month_restricted_ && day_of_week_restricted_) ? (dom || dow) : (dom && dow);
    if (!months_[parts.tm_mon + 1] || !day_matches) {
      t += 86400 - (parts.tm_hour * 3600 + parts.tm_min * 60);  // Next midnight.
      continue;
    }
    if (!hours_[parts.tm_hour]) {
      t += 3600 - parts.tm_min * 60;  // Next full hour.
      continue;
    }
    if (!minutes_[parts.tm_min]) {
      t += 60;
      continue;
    }
    return t;
  }
  return 0;
}

}  // namespace tlsweep::coordinator
