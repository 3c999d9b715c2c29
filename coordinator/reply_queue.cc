#include "coordinator/reply_queue.h"

#include <utility>

namespace tlsweep::coordinator {

bool ReplyQueue::Push(tlsweep::v1::CoordinatorMessage message) {
  const size_t bytes = message.ByteSizeLong();
  entries_.push_back({std::move(message), bytes});
  bytes_ += bytes;
  if (writing_) return false;
  writing_ = true;
  return true;
}

bool ReplyQueue::PopWritten() {
  if (!entries_.empty()) {
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
  writing_ = !entries_.empty();
  return writing_;
}

void ReplyQueue::Clear() {
  entries_.clear();
  bytes_ = 0;
  writing_ = false;
}

}  // namespace tlsweep::coordinator
