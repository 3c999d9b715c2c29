// Incremental SMTP reply parser (RFC 5321 4.2): multi-line replies ("250-...", "250 ..."),
// partial reads, and hard limits so that a hostile server cannot make it buffer without end.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::agent {

struct SmtpReplyLimits {
  size_t max_line_bytes = 4096;  // RFC 5321 allows 512; real servers exceed it a little.
  size_t max_lines = 128;        // EHLO replies have a few dozen lines at most.
  size_t max_reply_bytes = 64 * 1024;
};

struct ParsedReply {
  int code = 0;
  std::vector<std::string> lines;  // Text after "NNN-" / "NNN ", without CR LF.

  // The lines joined by "\n", cut to `max_bytes`.
  std::string Text(size_t max_bytes = 1024) const;
};

class SmtpReplyParser {
 public:
  explicit SmtpReplyParser(SmtpReplyLimits limits = {}) : limits_(limits) {}

  // Appends bytes read from the server. Feed at most a read buffer at a time and call Next()
  // after each Feed(): the buffer then never exceeds max_line_bytes plus one read.
  void Feed(absl::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

  // A complete reply, nullopt when more bytes are needed, or an error (kResourceExhausted for
  // a limit, kInvalidArgument for something that is not an SMTP reply).
  absl::StatusOr<std::optional<ParsedReply>> Next();

  // Bytes received but not yet consumed as replies (e.g. pipelined or unsolicited data).
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  SmtpReplyLimits limits_;
  std::string buffer_;
  size_t consumed_ = 0;  // Bytes of buffer_ already parsed into `pending_`.
  ParsedReply pending_;
  size_t pending_bytes_ = 0;
};

}  // namespace tlsweep::agent
