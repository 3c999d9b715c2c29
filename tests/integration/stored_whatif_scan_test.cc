// The stored what-if (coordinator/report/stored_whatif.h) on a real scan: real Postfix
// listeners, real unbound, a coordinator over gRPC and a real agent that enumerates. A
// candidate the scan also probed live must be predicted exactly as the live probes found it
// (every live check agrees, and the failing domains are those the live probes failed); a
// candidate the scan never probed is predicted from the listeners' known policies. The same
// section is in the report the coordinator serves over HTTP.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/probe_kind.h"
#include "coordinator/report/report_service.h"
#include "coordinator/report/stored_whatif.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/run_command.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::testing {
namespace {

// Probed live and predicted: OpenSSL's defaults, and AES256-SHA alone (which the "modern"
// listener refuses). Predicted only: ECDHE AEAD at TLS 1.2+ (which "tls12_cbc" refuses).
constexpr const char* kCurrent = "name=current";
constexpr const char* kRsaCbc = "name=rsa-cbc ciphers=AES256-SHA max=TLSv1.2";
constexpr const char* kProposed = "name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2";

backends::TlsCandidate Candidate(const char* spec, const backends::BackendRegistry& registry) {
  return backends::BuildCandidate(backends::ParseCandidateSpec(spec).value(), registry, "").value();
}

const coordinator::report::WhatIfRow* Row(const coordinator::report::WhatIfSection& section,
                                          const std::string& candidate) {
  for (const coordinator::report::WhatIfRow& row : section.rows) {
    if (row.candidate == candidate) return &row;
  }
  return nullptr;
}

TEST(StoredWhatIfScanTest, PredictionsFromAStoredScanAgreeWithItsLiveProbesAndAreServed) {
  PostfixFixture* lab = PostfixLab();
  ASSERT_NE(lab, nullptr);
  auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  const std::string modern = lab->listener("modern").address;
  const std::string defaults = lab->listener("defaults").address;
  const std::string cbc = lab->listener("tls12_cbc").address;
  // d4 has an MX on "modern" and one on "tls12_cbc": it fails only a candidate both refuse.
  auto unbound = UnboundFixture::Start({
      "d1.example.test. 300 IN MX 10 mx1.example.test.",
      "d2.example.test. 300 IN MX 10 mx2.example.test.",
      "d3.example.test. 300 IN MX 10 mx3.example.test.",
      "d4.example.test. 300 IN MX 10 mx1.example.test.",
      "d4.example.test. 300 IN MX 20 mx3.example.test.",
      absl::StrCat("mx1.example.test. 300 IN A ", modern),
      absl::StrCat("mx2.example.test. 300 IN A ", defaults),
      absl::StrCat("mx3.example.test. 300 IN A ", cbc),
  });
  ASSERT_TRUE(unbound.ok()) << unbound.status();

  const std::string directory = MakeTempDirectory("tlsweep-stored-whatif");
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
  for (const char* spec : {kCurrent, kRsaCbc}) {
    *header.mutable_profile()->add_candidates() = backends::ParseCandidateSpec(spec).value();
  }
  v1::Scan scan;
  ASSERT_TRUE(Submit(*channel, header,
                     "d1.example.test\nd2.example.test\nd3.example.test\nd4.example.test", &scan,
                     "")
                  .ok());
  agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  runner.base.candidates.clear();  // From the profile, as in production.
  runner.base.resolver.servers = {(*unbound)->address()};
  runner.base.selection.all_addresses = true;
  runner.registry = &*registry;
  auto client = agent::AgentClient::Create(TestAgentOptions((*server)->port(), "agent-1", true),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  const v1::Scan done = WaitForScanEnd(*channel, scan.scan_id(), 120'000);
  (*client)->Stop();
  run.join();
  ASSERT_EQ(done.state(), v1::SCAN_DONE);

  // What the live probes say: a domain fails a candidate when every MX handshake failed.
  std::map<std::string, std::map<std::string, bool>> live_ok;  // candidate -> domain -> any ok
  auto stored = (*server)->coordinator().store().Results(scan.scan_id(), "eu");
  ASSERT_TRUE(stored.ok()) << stored.status();
  int enumerations = 0;
  for (const v1::ProbeResult& result : *stored) {
    if (backends::ProbeKindOf(result) == v1::PROBE_KIND_ENUMERATE) {
      enumerations += result.failure() == v1::PROBE_OK ? 1 : 0;
      continue;
    }
    if (backends::ProbeKindOf(result) != v1::PROBE_KIND_STARTTLS) continue;
    bool& ok = live_ok[result.tls_settings().name()][result.domain()];
    ok = ok || (result.failure() == v1::PROBE_OK && result.tls().success());
  }
  ASSERT_GE(enumerations, 4) << "every domain's MX was enumerated";
  const auto live_failing = [&](const std::string& candidate) {
    std::set<std::string> failing;
    for (const auto& [domain, ok] : live_ok[candidate]) {
      if (!ok) failing.insert(domain);
    }
    return failing;
  };
  EXPECT_EQ(live_failing("rsa-cbc"), std::set<std::string>{"d1.example.test"});

  std::vector<backends::TlsCandidate> candidates;
  for (const char* spec : {kCurrent, kRsaCbc, kProposed}) {
    candidates.push_back(Candidate(spec, *registry));
  }
  const coordinator::report::WhatIfProvider what_if = coordinator::report::StoredWhatIf(candidates);
  auto db = coordinator::SqliteDb::Open(server_options.store_path);
  ASSERT_TRUE(db.ok()) << db.status();
  coordinator::report::ReportOptions options;
  options.scan_id = scan.scan_id();
  auto report = coordinator::report::BuildReport(**db, options, what_if);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->what_if.has_value());
  ASSERT_EQ(report->what_if->rows.size(), 3u);
  for (const char* name : {"current", "rsa-cbc"}) {
    const coordinator::report::WhatIfRow* row = Row(*report->what_if, name);
    ASSERT_NE(row, nullptr) << name;
    EXPECT_EQ(row->evaluated.domains, 4) << name;
    EXPECT_EQ(row->fails.domains, static_cast<int64_t>(live_failing(name).size())) << name;
    // Three MX endpoints, each checked once against its live probe.
    EXPECT_TRUE(absl::StartsWith(row->confidence, "3/3 live endpoint checks agree"))
        << name << ": " << row->confidence;
  }
  const coordinator::report::WhatIfRow* proposed = Row(*report->what_if, "proposed");
  ASSERT_NE(proposed, nullptr);
  EXPECT_EQ(proposed->evaluated.domains, 4);
  EXPECT_EQ(proposed->fails.domains, 1) << "d3 only: d4 still reaches the modern listener";
  EXPECT_EQ(proposed->confidence, "no live check of these settings");
  // Against the baseline ("current", the first candidate; every domain ok live): only d3 newly
  // fails, and nothing was failing to be fixed.
  EXPECT_EQ(proposed->baseline, "current");
  EXPECT_EQ(proposed->newly_failing.domains, 1);
  EXPECT_EQ(proposed->newly_failing_examples, std::vector<std::string>{"d3.example.test"});
  EXPECT_EQ(proposed->newly_fixed.domains, 0);
  // rsa-cbc fails d1 live (the modern listener): the what-if, from the enumerations, agrees.
  const coordinator::report::WhatIfRow* rsa_cbc = Row(*report->what_if, "rsa-cbc");
  EXPECT_EQ(rsa_cbc->newly_failing_examples, std::vector<std::string>{"d1.example.test"});

  // The coordinator's served report carries the same section.
  coordinator::report::ReportServiceOptions served;
  served.listen = "127.0.0.1:0";
  served.store_path = server_options.store_path;
  served.dev = true;
  served.what_if = what_if;
  auto service = coordinator::report::ReportService::Start(served);
  ASSERT_TRUE(service.ok()) << service.status();
  httplib::Client http("127.0.0.1", (*service)->port());
  const httplib::Result json = http.Get(absl::StrCat("/scans/", scan.scan_id(), "/report.json"));
  ASSERT_TRUE(json) << httplib::to_string(json.error());
  EXPECT_EQ(json->status, 200) << json->body;
  EXPECT_TRUE(absl::StrContains(json->body, "\"candidate\": \"proposed\"")) << json->body;
  EXPECT_TRUE(absl::StrContains(json->body, "no live check of these settings"));
  const httplib::Result html = http.Get(absl::StrCat("/scans/", scan.scan_id()));
  ASSERT_TRUE(html);
  EXPECT_TRUE(absl::StrContains(html->body, "proposed")) << html->body.substr(0, 2000);
}

}  // namespace
}  // namespace tlsweep::testing
