// SmtpReplyParser on hostile server bytes: the input is split into random-sized reads (as a
// socket would deliver them), under the default limits or small random ones so that every
// limit is reached. Checks what the parser promises: replies within the limits, a buffer that
// never holds more than a line, no bytes lost between replies.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/smtp/reply_parser.h"
#include "tests/fuzz/fuzz_check.h"

using tlsweep::agent::ParsedReply;
using tlsweep::agent::SmtpReplyLimits;
using tlsweep::agent::SmtpReplyParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  SmtpReplyLimits limits;
  if (input.ConsumeBool()) {
    limits.max_line_bytes = input.ConsumeIntegralInRange<size_t>(0, 600);
    limits.max_lines = input.ConsumeIntegralInRange<size_t>(0, 20);
    limits.max_reply_bytes = input.ConsumeIntegralInRange<size_t>(0, 4000);
  }
  const size_t max_chunk = input.ConsumeIntegralInRange<size_t>(1, 8192);
  SmtpReplyParser parser(limits);
  while (input.remaining_bytes() > 0) {
    const std::string chunk =
        input.ConsumeBytesAsString(input.ConsumeIntegralInRange<size_t>(1, max_chunk));
    parser.Feed(chunk);
    // As SmtpSession does: drain every complete reply after each read, stop at the first error.
    while (true) {
      absl::StatusOr<std::optional<ParsedReply>> next = parser.Next();
      if (!next.ok()) {
        FUZZ_CHECK(absl::IsResourceExhausted(next.status()) ||
                   absl::IsInvalidArgument(next.status()));
        return 0;
      }
      if (!next->has_value()) {
        // Only a partial line stays behind, and it is within the line limit.
        FUZZ_CHECK(parser.buffered() <= limits.max_line_bytes);
        break;
      }
      const ParsedReply& reply = **next;
      FUZZ_CHECK(reply.code >= 0 && reply.code <= 999);
      FUZZ_CHECK(!reply.lines.empty());
      FUZZ_CHECK(reply.lines.size() <= limits.max_lines);
      size_t bytes = 0;
      for (const std::string& line : reply.lines) {
        FUZZ_CHECK(line.find('\n') == std::string::npos);
        FUZZ_CHECK(line.size() <= limits.max_line_bytes);
        bytes += line.size();
      }
      FUZZ_CHECK(bytes <= limits.max_reply_bytes);
      const size_t cap = input.remaining_bytes() % 2048;
      FUZZ_CHECK(reply.Text(cap).size() <= cap);
    }
  }
  return 0;
}
