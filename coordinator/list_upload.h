// A target list streamed in by CreateScan or AddSchedule: the chunks as an istream, and the
// reading into a SubmissionWriter (validation with line numbers, normalisation, and
// de-duplication in the store), shared by both RPCs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <istream>
#include <string>

#include "absl/status/status.h"
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

 protected:
  int_type underflow() override {
    while (gptr() == egptr()) {
      Request request;
      if (!reader_->Read(&request)) return traits_type::eof();
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
                            SubmissionWriter& writer, SubmissionStats& stats) {
  ChunkStreamBuf<Request> buffer(reader);
  std::istream in(&buffer);
  absl::Status failure = ReadTargetList(in, default_port, max_lines, writer, stats);
  if (failure.ok() && buffer.protocol_error()) {
    failure = absl::InvalidArgumentError("a header after the first message");
  } else if (failure.ok() && context->IsCancelled()) {
    failure = absl::CancelledError("the client cancelled the submission");
  }
  if (failure.ok() && reject_bad_lines && stats.bad_line_count > 0) failure = RejectionOf(stats);
  return failure;
}

}  // namespace tlsweep::coordinator
