// A blocking TCP client with deadlines, for looking at exactly what a server sends.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tlsweep::testing {

class RawClient {
 public:
  // `endpoint` is "127.x.y.z:port"; `source` (optional) is the local address to bind.
  static absl::StatusOr<RawClient> Connect(const std::string& endpoint,
                                           const std::string& source = "");
  RawClient(RawClient&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RawClient& operator=(RawClient&&) = delete;
  ~RawClient();

  absl::Status Send(const std::string& data);
  // One line including its CRLF.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout = absl::Seconds(5));
  // A whole (possibly multi-line) SMTP reply.
  absl::StatusOr<std::string> ReadReply(absl::Duration timeout = absl::Seconds(5));
  // Exactly `count` bytes.
  absl::StatusOr<std::string> ReadExactly(size_t count, absl::Duration timeout = absl::Seconds(5));
  // Everything until the peer closes; error if it does not close in time.
  absl::StatusOr<std::string> ReadUntilEof(absl::Duration timeout = absl::Seconds(5));
  // Whatever arrives within `duration` (the peer may stay open).
  std::string ReadFor(absl::Duration duration);
  bool peer_closed() const { return eof_; }

 private:
  explicit RawClient(int fd) : fd_(fd) {}
  // Reads once into buffer_; false on timeout, EOF or error.
  bool Fill(absl::Time deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace tlsweep::testing
