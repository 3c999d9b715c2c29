// The messages an agent stream has yet to write, in order, one write in flight. It counts their
// bytes so that an agent that stops reading cannot grow the coordinator's memory: once the
// queue holds `max_bytes`, the stream stops reading the agent's messages (reading is what makes
// replies) until the queue has drained to half of it. Not thread-safe: the stream's mutex
// guards it.
#pragma once

#include <cstddef>
#include <deque>

#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::coordinator {

class ReplyQueue {
 public:
  explicit ReplyQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Queues `message`; true when the caller must start writing it (no write was in flight).
  bool Push(tlsweep::v1::CoordinatorMessage message);
  // The message being written (its address stays valid until PopWritten).
  const tlsweep::v1::CoordinatorMessage& front() const { return entries_.front().message; }
  // The front message is written; true when the caller must start writing the next one.
  bool PopWritten();
  // Drops everything (the stream broke).
  void Clear();

  bool writing() const { return writing_; }
  size_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  // Stop reading the agent's messages.
  bool full() const { return bytes_ >= max_bytes_; }
  // Reading may start again.
  bool drained() const { return bytes_ <= max_bytes_ / 2; }

 private:
  struct Entry {
    tlsweep::v1::CoordinatorMessage message;
    size_t bytes = 0;
  };
  const size_t max_bytes_;
  std::deque<Entry> entries_;
  size_t bytes_ = 0;
  bool writing_ = false;
};

}  // namespace tlsweep::coordinator
