#include "backends/event_log.h"

#include <gtest/gtest.h>

#include <regex>

namespace tlsweep {
namespace {

TEST(EventLogTest, PlainValuesStayBareAndOthersAreQuoted) {
  const std::string line = FormatEvent(
      "tlsweep-coordinator", "lease_granted",
      {{"agent", "eu-1"}, {"reason", "lease expired"}, {"detail", "a=\"b\"\\c\nd"}, {"empty", ""}});
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z prog=tlsweep-coordinator )"
                       R"(event=lease_granted agent=eu-1 reason="lease expired" )"
                       R"(detail="a=\\"b\\"\\\\c\\nd" empty="")")))
      << line;
}

TEST(EventLogTest, ControlBytesCannotBreakTheLine) {
  const std::string line = FormatEvent("p", "e", {{"v", std::string("a\rb\0c", 5)}});
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line.find('\0'), std::string::npos);
  EXPECT_NE(line.find("v=\"a?b?c\""), std::string::npos) << line;
}

}  // namespace
}  // namespace tlsweep
