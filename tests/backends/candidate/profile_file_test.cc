#include "backends/candidate/profile_file.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace tlsweep::backends {
namespace {

TEST(ProfileFileTest, ReadsTextFormat) {
  absl::StatusOr<tlsweep::v1::ProbeProfile> profile = ParseProbeProfile(
      R"pb(
        # Current fleet settings against the proposal.
        candidates { name: "current" backend: "openssl" openssl_ciphers: "DEFAULT" }
        candidates {
          name: "proposed"
          openssl_ciphers: "DEFAULT:!AES256-SHA:!EXPORT"
          min_version: TLSV1_2
          tls_required: true
        }
        candidates { gnutls_priority: "NORMAL:-VERS-TLS1.0" groups: "x25519" }
        enumerate: true
      )pb",
      "profile.txtpb");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->candidates_size(), 3);
  EXPECT_TRUE(profile->enumerate());
  EXPECT_EQ(profile->candidates(1).backend(), "openssl");
  EXPECT_EQ(profile->candidates(1).min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_TRUE(profile->candidates(1).tls_required());
  EXPECT_EQ(profile->candidates(2).name(), "candidate3");
  EXPECT_EQ(profile->candidates(2).backend(), "gnutls");
  EXPECT_EQ(profile->candidates(2).source(), "profile.txtpb");
}

TEST(ProfileFileTest, ReadsJsonWithTheSameSchema) {
  absl::StatusOr<tlsweep::v1::ProbeProfile> profile = ParseProbeProfile(
      R"({"candidates": [{"name": "current", "backend": "openssl"},
           {"name": "gnutls", "backend": "gnutls", "gnutls_priority": "NORMAL:-VERS-TLS1.0",
            "maxVersion": "TLSV1_3"}],
          "enumerate": false})",
      "profile.json");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->candidates_size(), 2);
  EXPECT_EQ(profile->candidates(1).gnutls_priority(), "NORMAL:-VERS-TLS1.0");
  EXPECT_EQ(profile->candidates(1).max_version(), tlsweep::v1::TLSV1_3);
  EXPECT_FALSE(profile->enumerate());
}

TEST(ProfileFileTest, ParseErrorsCarryLineAndColumn) {
  absl::StatusOr<tlsweep::v1::ProbeProfile> text =
      ParseProbeProfile("candidates { name: \"a\" }\ncandidates { nmae: \"b\" }\n", "p.txtpb");
  ASSERT_FALSE(text.ok());
  EXPECT_TRUE(absl::StrContains(text.status().message(), "p.txtpb:2:")) << text.status().message();
  EXPECT_TRUE(absl::StrContains(text.status().message(), "nmae"));

  absl::StatusOr<tlsweep::v1::ProbeProfile> json =
      ParseProbeProfile("{\"candidates\": [{\"nmae\": \"x\"}]}", "p.json");
  ASSERT_FALSE(json.ok());
  EXPECT_TRUE(absl::StrContains(json.status().message(), "p.json: not a valid ProbeProfile"))
      << json.status().message();
}

TEST(ProfileFileTest, ValidatesNamesAndBackends) {
  absl::StatusOr<tlsweep::v1::ProbeProfile> duplicate =
      ParseProbeProfile("candidates { name: \"a\" } candidates { name: \"a\" }", "p");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_TRUE(absl::StrContains(duplicate.status().message(), "'a' is used twice"));

  absl::StatusOr<tlsweep::v1::ProbeProfile> backend =
      ParseProbeProfile("candidates { name: \"w\" backend: \"wolfssl\" }", "p");
  ASSERT_FALSE(backend.ok());
  EXPECT_TRUE(absl::StrContains(backend.status().message(), "candidate 1 ('w')"));
  EXPECT_TRUE(absl::StrContains(backend.status().message(), "wolfssl"));

  absl::StatusOr<tlsweep::v1::ProbeProfile> mixed =
      ParseProbeProfile("candidates { backend: \"gnutls\" openssl_ciphers: \"DEFAULT\" }", "p");
  ASSERT_FALSE(mixed.ok());
  EXPECT_TRUE(absl::StrContains(mixed.status().message(), "backend is gnutls"));
}

}  // namespace
}  // namespace tlsweep::backends
