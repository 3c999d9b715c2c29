// The hosted shape against real servers: customer domains with their own MX names on shared
// Postfix addresses (one of them picks its certificate by SNI, tls_server_sni_maps), resolved
// by a real unbound, scanned through a coordinator over gRPC by a real agent. Every verdict,
// name check included, must equal what per-name probing (tlsweep sweep) finds; the shared
// address must cost at most one extra connection for the SNI check, and the SNI-dependent
// address one probe per name and candidate, counted in Postfix's own log.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "agent/sweep/sweeper.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/target/target.h"
#include "coordinator/server.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/postfix_fixture.h"
#include "tests/testing/run_command.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::testing {
namespace {

constexpr int kHostedDomains = 24;
constexpr const char* kHosted = "127.0.7.1";
constexpr const char* kHostedSecond = "127.0.7.3";
constexpr const char* kSni = "127.0.7.2";

// Connections each listener received, from the "connect from" lines of its syslog name.
std::map<std::string, int> ConnectionsByListener(const std::string& maillog) {
  std::map<std::string, int> counts;
  std::ifstream in(maillog);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("]: connect from ") == std::string::npos) continue;
    for (const char* listener : {"hosted", "hosted2", "sni"}) {
      if (absl::StrContains(line, absl::StrCat(" postfix-", listener, "/smtpd["))) {
        ++counts[listener];
      }
    }
  }
  return counts;
}

// What a verdict is made of: outcome, version, suite, certificate and its checks.
std::string Verdict(const v1::ProbeResult& result) {
  const v1::TlsHandshake& tls = result.tls();
  return absl::StrCat(
      v1::ProbeFailure_Name(result.failure()), " ", tls.version(), " ", tls.suite().iana_name(),
      " leaf=", tls.peer_chain_size() > 0 ? tls.peer_chain(0).sha256_fingerprint() : "-",
      " trusted=", tls.verification().trusted(),
      " name_match=", tls.verification().hostname_match(),
      " name=", tls.verification().verified_name());
}

std::string VerdictKey(const v1::ProbeResult& result) {
  return absl::StrCat(result.domain(), " ", result.mx_host(), " ", result.address(), " ",
                      result.tls_settings().name());
}

class SharedAddressScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("tlsweep-shared-address-scan");
    auto factory = CertFactory::Create(directory_ + "/pki");
    ASSERT_TRUE(factory.ok()) << factory.status();
    ca_file_ = factory->ca_file();
    // One certificate for every customer name of the hosted provider.
    auto hosted = factory->Issue("hosted", {"*.mail.hosted.example.test"}, KeyKind::kEcdsaP256);
    // The SNI host: a default certificate, and one per mapped name; s3 gets s1's (a mismatch).
    auto sni_default = factory->Issue("sni-default", {"mx.sni.example.test"}, KeyKind::kEcdsaP256);
    auto s1 = factory->Issue("s1", {"s1.sni.example.test"}, KeyKind::kEcdsaP256);
    auto s2 = factory->Issue("s2", {"s2.sni.example.test"}, KeyKind::kEcdsaP256);
    ASSERT_TRUE(hosted.ok() && sni_default.ok() && s1.ok() && s2.ok());
    const std::string table = directory_ + "/sni_map";
    {
      std::ofstream out(table);
      out << "s1.sni.example.test " << s1->key_file << "," << s1->chain_file << "\n"
          << "s2.sni.example.test " << s2->key_file << "," << s2->chain_file << "\n"
          << "s3.sni.example.test " << s1->key_file << "," << s1->chain_file << "\n";
    }
    // -F stores the files' contents in the table: smtpd never opens them.
    absl::StatusOr<CommandResult> postmap =
        RunCommand(absl::StrCat("postmap -F hash:", ShellQuote(table), " 2>&1"));
    ASSERT_TRUE(postmap.ok() && postmap->exit_code == 0)
        << (postmap.ok() ? postmap->output : postmap.status().ToString());

    const auto listener = [&](const std::string& name, const std::string& address,
                              const IssuedCertificate& certificate) {
      PostfixListener l;
      l.name = name;
      l.address = address;
      l.chain_file = certificate.chain_file;
      l.key_file = certificate.key_file;
      l.extra_options.push_back(absl::StrCat("syslog_name=postfix-", name));
      return l;
    };
    PostfixListener sni = listener("sni", kSni, *sni_default);
    sni.extra_options.push_back(absl::StrCat("tls_server_sni_maps=hash:", table));
    auto postfix = PostfixFixture::Start(
        {listener("hosted", kHosted, *hosted), listener("hosted2", kHostedSecond, *hosted), sni});
    ASSERT_TRUE(postfix.ok()) << postfix.status();
    postfix_ = *std::move(postfix);

    std::vector<std::string> records;
    for (int i = 1; i <= kHostedDomains; ++i) {
      records.push_back(
          absl::StrCat("h", i, ".example.test. 300 IN MX 10 c", i, ".mail.hosted.example.test."));
      records.push_back(absl::StrCat("c", i, ".mail.hosted.example.test. 300 IN A ", kHosted));
      domains_.push_back(absl::StrCat("h", i, ".example.test"));
    }
    for (int i = 1; i <= 3; ++i) {
      records.push_back(
          absl::StrCat("e", i, ".example.test. 300 IN MX 10 s", i, ".sni.example.test."));
      records.push_back(absl::StrCat("s", i, ".sni.example.test. 300 IN A ", kSni));
      domains_.push_back(absl::StrCat("e", i, ".example.test"));
    }
    // A name with two addresses: each address is probed (once), under that name. The hosted
    // certificate does not name it: its own name check says so.
    records.push_back("m.example.test. 300 IN MX 10 multi.hosted.example.test.");
    records.push_back(absl::StrCat("multi.hosted.example.test. 300 IN A ", kHosted));
    records.push_back(absl::StrCat("multi.hosted.example.test. 300 IN A ", kHostedSecond));
    domains_.push_back("m.example.test");
    auto unbound = UnboundFixture::Start(records);
    ASSERT_TRUE(unbound.ok()) << unbound.status();
    unbound_ = *std::move(unbound);
  }

  // Two candidates: OpenSSL's defaults, and the same capped at TLS 1.2.
  static std::vector<v1::TlsClientSettings> Profile() {
    std::vector<v1::TlsClientSettings> profile(2);
    profile[0].set_name("default");
    profile[1].set_name("tls12");
    profile[1].set_max_version(v1::TLSV1_2);
    return profile;
  }

  agent::SweepOptions SweepOptions(const backends::BackendRegistry& registry) const {
    agent::SweepOptions options = LoopbackRunnerOptions().base;
    options.candidates.clear();
    for (const v1::TlsClientSettings& settings : Profile()) {
      options.candidates.push_back(backends::BuildCandidate(settings, registry, ca_file_).value());
    }
    options.resolver.servers = {unbound_->address()};
    options.selection.all_addresses = true;
    return options;
  }

  std::string directory_;
  std::string ca_file_;
  std::vector<std::string> domains_;
  std::unique_ptr<PostfixFixture> postfix_;
  std::unique_ptr<UnboundFixture> unbound_;
};

TEST_F(SharedAddressScanTest, VerdictsEqualPerNameProbingWithOneProbePerSharedAddress) {
  auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  const std::map<std::string, int> before = ConnectionsByListener(postfix_->maillog_path());
  // The scan: coordinator (plain text on loopback) and one real agent over gRPC.
  coordinator::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.store_path = directory_ + "/store.db";
  server_options.dev = true;
  auto server = coordinator::CoordinatorServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  v1::ScanHeader header;
  header.add_regions("eu");
  header.set_shard_size(5);
  const agent::SweepOptions sweep = SweepOptions(*registry);
  for (const v1::TlsClientSettings& settings : Profile()) {
    *header.mutable_profile()->add_candidates() = settings;
  }
  v1::Scan scan;
  ASSERT_TRUE(Submit(*channel, header, absl::StrJoin(domains_, "\n"), &scan, "").ok());

  agent::SweepRunnerOptions runner;
  runner.base = sweep;
  runner.base.candidates.clear();  // From the profile, as in production.
  runner.registry = &*registry;
  runner.ca_file = ca_file_;
  auto client = agent::AgentClient::Create(TestAgentOptions((*server)->port(), "agent-1", true),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  v1::Scan done = WaitForScanEnd(*channel, scan.scan_id(), 120'000);
  (*client)->Stop();
  run.join();
  ASSERT_EQ(done.state(), v1::SCAN_DONE);
  std::map<std::string, int> scan_connections = ConnectionsByListener(postfix_->maillog_path());
  for (auto& [listener, count] : scan_connections)
    count -= before.count(listener) ? before.at(listener) : 0;

  // Two candidates: the hosted address costs 2 probes + 1 SNI check, and the multi-address
  // name one more each on hosted2 (probed there under its own name, alone: 2 probes).
  EXPECT_EQ(scan_connections.at("hosted"), 3) << postfix_->maillog_path();
  EXPECT_EQ(scan_connections.at("hosted2"), 2);
  // SNI-dependent: every name with every candidate.
  EXPECT_EQ(scan_connections.at("sni"), 3 * 2);
  const v1::RegionProgress& progress = done.progress(0);
  EXPECT_EQ(progress.endpoints(), 3u);
  EXPECT_EQ(progress.names(), kHostedDomains + 1u + 3u + 1u);
  EXPECT_EQ(progress.connections(), 3u + 2u + 6u);
  EXPECT_EQ(progress.sni_dependent(), 1u);

  std::map<std::string, std::string> scanned;
  absl::StatusOr<std::vector<v1::ProbeResult>> stored =
      (*server)->coordinator().store().Results(scan.scan_id(), "eu");
  ASSERT_TRUE(stored.ok()) << stored.status();
  for (const v1::ProbeResult& result : *stored) {
    EXPECT_TRUE(scanned.emplace(VerdictKey(result), Verdict(result)).second)
        << "two verdicts for " << VerdictKey(result);
  }

  // The reference: per-name probing, one (MX name, address, candidate) at a time.
  agent::Sweeper sweeper(sweep);
  std::vector<backends::TargetLine> lines;
  for (size_t i = 0; i < domains_.size(); ++i) {
    lines.push_back({i + 1, backends::ParseTarget(domains_[i], 25).value()});
  }
  size_t next = 0;
  std::map<std::string, std::string> per_name;
  ASSERT_TRUE(sweeper
                  .Run(
                      [&]() -> std::optional<backends::TargetLine> {
                        if (next >= lines.size()) return std::nullopt;
                        return lines[next++];
                      },
                      [&](v1::ProbeResult result) {
                        per_name.emplace(VerdictKey(result), Verdict(result));
                      })
                  .ok());
  EXPECT_EQ(per_name.size(), (domains_.size() + 1) * 2) << "m.example.test has two addresses";
  EXPECT_EQ(scanned, per_name);

  // What the lab shape shows: the wildcard names match, s3 got s1's certificate.
  const std::string s3 = scanned.at("e3.example.test s3.sni.example.test 127.0.7.2 default");
  EXPECT_TRUE(absl::StrContains(s3, "name_match=0")) << s3;
  const std::string h7 =
      scanned.at("h7.example.test c7.mail.hosted.example.test 127.0.7.1 default");
  EXPECT_TRUE(absl::StrContains(h7, "PROBE_OK") && absl::StrContains(h7, "name_match=1")) << h7;
}

}  // namespace
}  // namespace tlsweep::testing
