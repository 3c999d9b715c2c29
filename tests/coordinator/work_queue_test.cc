// The coordinator's worker queue at shutdown: a stream's last work item posts more work (its
// reactor's Unref), so Stop must run that too, and a Post after Stop must still run. Before,
// the coordinator destroyed the queue while such work ran, and the post dereferenced a null
// queue (a rare SEGFAULT at the end of CoordinatorTest.ABatchAboveTheCapIsRefused).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "coordinator/coordinator.h"

namespace tlsweep::coordinator {
namespace {

TEST(WorkQueueTest, StopRunsWorkThatQueuedWorkPostsAndLaterPostsRunInline) {
  WorkQueue queue(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 4; ++i) {
    queue.Post([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      queue.Post([&] { ran.fetch_add(1); });
      ran.fetch_add(1);
    });
  }
  queue.Stop();
  EXPECT_EQ(ran.load(), 8);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  queue.Post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, caller) << "after Stop, work runs at once on the caller's thread";
  queue.Stop();  // Twice is harmless (the destructor calls it again).
}

}  // namespace
}  // namespace tlsweep::coordinator
