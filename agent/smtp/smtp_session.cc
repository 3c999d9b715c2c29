#include "agent/smtp/smtp_session.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::agent {
namespace {

constexpr size_t kReadChunk = 4096;

}  // namespace

asio::awaitable<absl::StatusOr<ParsedReply>> SmtpSession::ReadReply(Clock::time_point deadline) {
  std::string chunk;
  while (true) {
    absl::StatusOr<std::optional<ParsedReply>> parsed = parser_.Next();
    if (!parsed.ok()) co_return parsed.status();
    if (parsed->has_value()) co_return std::move(**parsed);
    chunk.clear();
    const IoResult io = co_await socket_.ReadSome(chunk, kReadChunk, deadline);
    if (io.timed_out) co_return absl::DeadlineExceededError("no complete reply in time");
    if (io.eof()) co_return absl::UnavailableError("connection closed by the server");
    if (io.error) co_return absl::UnavailableError(io.error.message());
    parser_.Feed(chunk);
  }
}

asio::awaitable<absl::Status> SmtpSession::Send(absl::string_view command,
                                                Clock::time_point deadline) {
  const std::string line = absl::StrCat(command, "\r\n");
  const IoResult io = co_await socket_.WriteAll(line, deadline);
  if (io.timed_out) co_return absl::DeadlineExceededError("could not send in time");
  if (io.error) co_return absl::UnavailableError(io.error.message());
  co_return absl::OkStatus();
}

std::vector<std::string> EhloKeywords(const ParsedReply& reply) {
  std::vector<std::string> keywords;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    absl::string_view line = reply.lines[i];
    const size_t space = line.find(' ');
    keywords.push_back(absl::AsciiStrToUpper(line.substr(0, space)));
  }
  return keywords;
}

}  // namespace tlsweep::agent
