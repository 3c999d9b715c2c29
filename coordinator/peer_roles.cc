#include "coordinator/peer_roles.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpc/grpc_security_constants.h"

namespace tlsweep::coordinator {
namespace {

// A path segment: non-empty, no separators, no percent-encoding (names are compared as sent).
bool IsSegment(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (c == '/' || c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return true;
}

std::string Describe(const AgentGrant& grant) {
  return grant.agent_id == "*"
             ? absl::StrCat("any agent of region '", grant.region, "'")
             : absl::StrCat("agent '", grant.agent_id, "' of region '", grant.region, "'");
}

}  // namespace

PeerRoles ParsePeerRoles(const std::vector<std::string>& uris) {
  PeerRoles roles;
  for (const std::string& uri : uris) {
    absl::string_view rest = uri;
    if (absl::ConsumePrefix(&rest, kAgentUriPrefix)) {
      std::vector<absl::string_view> parts = absl::StrSplit(rest, absl::MaxSplits('/', 1));
      if (parts.size() == 2 && IsSegment(parts[0]) && parts[0] != "*" && IsSegment(parts[1])) {
        roles.agents.push_back({std::string(parts[0]), std::string(parts[1])});
        continue;
      }
    } else if (absl::ConsumePrefix(&rest, kApiUriPrefix)) {
      if (IsSegment(rest)) {
        roles.api_clients.emplace_back(rest);
        continue;
      }
    }
    roles.other_uris.push_back(uri);
  }
  return roles;
}

PeerRoles PeerRolesOf(const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) return {};
  std::vector<std::string> uris;
  for (const grpc::string_ref& uri : context.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    uris.emplace_back(uri.data(), uri.size());
  }
  return ParsePeerRoles(uris);
}

absl::Status AuthorizeAgent(const PeerRoles& roles, absl::string_view region,
                            absl::string_view agent_id) {
  std::vector<std::string> allowed;
  for (const AgentGrant& grant : roles.agents) {
    if (grant.region == region && (grant.agent_id == "*" || grant.agent_id == agent_id)) {
      return absl::OkStatus();
    }
    allowed.push_back(Describe(grant));
  }
  if (allowed.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("this client certificate is not an agent certificate: it needs a URI name ",
                     kAgentUriPrefix, "REGION/ID (deploy/dev-ca --agent REGION[/ID] issues one)",
                     roles.api_clients.empty() ? "" : "; it is a scan API certificate",
                     roles.other_uris.empty()
                         ? ""
                         : absl::StrCat("; it names ", absl::StrJoin(roles.other_uris, ", "),
                                        ", which grant nothing")));
  }
  return absl::PermissionDeniedError(absl::StrCat("agent '", agent_id, "' of region '", region,
                                                  "' refused: its certificate is for ",
                                                  absl::StrJoin(allowed, ", ")));
}

}  // namespace tlsweep::coordinator
