// The progress line counts both phases of a scan: a region that has resolved everything and is
// half way through its probe units is about three quarters done, not at "0 targets done" with
// an ETA of hours (the lab showed "ETA 1h49m" one second before "done").
#include "cli/scan_progress.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace tlsweep::cli {
namespace {

v1::Scan ScanAt(uint64_t resolved, uint64_t units, uint64_t units_done, uint64_t shards_done) {
  v1::Scan scan;
  scan.set_targets(1000);
  v1::RegionProgress* p = scan.add_progress();
  p->set_region("eu");
  p->set_shards(4);
  p->set_shards_done(shards_done);
  p->set_targets_done(shards_done * 250);
  p->set_targets_resolved(resolved);
  p->set_endpoint_shards(units);
  p->set_endpoint_shards_done(units_done);
  return scan;
}

TEST(ScanProgressTest, FractionCountsResolvingAndProbing) {
  EXPECT_DOUBLE_EQ(ScanProgressView::Fraction(ScanAt(0, 0, 0, 0).progress(0), 1000), 0);
  // Half resolved, its 2 units done: the 4 units expected in all are half done.
  EXPECT_DOUBLE_EQ(ScanProgressView::Fraction(ScanAt(500, 2, 2, 0).progress(0), 1000), 0.5);
  EXPECT_DOUBLE_EQ(ScanProgressView::Fraction(ScanAt(1000, 4, 2, 0).progress(0), 1000), 0.75);
  EXPECT_DOUBLE_EQ(ScanProgressView::Fraction(ScanAt(1000, 4, 4, 4).progress(0), 1000), 1);
  // Nothing to probe at all (every domain failed DNS): resolved is all there is.
  EXPECT_DOUBLE_EQ(ScanProgressView::Fraction(ScanAt(1000, 0, 0, 3).progress(0), 1000), 0.99);
}

TEST(ScanProgressTest, EtaFollowsBothPhasesNotOnlyJoinedTargets) {
  ScanProgressView view;
  const auto start = ScanProgressView::Clock::now();
  view.Update(ScanAt(0, 0, 0, 0), start);
  // 10 s later: everything resolved, 2 of 4 probe units done, still 0 targets joined.
  view.Update(ScanAt(1000, 4, 2, 0), start + std::chrono::seconds(10));
  const std::string line = view.Render();
  // 75% in 10 s: about 3 s to go (the old reading, targets done, had no rate at all).
  EXPECT_TRUE(absl::StrContains(line, "ETA 3s")) << line;
  EXPECT_TRUE(absl::StrContains(line, "[###############-----]")) << line;
  view.Update(ScanAt(1000, 4, 4, 4), start + std::chrono::seconds(13));
  EXPECT_TRUE(absl::StrContains(view.Render(), "done")) << view.Render();
}

}  // namespace
}  // namespace tlsweep::cli
