// Advice (coordinator/report/advice.h) on a real scan: real Postfix listeners, real unbound, a
// coordinator over gRPC and a real agent that enumerates. "proposed" (ECDHE AEAD at TLS 1.2+)
// newly fails d3, whose only MX is the "tls12_cbc" listener (AES256-SHA at TLS 1.2 only) and
// d4, whose MX is "tls12_cbc" too, with twice the volume. The advice must name AES256-SHA as
// the one addition that rescues both, and the advised config, probed live against that
// listener, must complete its handshake: advice is only worth pasting if it works.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/report_service.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/probe_runner.h"
#include "tests/testing/run_command.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::testing {
namespace {

constexpr const char* kCurrent = "name=current";
constexpr const char* kProposed = "name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2";

TEST(AdviceScanTest, AdviceRescuesTheNewlyFailingDomainsAndWorksLive) {
  PostfixFixture* lab = PostfixLab();
  ASSERT_NE(lab, nullptr);
  auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto unbound = UnboundFixture::Start({
      "d1.example.test. 300 IN MX 10 mx1.example.test.",
      "d2.example.test. 300 IN MX 10 mx2.example.test.",
      "d3.example.test. 300 IN MX 10 mx3.example.test.",
      "d4.example.test. 300 IN MX 10 mx3.example.test.",
      absl::StrCat("mx1.example.test. 300 IN A ", lab->listener("modern").address),
      absl::StrCat("mx2.example.test. 300 IN A ", lab->listener("defaults").address),
      absl::StrCat("mx3.example.test. 300 IN A ", lab->listener("tls12_cbc").address),
  });
  ASSERT_TRUE(unbound.ok()) << unbound.status();

  const std::string directory = MakeTempDirectory("tlsweep-advice");
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
  header.mutable_profile()->set_enumerate(true);
  for (const char* spec : {kCurrent, kProposed}) {
    *header.mutable_profile()->add_candidates() = backends::ParseCandidateSpec(spec).value();
  }
  v1::Scan scan;
  ASSERT_TRUE(Submit(*channel, header,
                     "d1.example.test,1\nd2.example.test,1\nd3.example.test,1\n"
                     "d4.example.test,2",
                     &scan, "")
                  .ok());
  agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  runner.base.candidates.clear();  // From the profile, as in production.
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
  coordinator::report::CandidateOffers offers(*registry);
  coordinator::report::ReportOptions options;
  options.scan_id = scan.scan_id();
  options.offers = &offers;
  auto report = coordinator::report::BuildReport(**db, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->delta.has_value());
  EXPECT_EQ(report->delta->baseline, "current");

  ASSERT_FALSE(report->advice.empty()) << "proposed newly fails d3 and d4";
  const coordinator::report::AdviceStep& first = report->advice.front();
  EXPECT_EQ(first.candidate, "proposed");
  EXPECT_EQ(first.step, 1);
  EXPECT_EQ(first.addition, "add AES256-SHA");
  EXPECT_EQ(first.newly_failing.domains, 2);
  EXPECT_EQ(first.rescued.domains, 2);
  EXPECT_DOUBLE_EQ(first.rescued.weight, 3);
  EXPECT_EQ(report->advice.size(), 1u) << "one step rescues everything";
  EXPECT_TRUE(absl::StrContains(absl::StrJoin(first.paste, "\n"), "AES256-SHA"))
      << absl::StrJoin(first.paste, "\n");

  // The advised config, probed live: it completes a handshake with the listener that the
  // proposed config could not reach, and still with the modern one.
  auto advised_settings = backends::ParseCandidateSpec(first.spec);
  ASSERT_TRUE(advised_settings.ok()) << first.spec << ": " << advised_settings.status();
  auto advised = backends::BuildCandidate(*advised_settings, *registry, "");
  ASSERT_TRUE(advised.ok()) << advised.status();
  agent::ProbeOptions probe;
  probe.ehlo_name = "scanner.example.test";
  for (const char* listener : {"tls12_cbc", "modern"}) {
    const v1::ProbeResult live = RunProbe(EndpointAt(lab->endpoint(listener)), *advised, probe);
    EXPECT_EQ(live.failure(), v1::PROBE_OK) << listener << ": " << live.failure_detail();
    EXPECT_TRUE(live.tls().success()) << listener << ": " << live.failure_detail();
  }
  auto proposed =
      backends::BuildCandidate(backends::ParseCandidateSpec(kProposed).value(), *registry, "");
  ASSERT_TRUE(proposed.ok());
  EXPECT_FALSE(RunProbe(EndpointAt(lab->endpoint("tls12_cbc")), *proposed, probe).tls().success())
      << "the control: without the advice the handshake fails";

  // The rendered reports carry it.
  const std::string text = coordinator::report::RenderText(*report);
  EXPECT_TRUE(absl::StrContains(text, "add AES256-SHA")) << text;
  const std::string json = coordinator::report::RenderJson(*report);
  EXPECT_TRUE(absl::StrContains(json, "\"advice\"")) << json;

  // The coordinator's web pages give the same advice (they load the plugins too).
  coordinator::report::ReportServiceOptions served;
  served.listen = "127.0.0.1:0";
  served.store_path = server_options.store_path;
  served.dev = true;
  served.registry = &*registry;
  auto service = coordinator::report::ReportService::Start(served);
  ASSERT_TRUE(service.ok()) << service.status();
  httplib::Client http("127.0.0.1", (*service)->port());
  const httplib::Result page = http.Get(absl::StrCat("/scans/", scan.scan_id()));
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_TRUE(absl::StrContains(page->body, "add AES256-SHA")) << page->body.substr(0, 3000);
}

}  // namespace
}  // namespace tlsweep::testing
