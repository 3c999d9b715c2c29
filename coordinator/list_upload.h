// A target list streamed in by CreateScan or AddSchedule: the chunks as an istream, and the
// reading into a SubmissionWriter (validation with line numbers, normalisation, and
// de-duplication in the store), shared by both RPCs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "coordinator/store/store.h"

namespace tlsweep::coordinator {

// The list's bytes, pulled chunk by chunk from a client stream whose messages have a
// `chunk` (after the header, which the caller has read).
template <typename Request>
class ChunkStreamBuf : public std::streambuf {
 public:
  explicit ChunkStreamBuf(grpc::ServerReader<Request>* reader) : reader_(reader) {}

  // A message other than a chunk arrived (a second header).
  bool protocol_error() const { return protocol_error_; }
  // When the last message arrived (steady clock, ms); 0 before the first.
  int64_t last_chunk_ms() const { return last_chunk_ms_; }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 protected:
  int_type underflow() override {
    while (gptr() == egptr()) {
      Request request;
      if (!reader_->Read(&request)) return traits_type::eof();
      last_chunk_ms_ = NowMs();
      if (!request.has_chunk()) {
        protocol_error_ = true;
        return traits_type::eof();
      }
      buffer_ = std::move(*request.mutable_chunk()->mutable_data());
      setg(buffer_.data(), buffer_.data(), buffer_.data() + buffer_.size());
    }
    return traits_type::to_int_type(*gptr());
  }

 private:
  grpc::ServerReader<Request>* reader_;
  std::string buffer_;
  bool protocol_error_ = false;
  std::atomic<int64_t> last_chunk_ms_{NowMs()};
};

// Cancels the call when no message arrived for `idle_ms`: a client that sends a header and
// goes silent would otherwise hold one of --max-active-scans until its connection dies.
class UploadWatchdog {
 public:
  template <typename Request>
  UploadWatchdog(grpc::ServerContext* context, const ChunkStreamBuf<Request>& buffer,
                 int64_t idle_ms)
      : thread_([this, context, &buffer, idle_ms] {
          std::unique_lock<std::mutex> lock(mutex_);
          while (!done_) {
            cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(idle_ms / 4, 10)));
            if (!done_ && ChunkStreamBuf<Request>::NowMs() - buffer.last_chunk_ms() > idle_ms) {
              fired_ = true;
              context->TryCancel();
              return;
            }
          }
        }) {}
  ~UploadWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // Last: started once the members it uses exist.
};

// Reads every line of `in` into `writer` and fills `stats`; bad lines are recorded there (with
// their numbers) and skipped. Returns store errors, and RESOURCE_EXHAUSTED once the list has
// more than `max_lines` lines.
absl::Status ReadTargetList(std::istream& in, uint16_t default_port, uint64_t max_lines,
                            SubmissionWriter& writer, SubmissionStats& stats);

// The error for a list rejected because of its bad lines (reject_bad_lines): names the first.
absl::Status RejectionOf(const SubmissionStats& stats);

// Reads the list that follows a CreateScan or AddSchedule header into `writer` (ReadTargetList)
// and applies what every submission checks: a second header, a client that went away, and
// `reject_bad_lines`.
template <typename Request>
absl::Status ReadSubmission(grpc::ServerReader<Request>* reader, grpc::ServerContext* context,
                            uint16_t default_port, uint64_t max_lines, bool reject_bad_lines,
                            int64_t idle_ms, SubmissionWriter& writer, SubmissionStats& stats) {
  ChunkStreamBuf<Request> buffer(reader);
  std::istream in(&buffer);
  absl::Status failure;
  bool idle = false;
  {
    UploadWatchdog watchdog(context, buffer, idle_ms);
    failure = ReadTargetList(in, default_port, max_lines, writer, stats);
    idle = watchdog.fired();
  }
  if (idle) {
    failure = absl::DeadlineExceededError(
        absl::StrCat("the upload sent nothing for ", idle_ms, " ms; the submission is dropped"));
  } else if (failure.ok() && buffer.protocol_error()) {
    failure = absl::InvalidArgumentError("a header after the first message");
  } else if (failure.ok() && context->IsCancelled()) {
    failure = absl::CancelledError("the client cancelled the submission");
  }
  if (failure.ok() && reject_bad_lines && stats.bad_line_count > 0) failure = RejectionOf(stats);
  if (failure.ok() && stats.targets == 0) {
    failure =
        absl::InvalidArgumentError(absl::StrCat("the list has no valid target (", stats.lines,
                                                " lines read, ", stats.bad_line_count, " bad)"));
  }
  return failure;
}

}  // namespace tlsweep::coordinator
