// What an enumeration found wrong with the server itself, as the report lists it per endpoint:
// a server that answers ServerHello and then fails every handshake (broken: whatever the
// client offers), suites that fail after the ServerHello, and an enumeration the server cut
// short with temporary refusals (rate-limited: its lists are a lower bound).
#pragma once

#include <string>
#include <vector>

#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator::report {

struct EnumerationFinding {
  std::string kind;    // broken_server | hello_only_suites | sslv2 | enumeration_incomplete
  std::string detail;  // One sentence for people.
};

// Empty for anything but an enumeration result, and for a clean one.
std::vector<EnumerationFinding> FindingsOf(const tlsweep::v1::ProbeResult& result);

}  // namespace tlsweep::coordinator::report
