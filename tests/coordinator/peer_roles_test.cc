#include "coordinator/peer_roles.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tlsweep::coordinator {
namespace {

TEST(PeerRolesTest, ReadsAgentAndApiNames) {
  PeerRoles roles = ParsePeerRoles({"spiffe://tlsweep/agent/eu/agent-1",
                                    "spiffe://tlsweep/agent/us/*", "spiffe://tlsweep/api/ops"});
  ASSERT_EQ(roles.agents.size(), 2u);
  EXPECT_EQ(roles.agents[0].region, "eu");
  EXPECT_EQ(roles.agents[0].agent_id, "agent-1");
  EXPECT_EQ(roles.agents[1].agent_id, "*");
  EXPECT_EQ(roles.api_clients, std::vector<std::string>{"ops"});
  EXPECT_TRUE(roles.other_uris.empty());
}

TEST(PeerRolesTest, MalformedOrForeignNamesGrantNothing) {
  PeerRoles roles = ParsePeerRoles(
      {"spiffe://tlsweep/agent/eu", "spiffe://tlsweep/agent//a", "spiffe://tlsweep/agent/eu/",
       "spiffe://tlsweep/agent/eu/a/b", "spiffe://tlsweep/agent/*/*", "spiffe://tlsweep/api/",
       "spiffe://tlsweep/api/a/b", "spiffe://tlsweep/agent/e%75/a", "spiffe://other/agent/eu/a",
       "SPIFFE://tlsweep/agent/eu/a", "https://tlsweep/agent/eu/a", ""});
  EXPECT_TRUE(roles.agents.empty());
  EXPECT_TRUE(roles.api_clients.empty());
  EXPECT_EQ(roles.other_uris.size(), 12u);
}

TEST(PeerRolesTest, AnAgentSpeaksOnlyForItsRegionAndId) {
  PeerRoles roles =
      ParsePeerRoles({"spiffe://tlsweep/agent/eu/agent-1", "spiffe://tlsweep/agent/us/*"});
  EXPECT_TRUE(AuthorizeAgent(roles, "eu", "agent-1").ok());
  EXPECT_TRUE(AuthorizeAgent(roles, "us", "anything").ok());
  absl::Status other_id = AuthorizeAgent(roles, "eu", "agent-2");
  EXPECT_EQ(other_id.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(other_id.message(), "agent 'agent-1' of region 'eu'")) << other_id;
  EXPECT_TRUE(absl::StrContains(other_id.message(), "any agent of region 'us'")) << other_id;
  EXPECT_FALSE(AuthorizeAgent(roles, "ap", "agent-1").ok());
  EXPECT_FALSE(AuthorizeAgent(roles, "EU", "agent-1").ok()) << "regions compare exactly";
}

TEST(PeerRolesTest, AnApiCertificateIsNoAgent) {
  absl::Status status = AuthorizeAgent(ParsePeerRoles({"spiffe://tlsweep/api/ops"}), "eu", "a");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(status.message(), "scan API certificate")) << status;
}

TEST(PeerRolesTest, ARefusalNamesWhatTheCertificateSays) {
  absl::Status status =
      AuthorizeAgent(ParsePeerRoles({"spiffe://tlsweep/agent/eu"}), "eu", "agent-1");
  EXPECT_TRUE(absl::StrContains(status.message(), "it names spiffe://tlsweep/agent/eu, which"))
      << status;
}

}  // namespace
}  // namespace tlsweep::coordinator
