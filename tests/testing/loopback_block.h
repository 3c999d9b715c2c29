// A private 127.<octet>.B.0/24 block of loopback addresses for one running fixture (the C++ twin
// of loopback_block.py). Each kind of fixture has its own second octet (Postfix 25, Exim 26,
// OpenSMTPD 27, Haraka 28; unbound takes 127.53 and up), and a block is claimed with an flock on
// a file in /tmp, so two test programs run by `ctest -j` never bind the same address. The lock
// lives as long as the object (and the process): a crashed test frees its block.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

class LoopbackBlock {
 public:
  // Claims a block 127.second_octet.B.0/24 (B in 1..250) whose lock is free and on which
  // nothing listens on `port` of hosts first_host .. first_host + hosts - 1. The search starts
  // at a block derived from the pid, so parallel programs rarely try the same one first.
  static absl::StatusOr<LoopbackBlock> Claim(int second_octet, int hosts, uint16_t port = 25,
                                             int first_host = 2);

  LoopbackBlock(LoopbackBlock&& other) noexcept;
  LoopbackBlock& operator=(LoopbackBlock&& other) noexcept;
  LoopbackBlock(const LoopbackBlock&) = delete;
  LoopbackBlock& operator=(const LoopbackBlock&) = delete;
  ~LoopbackBlock();

  // "127.o.B.host"; host 1..254.
  std::string Address(int host) const;
  // "127.o.B."
  const std::string& prefix() const { return prefix_; }

 private:
  LoopbackBlock(int fd, std::string prefix) : fd_(fd), prefix_(std::move(prefix)) {}
  int fd_ = -1;
  std::string prefix_;
};

// True if address:port is a loopback IPv4 address on which nothing listens (TIME_WAIT leftovers
// of an earlier instance do not count: daemons bind with SO_REUSEADDR).
bool LoopbackPortIsFree(const std::string& address, uint16_t port);

// True if `address` is an IPv4 address in 127.0.0.0/8.
bool IsLoopbackAddress(const std::string& address);

}  // namespace tlsweep::testing
