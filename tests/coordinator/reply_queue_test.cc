// The agent stream's reply queue: one write at a time, in order, and the byte count that
// pauses reading an agent that does not read its replies.
#include "coordinator/reply_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::CoordinatorMessage;

CoordinatorMessage Assignment(uint64_t lease_id, size_t targets) {
  CoordinatorMessage message;
  message.mutable_assignment()->set_lease_id(lease_id);
  for (size_t i = 0; i < targets; ++i) {
    message.mutable_assignment()->add_targets()->set_input(std::string(90, 'x'));
  }
  return message;
}

TEST(ReplyQueueTest, WritesOneAtATimeInOrder) {
  ReplyQueue queue(1 << 20);
  EXPECT_TRUE(queue.Push(Assignment(1, 1))) << "nothing in flight: start writing";
  EXPECT_FALSE(queue.Push(Assignment(2, 1))) << "a write is in flight";
  EXPECT_FALSE(queue.Push(Assignment(3, 1)));
  EXPECT_EQ(queue.front().assignment().lease_id(), 1u);
  const CoordinatorMessage* written = &queue.front();
  EXPECT_TRUE(queue.PopWritten());
  EXPECT_EQ(queue.front().assignment().lease_id(), 2u);
  EXPECT_NE(&queue.front(), written);
  EXPECT_TRUE(queue.PopWritten());
  EXPECT_FALSE(queue.PopWritten()) << "empty: no write to start";
  EXPECT_FALSE(queue.writing());
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_TRUE(queue.Push(Assignment(4, 1))) << "idle again";
}

TEST(ReplyQueueTest, FullAtTheCapDrainedAtHalf) {
  const size_t one = Assignment(1, 100).ByteSizeLong();
  ReplyQueue queue(4 * one);
  for (uint64_t i = 1; i <= 3; ++i) queue.Push(Assignment(i, 100));
  EXPECT_FALSE(queue.full());
  queue.Push(Assignment(4, 100));
  EXPECT_TRUE(queue.full()) << queue.bytes() << " bytes queued";
  EXPECT_FALSE(queue.drained());
  queue.PopWritten();
  EXPECT_FALSE(queue.full());
  EXPECT_FALSE(queue.drained()) << "three of four: not yet half";
  queue.PopWritten();
  EXPECT_TRUE(queue.drained());
  EXPECT_EQ(queue.bytes(), 2 * one);
  queue.Clear();
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_FALSE(queue.writing());
}

}  // namespace
}  // namespace tlsweep::coordinator
