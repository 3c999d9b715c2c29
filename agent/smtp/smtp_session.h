// The client side of an SMTP conversation over a TimedSocket: send a command, read a reply,
// each against a deadline and the reply parser's limits.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent/smtp/reply_parser.h"
#include "agent/smtp/timed_socket.h"

namespace tlsweep::agent {

class SmtpSession {
 public:
  SmtpSession(TimedSocket& socket, SmtpReplyLimits limits) : socket_(socket), parser_(limits) {}

  // A whole reply. Errors: kDeadlineExceeded (no complete reply in time), kUnavailable (the
  // connection closed or failed), kResourceExhausted / kInvalidArgument (not a sane reply).
  asio::awaitable<absl::StatusOr<ParsedReply>> ReadReply(Clock::time_point deadline);

  // Sends `command` followed by CR LF. kDeadlineExceeded or kUnavailable on failure.
  asio::awaitable<absl::Status> Send(absl::string_view command, Clock::time_point deadline);

  // Bytes the server sent beyond the last reply. After "220" to STARTTLS this must be zero:
  // anything else was sent in clear text before TLS and must not be trusted (CVE-2011-0411).
  size_t unread_bytes() const { return parser_.buffered(); }

 private:
  TimedSocket& socket_;
  SmtpReplyParser parser_;
};

// The EHLO keywords, upper-cased ("STARTTLS", "PIPELINING", "SIZE"...), from a 250 reply
// (the first line is the greeting, not a keyword).
std::vector<std::string> EhloKeywords(const ParsedReply& reply);

}  // namespace tlsweep::agent
