// A Momentum config with a Domain scope is one candidate with a per-domain override, and a scan
// judges the overridden domain by its override (issue 12): real Postfix listeners, real unbound,
// a coordinator over gRPC and a real agent. The global settings offer ECDHE AEAD only, which the
// "tls12_cbc" listener (AES256-SHA only) refuses; the Domain scope for d2 offers AES256-SHA.
// So d2, on that listener, negotiates; d3, on the same listener without an override, fails.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "backends/candidate/ecelerity_config.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/verdict.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/run_command.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::testing {
namespace {

constexpr char kMomentum[] = R"(tls = required
tls_ciphers = "ECDHE+AESGCM"
tls_protocols = "+TLSv1.2:+TLSv1.3"
Domain "d2.example.test" {
  tls_ciphers = "AES256-SHA"
}
)";

TEST(DomainOverrideScanTest, AnOverriddenDomainIsJudgedByItsOverride) {
  PostfixFixture* lab = PostfixLab();
  ASSERT_NE(lab, nullptr);
  auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto unbound = UnboundFixture::Start({
      "d1.example.test. 300 IN MX 10 mx1.example.test.",
      "d2.example.test. 300 IN MX 10 mx3.example.test.",
      "d3.example.test. 300 IN MX 10 mx3.example.test.",
      absl::StrCat("mx1.example.test. 300 IN A ", lab->listener("modern").address),
      absl::StrCat("mx3.example.test. 300 IN A ", lab->listener("tls12_cbc").address),
  });
  ASSERT_TRUE(unbound.ok()) << unbound.status();

  absl::StatusOr<backends::CandidateSet> read =
      backends::ParseEcelerityConfig(kMomentum, "ecelerity.conf");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->candidates.size(), 1u) << "one candidate, not one per scope";
  tlsweep::v1::TlsClientSettings momentum = read->candidates.front();
  momentum.set_name("momentum");
  ASSERT_EQ(momentum.overrides_size(), 1);

  const std::string directory = MakeTempDirectory("tlsweep-domain-override");
  coordinator::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.store_path = directory + "/store.db";
  server_options.dev = true;
  auto server = coordinator::CoordinatorServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  v1::ScanHeader header;
  header.add_regions("eu");
  *header.mutable_profile()->add_candidates() = momentum;
  v1::Scan scan;
  ASSERT_TRUE(
      Submit(*channel, header, "d1.example.test\nd2.example.test\nd3.example.test", &scan, "")
          .ok());
  agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  runner.base.candidates.clear();
  runner.base.resolver.servers = {(*unbound)->address()};
  runner.registry = &*registry;
  auto client = agent::AgentClient::Create(TestAgentOptions((*server)->port(), "agent-1", true),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  const v1::Scan done = WaitForScanEnd(*channel, scan.scan_id(), 120'000);
  (*client)->Stop();
  run.join();
  ASSERT_EQ(done.state(), v1::SCAN_DONE);

  auto db = coordinator::SqliteDb::Open(server_options.store_path);
  ASSERT_TRUE(db.ok()) << db.status();
  coordinator::report::ReportOptions options;
  options.scan_id = scan.scan_id();
  auto report = coordinator::report::BuildReport(**db, options);
  ASSERT_TRUE(report.ok()) << report.status();
  // The variant the override needs is probe-only: the report has one candidate.
  ASSERT_EQ(report->candidates.size(), 1u);
  EXPECT_EQ(report->candidates[0].name, "momentum");
  std::map<std::string, std::string> verdicts;  // domain -> required verdict
  for (auto statement = (*db)->Prepare(
           "SELECT domain, required FROM report_domains WHERE scan_id=? AND candidate=?");
       statement.ok();) {
    statement->Bind(1, scan.scan_id()).Bind(2, "momentum");
    while (statement->Step().value_or(false)) {
      verdicts[statement->Text(0)] = std::string(coordinator::report::RequiredName(
          static_cast<coordinator::report::Required>(statement->Int(1))));
    }
    break;
  }
  EXPECT_EQ(verdicts["d1.example.test"], "ok");     // Global settings, modern listener.
  EXPECT_EQ(verdicts["d2.example.test"], "ok");     // Its override offers AES256-SHA.
  EXPECT_EQ(verdicts["d3.example.test"], "fails");  // Same listener, global settings.
  EXPECT_EQ(verdicts.size(), 3u);
  ASSERT_EQ(report->headlines.size(), 1u);
  EXPECT_EQ(report->headlines[0].fails.domains, 1);
}

}  // namespace
}  // namespace tlsweep::testing
