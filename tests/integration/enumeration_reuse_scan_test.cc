// Enumerations reused across scans (coordinator/store/known_enumerations.h) on real servers: a
// private Postfix with two listeners, real unbound, a coordinator over gRPC and a real agent
// that enumerates. A second scan of unchanged servers makes one connection per endpoint (the
// candidate's handshake) instead of a full enumeration, and its report and what-if read the
// reused enumerations as if fresh. Then one listener's ciphers change: only that endpoint is
// enumerated again, and the what-if answer for it changes with it.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/stored_whatif.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/postfix_fixture.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::testing {
namespace {

constexpr const char* kCurrent = "name=current";
// Refused by a listener that only speaks TLS 1.2 with AES256-SHA.
constexpr const char* kProposed = "name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2";

std::vector<PostfixListener> Listeners(bool changed, const std::vector<std::string>& addresses) {
  const TestPki& pki = SharedPki();
  std::vector<PostfixListener> listeners(2);
  listeners[0].name = "stable";
  listeners[1].name = "changing";
  for (size_t i = 0; i < listeners.size(); ++i) {
    listeners[i].chain_file = pki.rsa.chain_file;
    listeners[i].key_file = pki.rsa.key_file;
    if (i < addresses.size()) listeners[i].address = addresses[i];
  }
  if (changed) {
    listeners[1].protocols = ">=TLSv1.2, <=TLSv1.2";
    listeners[1].ciphers_grade = "high";
    listeners[1].cipherlist = "AES256-SHA";
  }
  return listeners;
}

class EnumerationReuseScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::make_unique<backends::BackendRegistry>(*std::move(registry));
    auto postfix = PostfixFixture::Start(Listeners(false, {}));
    ASSERT_TRUE(postfix.ok()) << postfix.status();
    postfix_ = *std::move(postfix);
    addresses_ = {postfix_->listener("stable").address, postfix_->listener("changing").address};
    auto unbound = UnboundFixture::Start({
        "d1.example.test. 300 IN MX 10 mx1.example.test.",
        "d2.example.test. 300 IN MX 10 mx2.example.test.",
        "d3.example.test. 300 IN MX 10 mx1.example.test.",
        absl::StrCat("mx1.example.test. 300 IN A ", addresses_[0]),
        absl::StrCat("mx2.example.test. 300 IN A ", addresses_[1]),
    });
    ASSERT_TRUE(unbound.ok()) << unbound.status();
    unbound_ = *std::move(unbound);

    store_path_ = MakeTempDirectory("tlsweep-enumeration-reuse") + "/store.db";
    coordinator::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.store_path = store_path_;
    options.dev = true;
    auto server = coordinator::CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
    runner.base.candidates.clear();  // From the profile, as in production.
    runner.base.resolver.servers = {unbound_->address()};
    runner.registry = registry_.get();
    auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-1", true),
                                             agent::MakeSweepRunner(runner));
    ASSERT_TRUE(client.ok()) << client.status();
    agent_ = *std::move(client);
    agent_thread_ = std::thread([this] { agent_->Run(); });
  }

  void TearDown() override {
    if (agent_ != nullptr) agent_->Stop();
    if (agent_thread_.joinable()) agent_thread_.join();
    if (server_ != nullptr) server_->Shutdown();
  }

  // Runs a scan of the three domains with `current`, enumerating; returns its report with the
  // what-if of `proposed` (predicted from the stored enumerations only).
  coordinator::report::Report Scan(const std::function<void(v1::ProbeProfile&)>& tweak = {}) {
    v1::ScanHeader header;
    header.add_regions("eu");
    header.mutable_profile()->set_enumerate(true);
    *header.mutable_profile()->add_candidates() = backends::ParseCandidateSpec(kCurrent).value();
    if (tweak) tweak(*header.mutable_profile());
    v1::Scan scan;
    EXPECT_TRUE(
        Submit(*channel_, header, "d1.example.test\nd2.example.test\nd3.example.test", &scan, "")
            .ok());
    const v1::Scan done = WaitForScanEnd(*channel_, scan.scan_id(), 120'000);
    EXPECT_EQ(done.state(), v1::SCAN_DONE);
    std::vector<backends::TlsCandidate> candidates;
    for (const char* spec : {kCurrent, kProposed}) {
      candidates.push_back(
          backends::BuildCandidate(backends::ParseCandidateSpec(spec).value(), *registry_, "")
              .value());
    }
    auto db = coordinator::SqliteDb::Open(store_path_);
    EXPECT_TRUE(db.ok()) << db.status();
    coordinator::report::ReportOptions options;
    options.scan_id = scan.scan_id();
    auto report = coordinator::report::BuildReport(**db, options,
                                                   coordinator::report::StoredWhatIf(candidates));
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *std::move(report) : coordinator::report::Report();
  }

  static const coordinator::report::RegionLoad& Load(const coordinator::report::Report& report) {
    static const coordinator::report::RegionLoad kNone;
    return report.scan.load.empty() ? kNone : report.scan.load.front();
  }

  static int64_t ProposedFails(const coordinator::report::Report& report) {
    if (!report.what_if.has_value()) return -1;
    for (const coordinator::report::WhatIfRow& row : report.what_if->rows) {
      if (row.candidate == "proposed") return row.fails.domains;
    }
    return -1;
  }

  std::unique_ptr<backends::BackendRegistry> registry_;
  std::unique_ptr<PostfixFixture> postfix_;
  std::vector<std::string> addresses_;
  std::unique_ptr<UnboundFixture> unbound_;
  std::string store_path_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<agent::AgentClient> agent_;
  std::thread agent_thread_;
};

TEST_F(EnumerationReuseScanTest, UnchangedServersAreNotEnumeratedAgainAndAChangedOneIs) {
  const coordinator::report::Report first = Scan();
  const coordinator::report::RegionLoad& full = Load(first);
  ASSERT_EQ(full.addresses, 2);
  EXPECT_EQ(full.enumerations_made, 2);
  EXPECT_EQ(full.enumerations_reused, 0);
  EXPECT_GT(full.connections, 2 * full.addresses) << "a full enumeration takes many connections";
  EXPECT_EQ(ProposedFails(first), 0) << "both listeners take ECDHE+AESGCM at TLS 1.2+";

  // Nothing changed: one handshake per endpoint, the enumerations are the first scan's.
  const coordinator::report::Report second = Scan();
  const coordinator::report::RegionLoad& reused = Load(second);
  EXPECT_EQ(reused.enumerations_made, 0);
  EXPECT_EQ(reused.enumerations_reused, 2);
  ASSERT_EQ(reused.reused.size(), 2u);
  EXPECT_EQ(reused.reused.front().from_scan, first.scan.scan_id);
  EXPECT_LE(static_cast<double>(reused.connections), 1.1 * static_cast<double>(reused.addresses))
      << reused.connections << " connections for " << reused.addresses << " endpoints";
  EXPECT_EQ(ProposedFails(second), 0) << "the what-if reads reused enumerations like fresh ones";
  // The report says so, per region and per endpoint.
  const std::string text = coordinator::report::RenderText(second);
  EXPECT_TRUE(absl::StrContains(text, "enumerations, eu: 0 made, 2 reused (oldest ")) << text;
  const std::string json = coordinator::report::RenderJson(second);
  EXPECT_TRUE(absl::StrContains(json, "\"reused\": 2")) << json;
  EXPECT_TRUE(absl::StrContains(json, absl::StrCat("\"from_scan\": \"", first.scan.scan_id)))
      << json;
  std::cout << "enumeration reuse: full scan " << full.connections << " connections, rescan "
            << reused.connections << " connections for " << reused.addresses << " endpoints\n";

  // --fresh enumerates everything again, whatever is known.
  const coordinator::report::Report fresh =
      Scan([](v1::ProbeProfile& profile) { profile.set_fresh_enumeration(true); });
  EXPECT_EQ(Load(fresh).enumerations_made, 2);
  EXPECT_EQ(Load(fresh).enumerations_reused, 0);

  // The "changing" listener now speaks TLS 1.2 with AES256-SHA only, on the same address.
  postfix_.reset();
  auto changed = PostfixFixture::Start(Listeners(true, addresses_));
  ASSERT_TRUE(changed.ok()) << changed.status();
  postfix_ = *std::move(changed);
  const coordinator::report::Report third = Scan();
  const coordinator::report::RegionLoad& after = Load(third);
  EXPECT_EQ(after.enumerations_made, 1) << "only the changed endpoint";
  EXPECT_EQ(after.enumerations_reused, 1);
  ASSERT_EQ(after.reused.size(), 1u);
  EXPECT_EQ(after.reused.front().endpoint, absl::StrCat(addresses_[0], "|25"));
  EXPECT_EQ(ProposedFails(third), 1) << "d2's MX no longer takes ECDHE+AESGCM";
  std::cout << "after one listener changed: " << after.connections << " connections, "
            << after.enumerations_made << " enumeration made\n";
}

}  // namespace
}  // namespace tlsweep::testing
