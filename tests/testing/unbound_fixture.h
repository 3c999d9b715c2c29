// A private unbound instance for DNS tests: recursive resolver on a loopback address of its own,
// serving one test zone as if it were that zone's authoritative server (so CNAME chains are
// chased and NXDOMAIN/NODATA come out as from the real Internet).
//
// Besides the zone, every instance answers:
//   - anything under "servfail.test." with SERVFAIL (a forwarder it may not query),
//   - anything under "refused.test." with REFUSED,
//   - every other name outside the zone with REFUSED (it never queries the Internet).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

class UnboundFixture {
 public:
  static constexpr char kZone[] = "example.test.";

  // `records`: zone-file lines with absolute names, e.g.
  // "d1.example.test. 300 IN MX 10 mx1.example.test."; the SOA and NS records are added.
  // `extra_server_config`: more lines for unbound's "server:" clause.
  // Returns once the server answers queries.
  static absl::StatusOr<std::unique_ptr<UnboundFixture>> Start(
      const std::vector<std::string>& records,
      const std::vector<std::string>& extra_server_config = {});

  ~UnboundFixture();  // Stops unbound (SIGTERM, then SIGKILL) and removes its directory.
  UnboundFixture(const UnboundFixture&) = delete;
  UnboundFixture& operator=(const UnboundFixture&) = delete;

  std::string address() const;  // "127.x.y.z:port", the form ResolverOptions::servers takes.
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  std::string log() const;  // unbound's log file and its stderr, for failure messages.

 private:
  UnboundFixture() = default;
  absl::Status Launch(const std::vector<std::string>& records,
                      const std::vector<std::string>& extra_server_config);
  absl::Status WaitUntilAnswering();
  void Stop();

  std::string directory_;
  std::string ip_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tlsweep::testing
