#include "tests/testing/loopback_block.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tlsweep::testing {

bool IsLoopbackAddress(const std::string& address) {
  in_addr parsed{};
  if (inet_pton(AF_INET, address.c_str(), &parsed) != 1) return false;
  return (ntohl(parsed.s_addr) >> 24) == 127;
}

bool LoopbackPortIsFree(const std::string& address, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (!IsLoopbackAddress(address) || inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    return false;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool free = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

absl::StatusOr<LoopbackBlock> LoopbackBlock::Claim(int second_octet, int hosts, uint16_t port,
                                                   int first_host) {
  if (second_octet < 1 || second_octet > 254 || hosts < 0 || first_host < 1 ||
      first_host + hosts > 255) {
    return absl::InvalidArgumentError("bad loopback block request");
  }
  static std::atomic<int> instance{0};
  const int start = static_cast<int>(getpid() % 250) + 7 * instance.fetch_add(1);
  for (int attempt = 0; attempt < 250; ++attempt) {
    const int block = (start + attempt) % 250 + 1;
    std::string prefix = absl::StrCat("127.", second_octet, ".", block, ".");
    const std::string lock_path = absl::StrCat("/tmp/tlsweep-loopback-", prefix, "lock");
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", lock_path));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      continue;
    }
    bool free = true;
    for (int host = first_host; free && host < first_host + hosts; ++host) {
      free = LoopbackPortIsFree(absl::StrCat(prefix, host), port);
    }
    if (!free) {
      close(fd);
      continue;
    }
    return LoopbackBlock(fd, std::move(prefix));
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("no free 127.", second_octet, ".x.0/24 block (all locked or busy)"));
}

LoopbackBlock::LoopbackBlock(LoopbackBlock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), prefix_(std::move(other.prefix_)) {}

LoopbackBlock& LoopbackBlock::operator=(LoopbackBlock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    prefix_ = std::move(other.prefix_);
  }
  return *this;
}

LoopbackBlock::~LoopbackBlock() {
  if (fd_ >= 0) close(fd_);
}

std::string LoopbackBlock::Address(int host) const { return absl::StrCat(prefix_, host); }

}  // namespace tlsweep::testing
