#include "backends/target/list_line_reader.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace tlsweep::backends {
namespace {

std::vector<ListLine> ReadAll(const std::string& text) {
  std::istringstream in(text);
  ListLineReader reader(in);
  std::vector<ListLine> lines;
  ListLine line;
  while (reader.Next(line)) lines.push_back(line);
  return lines;
}

TEST(ListLineReaderTest, SkipsCommentsAndBlanksAndKeepsLineNumbers) {
  std::vector<ListLine> lines =
      ReadAll("# header\n\n  a.example  \n\t\nb.example # trailing\n   # indented\nc.example");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].line_number, 3u);
  EXPECT_EQ(lines[0].text, "a.example");
  EXPECT_EQ(lines[1].line_number, 5u);
  EXPECT_EQ(lines[1].text, "b.example");
  EXPECT_EQ(lines[2].line_number, 7u);  // no final newline
  EXPECT_EQ(lines[2].text, "c.example");
}

TEST(ListLineReaderTest, ToleratesCrlfAndBomOnTheFirstLineOnly) {
  std::vector<ListLine> lines = ReadAll(
      "\xEF\xBB\xBF"
      "a.example\r\nb.example\r\n\xEF\xBB\xBF"
      "c\r\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "a.example");
  EXPECT_EQ(lines[1].text, "b.example");
  EXPECT_EQ(lines[2].text,
            "\xEF\xBB\xBF"
            "c");  // a BOM later on is content (and a bad line)
}

TEST(ListLineReaderTest, CountsPhysicalLines) {
  std::istringstream in("a\n\n# c\nb\n");
  ListLineReader reader(in);
  ListLine line;
  while (reader.Next(line)) {
  }
  EXPECT_EQ(reader.lines_read(), 4u);
  EXPECT_FALSE(reader.failed());
}

TEST(ListLineReaderTest, BoundsLongLines) {
  const std::string long_line(ListLineReader::kMaxLineLength + 10, 'x');
  std::vector<ListLine> lines = ReadAll("a\n" + long_line + "\nb\n# " + long_line + "\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].line_number, 2u);
  EXPECT_EQ(lines[1].text.size(), ListLineReader::kMaxLineLength);
  EXPECT_EQ(lines[2].text, "b");  // the long comment line is just a comment
}

TEST(BadLineLogTest, CapsStoredLinesButCountsAll) {
  BadLineLog log(2);
  log.Add(1, "a", "r1");
  log.Add(2, std::string(500, 'b'), "r2");
  log.Add(3, "c", "r3");
  EXPECT_EQ(log.count(), 3u);
  ASSERT_EQ(log.lines().size(), 2u);
  EXPECT_EQ(log.lines()[1].text.size(), 200u);
}

TEST(FormatBadLineTest, NamesFileLineTextAndReason) {
  EXPECT_EQ(FormatBadLine(BadLine{12, "x..y", "empty label"}, "targets.txt"),
            "targets.txt:12: bad target 'x..y': empty label");
  EXPECT_EQ(FormatBadLine(BadLine{3, "10.0.0.0/99", "prefix length too long"}, "optout.txt",
                          "opt-out rule"),
            "optout.txt:3: bad opt-out rule '10.0.0.0/99': prefix length too long");
}

}  // namespace
}  // namespace tlsweep::backends
