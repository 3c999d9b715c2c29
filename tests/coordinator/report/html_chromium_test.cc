// The HTML report in a real browser: headless Chromium renders it without console errors, the
// DOM holds the summary table with the hand-counted numbers, and a screenshot is produced.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "tests/coordinator/report/report_fixture.h"
#include "tests/testing/run_command.h"

namespace tlsweep::coordinator::report {
namespace {

using ::tlsweep::testing::For;

using ::tlsweep::testing::RunCommand;
using ::tlsweep::testing::ShellQuote;

// Every network feature off: the page must need nothing but itself.
std::string Chromium(const std::string& profile_dir) {
  return absl::StrCat(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--disable-dev-shm-usage --user-data-dir=",
      ShellQuote(profile_dir), " ");
}

class HtmlChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "chromium is not installed";
    auto store = tlsweep::testing::MakeReportStore(true);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto db = SqliteDb::Open(store_.path);
    ASSERT_TRUE(db.ok());
    auto report = BuildReport(**db, For(store_.current_id, store_.before_id));
    ASSERT_TRUE(report.ok()) << report.status();
    html_path_ = store_.dir + "/report.html";
    std::ofstream(html_path_) << RenderHtml(*report);
  }

  tlsweep::testing::ReportStore store_;
  std::string html_path_;
};

TEST_F(HtmlChromiumTest, DomShowsTheSummaryTable) {
  auto dom = RunCommand(Chromium(store_.dir + "/profile-dom") + "--dump-dom " +
                        ShellQuote("file://" + html_path_) + " 2>/dev/null");
  ASSERT_TRUE(dom.ok()) << dom.status();
  ASSERT_EQ(dom->exit_code, 0) << dom->output;
  const std::string& text = dom->output;
  EXPECT_TRUE(absl::StrContains(text, "<table id=\"summary\">")) << text.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(text, "Who would fail"));
  // eu / modern: 3 domains fail, 47.5% of the volume.
  EXPECT_TRUE(absl::StrContains(text, "<td class=\"n fails\">3 <small>47.5%</small></td>"))
      << text.substr(0, 4000);
  EXPECT_TRUE(absl::StrContains(text, "alpha.example"));
  EXPECT_TRUE(absl::StrContains(text, "<svg"));
}

// The delta leads the page: in the DOM Chromium builds, the first table is the delta against
// the baseline, with the numbers counted by hand in report_builder_test (DeltaAgainstTheBaseline:
// eu, modern against compat compares 4 domains of volume 195).
TEST_F(HtmlChromiumTest, TheDeltaIsTheFirstTableWithTheHandCountedNumbers) {
  auto db = SqliteDb::Open(store_.path);
  ASSERT_TRUE(db.ok());
  ReportOptions options = For(store_.current_id);
  options.baseline = "compat";
  auto report = BuildReport(**db, options);
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string path = store_.dir + "/delta.html";
  std::ofstream(path) << RenderHtml(*report);
  auto dom = RunCommand(Chromium(store_.dir + "/profile-delta") + "--dump-dom " +
                        ShellQuote("file://" + path) + " 2>/dev/null");
  ASSERT_TRUE(dom.ok()) << dom.status();
  ASSERT_EQ(dom->exit_code, 0) << dom->output;
  const std::string& text = dom->output;
  const size_t first_table = text.find("<table");
  ASSERT_NE(first_table, std::string::npos) << text.substr(0, 2000);
  EXPECT_EQ(text.compare(first_table, 18, "<table id=\"delta\">"), 0)
      << text.substr(first_table, 200);
  EXPECT_LT(text.find("against the baseline"), first_table);
  const size_t row = text.find("<tr><td><b>modern</b></td><td>eu</td>", first_table);
  ASSERT_NE(row, std::string::npos) << text.substr(first_table, 3000);
  const std::string cells = text.substr(row, text.find("</tr>", row) - row);
  EXPECT_TRUE(absl::StrContains(cells, "<td class=\"n\">4</td>")) << cells;
  EXPECT_TRUE(absl::StrContains(cells, "<td class=\"n fails\">2 <small>41.0%</small></td>"))
      << cells;
  EXPECT_TRUE(absl::StrContains(cells, "<td class=\"n degraded\">1 <small>51.3%</small></td>"))
      << cells;
  EXPECT_TRUE(absl::StrContains(cells, "<td class=\"n\">3 <small>92.3%</small></td>")) << cells;
  EXPECT_TRUE(absl::StrContains(cells, "<td class=\"n ok\">0 <small>0.0%</small></td>")) << cells;
  // The absolute table follows it.
  EXPECT_GT(text.find("<table id=\"summary\">"), first_table);
}

TEST_F(HtmlChromiumTest, ScreenshotWithoutConsoleErrors) {
  const std::string png = store_.dir + "/report.png";
  auto run = RunCommand(Chromium(store_.dir + "/profile-shot") +
                        "--enable-logging=stderr --v=0 --window-size=1280,1000 --screenshot=" +
                        ShellQuote(png) + " " + ShellQuote("file://" + html_path_) + " 2>&1");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->output;
  EXPECT_FALSE(absl::StrContains(run->output, "Uncaught")) << run->output;
  EXPECT_FALSE(absl::StrContains(run->output, "ERROR:CONSOLE")) << run->output;
  EXPECT_FALSE(absl::StrContains(run->output, ":CONSOLE(")) << run->output;
  std::ifstream file(png, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  ASSERT_GT(bytes.str().size(), 10'000u) << run->output;
  EXPECT_EQ(bytes.str().substr(1, 3), "PNG");
}

}  // namespace
}  // namespace tlsweep::coordinator::report
