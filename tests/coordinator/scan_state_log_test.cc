#include "coordinator/scan_state_log.h"

#include <gtest/gtest.h>

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::SCAN_CANCELLED;
using ::tlsweep::v1::SCAN_DONE;
using ::tlsweep::v1::SCAN_RUNNING;
using ::tlsweep::v1::SCAN_STATE_UNSPECIFIED;
using ::tlsweep::v1::SCAN_SUBMITTING;

TEST(ScanStateLogTest, OneChangePerScanThatMoved) {
  ScanStateLog log;
  auto first = log.Observe({{"a", SCAN_SUBMITTING}, {"b", SCAN_RUNNING}});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].from, SCAN_STATE_UNSPECIFIED);
  EXPECT_EQ(ScanStateLogName(first[0].from), "new");
  EXPECT_TRUE(log.Observe({{"a", SCAN_SUBMITTING}, {"b", SCAN_RUNNING}}).empty());
  auto second = log.Observe({{"a", SCAN_RUNNING}, {"b", SCAN_CANCELLED}});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].scan_id, "a");
  EXPECT_EQ(ScanStateLogName(second[0].from), "submitting");
  EXPECT_EQ(ScanStateLogName(second[0].to), "running");
  EXPECT_EQ(ScanStateLogName(second[1].to), "cancelled");
  // A scan that leaves the snapshot is forgotten; seen again, it is new again.
  EXPECT_TRUE(log.Observe({{"a", SCAN_RUNNING}}).empty());
  auto again = log.Observe({{"a", SCAN_DONE}, {"b", SCAN_CANCELLED}});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].from, SCAN_STATE_UNSPECIFIED);
}

}  // namespace
}  // namespace tlsweep::coordinator
