#include "backends/target/target_list_reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {
namespace {

std::vector<TargetLine> ReadAll(TargetListReader& reader) {
  std::vector<TargetLine> targets;
  while (std::optional<TargetLine> target = reader.Next()) targets.push_back(*std::move(target));
  return targets;
}

TEST(TargetListReaderTest, ReadsGoodLinesAndRecordsBadOnesWithLineNumbers) {
  std::istringstream in(
      "\xEF\xBB\xBF# mail domains, weighted\r\n"  // 1
      "example.com,100\r\n"                       // 2
      "\r\n"                                      // 3
      "x..y\r\n"                                  // 4
      "  bücher.example   # German\r\n"           // 5
      "mx.example.net:99999\r\n"                  // 6
      "[2001:db8::25]:587\r\n"                    // 7
      "example.org,heavy # weight typo\r\n"       // 8
      "192.0.2.1\r\n");                           // 9
  TargetListReader reader(in);
  std::vector<TargetLine> targets = ReadAll(reader);

  ASSERT_EQ(targets.size(), 4u);
  EXPECT_EQ(targets[0].line_number, 2u);
  EXPECT_EQ(targets[0].target.name, "example.com");
  EXPECT_EQ(targets[0].target.weight, 100);
  EXPECT_EQ(targets[1].line_number, 5u);
  EXPECT_EQ(targets[1].target.name, "xn--bcher-kva.example");
  EXPECT_EQ(targets[2].line_number, 7u);
  EXPECT_EQ(targets[2].target.port, 587);
  EXPECT_EQ(targets[3].line_number, 9u);
  EXPECT_EQ(targets[3].target.kind, Target::Kind::kAddress);

  ASSERT_EQ(reader.bad_line_count(), 3u);
  ASSERT_EQ(reader.bad_lines().size(), 3u);
  EXPECT_EQ(FormatBadLine(reader.bad_lines()[0], "targets.txt"),
            "targets.txt:4: bad target 'x..y': empty label");
  EXPECT_EQ(FormatBadLine(reader.bad_lines()[1], "targets.txt"),
            "targets.txt:6: bad target 'mx.example.net:99999': port out of range");
  EXPECT_EQ(FormatBadLine(reader.bad_lines()[2], "targets.txt"),
            "targets.txt:8: bad target 'example.org,heavy': weight is not a number");
  EXPECT_EQ(reader.lines_read(), 9u);
  EXPECT_EQ(reader.duplicate_count(), 0u);
  EXPECT_EQ(reader.target_count(), 4u);
  EXPECT_TRUE(reader.status().ok());
}

TEST(TargetListReaderTest, SkipsDuplicatesAfterNormalisationFirstWins) {
  std::istringstream in(
      "example.com,5\n"          // 1
      "Example.COM.\n"           // 2: duplicate domain
      "example.com:25\n"         // 3: a host, not the domain
      "EXAMPLE.com:25,9\n"       // 4: duplicate host
      "[example.com]\n"          // 5: duplicate host (brackets = host on the default port)
      "bücher.example\n"         // 6
      "xn--bcher-kva.example\n"  // 7: duplicate via IDNA
      "[2001:db8::1]:25\n"       // 8
      "2001:DB8:0::1\n"          // 9: duplicate address
      "example.com:587\n");      // 10: other port
  TargetListReader reader(in);
  std::vector<TargetLine> targets = ReadAll(reader);
  ASSERT_EQ(targets.size(), 5u);
  EXPECT_EQ(targets[0].target.weight, 5);  // the first one wins
  EXPECT_EQ(targets[1].line_number, 3u);
  EXPECT_EQ(targets[4].line_number, 10u);
  EXPECT_EQ(reader.duplicate_count(), 5u);
  std::vector<uint64_t> duplicate_lines;
  for (const DuplicateLine& duplicate : reader.duplicate_lines()) {
    duplicate_lines.push_back(duplicate.line_number);
  }
  EXPECT_EQ(duplicate_lines, (std::vector<uint64_t>{2, 4, 5, 7, 9}));
  EXPECT_EQ(FormatDuplicateLine(reader.duplicate_lines()[0], "t.txt"),
            "t.txt:2: duplicate target 'Example.COM.' skipped");
  EXPECT_EQ(reader.bad_line_count(), 0u);
}

TEST(TargetListReaderTest, AppliesDefaultPort) {
  std::istringstream in("example.com\nmx.example.com:25\n");
  TargetListReader reader(in, 587);
  std::vector<TargetLine> targets = ReadAll(reader);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].target.port, 587);
  EXPECT_EQ(targets[1].target.port, 25);
}

TEST(TargetListReaderTest, EmptyAndCommentOnlyInputs) {
  std::istringstream empty("");
  TargetListReader empty_reader(empty);
  EXPECT_FALSE(empty_reader.Next().has_value());
  EXPECT_EQ(empty_reader.lines_read(), 0u);

  std::istringstream comments("# a\n\n   \n# b");
  TargetListReader comment_reader(comments);
  EXPECT_FALSE(comment_reader.Next().has_value());
  EXPECT_EQ(comment_reader.lines_read(), 4u);
  EXPECT_EQ(comment_reader.bad_line_count(), 0u);
}

TEST(TargetListReaderTest, CapsStoredBadLinesButCountsAll) {
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "bad_name.example\n";
  text += "example.com\n";
  std::istringstream in(text);
  TargetListReader reader(in);
  std::vector<TargetLine> targets = ReadAll(reader);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].line_number, 1501u);
  EXPECT_EQ(reader.bad_line_count(), 1500u);
  EXPECT_EQ(reader.bad_lines().size(), TargetListReader::kMaxStoredLines);
  EXPECT_EQ(reader.bad_lines().back().line_number, 1000u);
}

// Fails after its first line, as a stream over a broken disk or connection would.
class FailingSource : public std::streambuf {
 protected:
  int_type underflow() override {
    if (served_) throw std::runtime_error("read error");
    served_ = true;
    setg(line_, line_, line_ + sizeof(line_) - 1);
    return traits_type::to_int_type(line_[0]);
  }

 private:
  char line_[13] = "example.com\n";
  bool served_ = false;
};

TEST(TargetListReaderTest, ReportsAStreamFailure) {
  FailingSource source;
  std::istream in(&source);
  TargetListReader reader(in);
  ASSERT_TRUE(reader.Next().has_value());
  EXPECT_FALSE(reader.Next().has_value());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reader.status().message(), "target list unreadable after line 1");
}

TEST(TargetListReaderTest, ReportsOverlongLines) {
  std::istringstream in(std::string(10000, 'a') + "\nexample.com\n");
  TargetListReader reader(in);
  std::vector<TargetLine> targets = ReadAll(reader);
  ASSERT_EQ(targets.size(), 1u);
  ASSERT_EQ(reader.bad_lines().size(), 1u);
  EXPECT_EQ(reader.bad_lines()[0].line_number, 1u);
  EXPECT_EQ(reader.bad_lines()[0].reason, "line longer than 4096 characters");
  EXPECT_EQ(reader.bad_lines()[0].text.size(), 200u);
}

// A stream that produces `count` generated lines on demand, so the test itself never holds the
// whole input either.
class GeneratedTargets : public std::streambuf {
 public:
  explicit GeneratedTargets(int count) : count_(count) {}

 protected:
  int_type underflow() override {
    if (next_ >= count_) return traits_type::eof();
    // Every 10th line repeats an earlier domain in another spelling, every 100th is bad.
    if (next_ % 100 == 99) {
      line_ = absl::StrCat("bad..", next_, ".example\n");
    } else if (next_ % 10 == 9) {
      line_ = absl::StrCat("D", next_ - 1, ".Example.\n");
    } else {
      line_ = absl::StrCat("d", next_, ".example,", next_ % 7, "\n");
    }
    ++next_;
    setg(line_.data(), line_.data(), line_.data() + line_.size());
    return traits_type::to_int_type(line_[0]);
  }

 private:
  int count_;
  int next_ = 0;
  std::string line_;
};

TEST(TargetListReaderTest, StreamsALargeGeneratedListQuickly) {
  constexpr int kLines = 200000;
  GeneratedTargets source(kLines);
  std::istream in(&source);
  TargetListReader reader(in);
  const auto start = std::chrono::steady_clock::now();
  uint64_t count = 0;
  uint64_t last_line = 0;
  while (std::optional<TargetLine> target = reader.Next()) {
    ++count;
    ASSERT_GT(target->line_number, last_line);
    last_line = target->line_number;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Per 100 lines: 90 good, 9 duplicates (lines 9, 19, ... 89 repeat the line before; 99 is bad).
  EXPECT_EQ(reader.lines_read(), static_cast<uint64_t>(kLines));
  EXPECT_EQ(reader.bad_line_count(), static_cast<uint64_t>(kLines / 100));
  EXPECT_EQ(reader.duplicate_count(), static_cast<uint64_t>(kLines / 100 * 9));
  EXPECT_EQ(count, static_cast<uint64_t>(kLines / 100 * 90));
  EXPECT_EQ(reader.duplicate_lines().size(), TargetListReader::kMaxStoredLines);
  // Generous for slow CI machines and sanitizers; typically well under a second.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 20);
}

}  // namespace
}  // namespace tlsweep::backends
