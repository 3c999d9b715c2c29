// What a verified client certificate lets its holder do. The coordinator's client CA signs two
// kinds of certificates, told apart by a URI subject alternative name in SPIFFE form:
//
//   spiffe://tlsweep/agent/REGION/ID   an agent of REGION that says it is ID ("*": any ID, for
//                                      replicas that share one certificate)
//   spiffe://tlsweep/api/NAME          an operator or a tool using the scan and schedule API
//
// The region is what the certificate binds: an agent's results are trusted as seen from its
// region, so a stolen EU certificate must not be able to speak for the US. A certificate with
// neither name is refused by both services, and an agent certificate is not a scan-API
// credential (it could otherwise cancel any scan).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"

namespace tlsweep::coordinator {

inline constexpr absl::string_view kAgentUriPrefix = "spiffe://tlsweep/agent/";
inline constexpr absl::string_view kApiUriPrefix = "spiffe://tlsweep/api/";

struct AgentGrant {
  std::string region;
  std::string agent_id;  // "*": any agent id in the region.
};

struct PeerRoles {
  std::vector<AgentGrant> agents;
  std::vector<std::string> api_clients;
  std::vector<std::string> other_uris;  // URI names that grant nothing, for error messages.
};

// Reads the roles out of a certificate's URI names; malformed tlsweep URIs grant nothing.
PeerRoles ParsePeerRoles(const std::vector<std::string>& uris);

// The roles of a verified peer (none when the peer is not authenticated).
PeerRoles PeerRolesOf(const grpc::AuthContext& context);

// OK when some grant covers (region, agent_id); PERMISSION_DENIED saying what the certificate
// does allow otherwise.
absl::Status AuthorizeAgent(const PeerRoles& roles, absl::string_view region,
                            absl::string_view agent_id);

}  // namespace tlsweep::coordinator
