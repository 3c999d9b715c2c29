#include "backends/candidate/candidate_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::backends {
namespace {

std::string WriteFile(const std::string& directory, const std::string& name,
                      const std::string& content) {
  const std::string path = directory + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(CandidateFileTest, NameEqualsFileArguments) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-candidate-file");
  EXPECT_EQ(ParseCandidateFileArgument("current=/etc/postfix/main.cf").name, "current");
  EXPECT_EQ(ParseCandidateFileArgument("current=/etc/postfix/main.cf").path,
            "/etc/postfix/main.cf");
  EXPECT_EQ(ParseCandidateFileArgument("/etc/postfix/main.cf").name, "");
  EXPECT_EQ(ParseCandidateFileArgument("a/b=c.cf").name, "");  // Not a name: a path.
  EXPECT_EQ(ParseCandidateFileArgument("a b=c.cf").name, "");
  // A file whose name has '=' in it is still that file.
  const std::string odd = WriteFile(dir, "x=y.cf", "smtp_tls_security_level = may\n");
  EXPECT_EQ(ParseCandidateFileArgument(odd).path, odd);
}

TEST(CandidateFileTest, NamedFilesRenameEveryCandidateAndOverride) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-candidate-file");
  const std::string conf = WriteFile(dir, "ecelerity.conf",
                                     "tls = ifavailable\n"
                                     "Domain \"a.example\" { tls = required }\n"
                                     "Binding \"bulk\" { tls_ciphers = HIGH }\n");
  const std::string main_cf = WriteFile(dir, "main.cf", "smtp_tls_security_level = may\n");
  absl::StatusOr<CandidateSet> set =
      LoadCandidateFiles({"current=" + conf, "proposed=" + main_cf}, {});
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->candidates.size(), 3u);
  EXPECT_EQ(set->candidates[0].name(), "current");
  EXPECT_EQ(set->candidates[0].overrides(0).settings().name(), "current");
  EXPECT_EQ(set->candidates[1].name(), "current/bulk");
  EXPECT_EQ(set->candidates[1].overrides(0).settings().name(), "current/bulk");
  EXPECT_EQ(set->candidates[2].name(), "proposed");
  for (tlsweep::v1::TlsClientSettings candidate : set->candidates) {
    EXPECT_TRUE(ValidateCandidate(candidate).ok()) << candidate.name();
  }
}

// Before, the second main.cf silently became "postfix-2".
TEST(CandidateFileTest, TwoFilesWithTheSameNamesAreAnErrorNotARename) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-candidate-file");
  const std::string current = WriteFile(dir, "current.cf", "smtp_tls_security_level = may\n");
  const std::string proposed = WriteFile(dir, "proposed.cf", "smtp_tls_security_level = encrypt\n");
  absl::StatusOr<CandidateSet> clash = LoadCandidateFiles({current, proposed}, {});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            absl::StrCat("--candidate-from ", proposed,
                         " gives the candidate name 'postfix', "
                         "which ",
                         current,
                         " gives already: name the file's candidates with "
                         "--candidate-from NAME=",
                         proposed));
  absl::StatusOr<CandidateSet> named = LoadCandidateFiles({current, "proposed=" + proposed}, {});
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->candidates[1].name(), "proposed");
  EXPECT_TRUE(named->candidates[1].tls_required());
  // Names taken by the profile count too.
  absl::StatusOr<CandidateSet> taken =
      LoadCandidateFiles({"current=" + current}, {{"current", "the --profile"}});
  ASSERT_FALSE(taken.ok());
  EXPECT_TRUE(absl::StrContains(taken.status().message(), "which the --profile gives already"));
  // A missing file is an error with its name.
  EXPECT_FALSE(LoadCandidateFiles({"x=" + dir + "/missing.cf"}, {}).ok());
}

}  // namespace
}  // namespace tlsweep::backends
