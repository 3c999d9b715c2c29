#include "coordinator/report/verdict.h"

#include <gtest/gtest.h>

namespace tlsweep::coordinator::report {
namespace {

MxOutcome Mx(uint32_t preference, const std::string& host, v1::ProbeFailure failure) {
  return {preference, host, "192.0.2.1", failure};
}

TEST(JudgeDomainTest, PrimaryWorks) {
  const DomainVerdict v = JudgeDomain({Mx(10, "a", v1::PROBE_OK), Mx(20, "b", v1::TCP_TIMEOUT)});
  EXPECT_EQ(v.required, Required::kOk);
  EXPECT_EQ(v.opportunistic, Opportunistic::kTls);
  EXPECT_EQ(v.decisive, 0u);
}

TEST(JudgeDomainTest, PrimaryFailsBackupWorksIsDegraded) {
  const DomainVerdict v =
      JudgeDomain({Mx(10, "a", v1::TLS_NO_SHARED_CIPHER), Mx(20, "b", v1::PROBE_OK)});
  EXPECT_EQ(v.required, Required::kDegraded);
  // Opportunistic: the primary answered, its handshake failed: the mail goes in clear text.
  EXPECT_EQ(v.opportunistic, Opportunistic::kCleartext);
  EXPECT_EQ(v.failure_index, 0u);
  EXPECT_EQ(v.decisive, 1u);
  EXPECT_EQ(v.failing_endpoints, 1);
}

TEST(JudgeDomainTest, PrimaryUnreachableBackupWorksIsDegradedButEncrypted) {
  const DomainVerdict v = JudgeDomain({Mx(10, "a", v1::TCP_TIMEOUT), Mx(20, "b", v1::PROBE_OK)});
  EXPECT_EQ(v.required, Required::kDegraded);
  EXPECT_EQ(v.opportunistic, Opportunistic::kTls);
}

TEST(JudgeDomainTest, EveryMxFailsTls) {
  const DomainVerdict v =
      JudgeDomain({Mx(10, "a", v1::TCP_REFUSED), Mx(20, "b", v1::STARTTLS_NOT_OFFERED),
                   Mx(30, "c", v1::TLS_PROTOCOL_VERSION)});
  EXPECT_EQ(v.required, Required::kFails);
  EXPECT_EQ(v.opportunistic, Opportunistic::kCleartext);
  EXPECT_EQ(v.failure_index, 1u);  // The first MX reached.
  EXPECT_EQ(v.failing_endpoints, 2);
}

TEST(JudgeDomainTest, NothingReachedIsUnreachable) {
  const DomainVerdict v = JudgeDomain({Mx(0, "", v1::DNS_NXDOMAIN)});
  EXPECT_EQ(v.required, Required::kUnreachable);
  EXPECT_EQ(v.opportunistic, Opportunistic::kUnreachable);
}

TEST(JudgeDomainTest, OneOfTwoPrimaryAddressesWorks) {
  const DomainVerdict v =
      JudgeDomain({Mx(10, "a", v1::TLS_ALERT_RECEIVED), Mx(10, "a", v1::PROBE_OK)});
  EXPECT_EQ(v.required, Required::kOk);
}

TEST(VerdictTest, GroupsAndCauses) {
  EXPECT_EQ(GroupOf(v1::DNS_SERVFAIL), FailureGroup::kDns);
  EXPECT_EQ(GroupOf(v1::TCP_TIMEOUT), FailureGroup::kTcp);
  EXPECT_EQ(GroupOf(v1::BANNER_TIMEOUT), FailureGroup::kSmtp);
  EXPECT_EQ(GroupOf(v1::STARTTLS_REFUSED), FailureGroup::kStarttls);
  EXPECT_EQ(GroupOf(v1::TLS_UNEXPECTED_EOF), FailureGroup::kTls);
  EXPECT_EQ(GroupOf(v1::AGENT_LOST), FailureGroup::kNotProbed);
  EXPECT_EQ(FailureName(v1::TLS_NO_SHARED_CIPHER), "tls_no_shared_cipher");

  v1::ProbeResult r;
  r.set_failure(v1::TLS_ALERT_SENT);
  r.mutable_tls()->set_library_error("error:0A00018A:SSL routines::dh key too small");
  EXPECT_EQ(RootCause(r), "DH size");
  r.mutable_tls()->set_library_error("");
  r.mutable_tls()->set_alert_code(42);
  EXPECT_EQ(RootCause(r), "certificate");
  r.set_failure(v1::TLS_NO_SHARED_CIPHER);
  r.mutable_tls()->set_alert_code(40);
  EXPECT_EQ(RootCause(r), "no shared suite");
  r.set_failure(v1::TLS_ALERT_RECEIVED);
  r.mutable_tls()->set_library_error("No supported groups in common");
  EXPECT_EQ(RootCause(r), "key-exchange group");
  r.set_failure(v1::TCP_TIMEOUT);
  EXPECT_EQ(RootCause(r), "");
}

TEST(VerdictTest, SuiteRankOrdersStrength) {
  EXPECT_GT(SuiteRank("TLS_AES_128_GCM_SHA256"),
            SuiteRank("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  EXPECT_GT(SuiteRank("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            SuiteRank("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
  EXPECT_GT(SuiteRank("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
            SuiteRank("TLS_RSA_WITH_AES_128_CBC_SHA"));
  EXPECT_GT(SuiteRank("TLS_RSA_WITH_AES_128_CBC_SHA"), SuiteRank("TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
  EXPECT_GT(SuiteRank("TLS_RSA_WITH_RC4_128_SHA"), SuiteRank("TLS_RSA_WITH_NULL_SHA"));
}

}  // namespace
}  // namespace tlsweep::coordinator::report
