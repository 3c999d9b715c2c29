#include "backends/event_log.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace tlsweep {
namespace {

TEST(EventLogTest, PlainValuesStayBareAndOthersAreQuoted) {
  const std::string line = FormatEvent(
      "tlsweep-coordinator", "lease_granted",
      {{"agent", "eu-1"}, {"reason", "lease expired"}, {"detail", "a=\"b\"\\c\nd"}, {"empty", ""}});
  // ts=YYYY-MM-DDTHH:MM:SS.mmmZ, then the fields in the order given. Checked by hand: libstdc++'s
  // <regex> trips -Wmaybe-uninitialized in the sanitizer builds.
  const std::string shape = "ts=dddd-dd-ddTdd:dd:dd.dddZ ";
  ASSERT_GT(line.size(), shape.size()) << line;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd') {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(line[i]))) << i << ": " << line;
    } else {
      EXPECT_EQ(line[i], shape[i]) << i << ": " << line;
    }
  }
  EXPECT_EQ(line.substr(shape.size()),
            "prog=tlsweep-coordinator event=lease_granted agent=eu-1 reason=\"lease expired\" "
            "detail=\"a=\\\"b\\\"\\\\c\\nd\" empty=\"\"")
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
