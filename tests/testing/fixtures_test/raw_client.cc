#include "tests/testing/fixtures_test/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::testing {
namespace {

absl::StatusOr<sockaddr_in> ParseEndpoint(const std::string& host, const std::string& port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  uint32_t number = 0;
  if (!port.empty() && (!absl::SimpleAtoi(port, &number) || number > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("bad port ", port));
  }
  address.sin_port = htons(static_cast<uint16_t>(number));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 ||
      (ntohl(address.sin_addr.s_addr) >> 24) != 127) {
    return absl::InvalidArgumentError(absl::StrCat("not a loopback address: ", host));
  }
  return address;
}

}  // namespace

absl::StatusOr<RawClient> RawClient::Connect(const std::string& endpoint,
                                             const std::string& source) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError(endpoint);
  absl::StatusOr<sockaddr_in> to =
      ParseEndpoint(endpoint.substr(0, colon), endpoint.substr(colon + 1));
  if (!to.ok()) return to.status();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket()");
  RawClient client(fd);
  if (!source.empty()) {
    absl::StatusOr<sockaddr_in> from = ParseEndpoint(source, "");
    if (!from.ok()) return from.status();
    if (bind(fd, reinterpret_cast<const sockaddr*>(&*from), sizeof(*from)) != 0) {
      return absl::InternalError(absl::StrCat("bind ", source, ": ", strerror(errno)));
    }
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&*to), sizeof(*to)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect ", endpoint, ": ", strerror(errno)));
  }
  return client;
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RawClient::Send(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

bool RawClient::Fill(absl::Time deadline) {
  if (eof_) return false;
  const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (left <= 0) return false;
  pollfd entry{fd_, POLLIN, 0};
  if (poll(&entry, 1, static_cast<int>(left)) <= 0) return false;
  char chunk[65536];
  const ssize_t n = read(fd_, chunk, sizeof(chunk));
  if (n <= 0) {
    eof_ = true;  // EOF or reset: either way nothing more will come.
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

absl::StatusOr<std::string> RawClient::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const size_t end = buffer_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end + 1);
      buffer_.erase(0, end + 1);
      return line;
    }
    if (!Fill(deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          eof_ ? "closed" : "timeout", " before a full line; have ", buffer_.size(), " bytes"));
    }
  }
}

absl::StatusOr<std::string> RawClient::ReadReply(absl::Duration timeout) {
  std::string reply;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(timeout);
    if (!line.ok()) return line.status();
    reply += *line;
    if (line->size() < 4 || (*line)[3] != '-') return reply;
  }
}

absl::StatusOr<std::string> RawClient::ReadExactly(size_t count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (buffer_.size() < count) {
    if (!Fill(deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("have ", buffer_.size(), " of ", count, " bytes", eof_ ? " (EOF)" : ""));
    }
  }
  std::string result = buffer_.substr(0, count);
  buffer_.erase(0, count);
  return result;
}

absl::StatusOr<std::string> RawClient::ReadUntilEof(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Fill(deadline)) {
  }
  if (!eof_) return absl::DeadlineExceededError("peer did not close");
  return std::exchange(buffer_, "");
}

std::string RawClient::ReadFor(absl::Duration duration) {
  const absl::Time deadline = absl::Now() + duration;
  while (Fill(deadline)) {
  }
  return std::exchange(buffer_, "");
}

}  // namespace tlsweep::testing
