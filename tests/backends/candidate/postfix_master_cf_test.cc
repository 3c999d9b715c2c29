// master.cf services and their -o overrides, compared with `postconf -P`.
#include "backends/candidate/postfix_master_cf.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::backends {
namespace {

constexpr char kMasterCf[] = R"(# Debian's, trimmed, and a few overrides
smtp      inet  n       -       y       -       -       smtpd
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       y       60      1       pickup
smtp      unix  -       -       y       -       -       smtp
  -o smtp_tls_security_level=encrypt
# -o smtp_tls_protocols=TLSv1

  -o { smtp_tls_mandatory_ciphers = high }
  -o smtp_tls_mandatory_protocols=$strong
relay     unix  -       -       y       -       -       smtp
        -o syslog_name=postfix/$service_name -o { smtp_tls_exclude_ciphers = RC4, 3DES }
maildrop  unix  -       n       n       -       -       pipe
  flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
)";

TEST(PostfixMasterCfTest, ServicesAndOverridesAsPostconfListsThem) {
  absl::StatusOr<std::vector<PostfixService>> services =
      ParsePostfixMasterCf(kMasterCf, "master.cf");
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 5u);
  const PostfixService& smtp = (*services)[2];
  EXPECT_EQ(smtp.name, "smtp");
  EXPECT_EQ(smtp.type, "unix");
  EXPECT_EQ(smtp.command, "smtp");
  EXPECT_EQ(smtp.line, 5);
  ASSERT_EQ(smtp.overrides.size(), 3u);
  EXPECT_EQ(smtp.overrides[1].name, "smtp_tls_mandatory_ciphers");
  EXPECT_EQ(smtp.overrides[1].value, "high");
  EXPECT_EQ(smtp.overrides[1].line, 9);
  EXPECT_EQ((*services)[4].command, "pipe");
  EXPECT_TRUE((*services)[4].overrides.empty());

  absl::StatusOr<testing::CommandResult> version =
      testing::RunCommand("/usr/sbin/postconf -d -h mail_version 2>/dev/null");
  if (!version.ok() || version->exit_code != 0) GTEST_SKIP() << "postconf is not installed";
  const std::string dir = testing::MakeTempDirectory("tlsweep-master");
  std::ofstream(dir + "/main.cf") << "strong = >=TLSv1.2\n";
  std::ofstream(dir + "/master.cf") << kMasterCf;
  absl::StatusOr<testing::CommandResult> listed =
      testing::RunCommand(absl::StrCat("/usr/sbin/postconf -c ", dir, " -P 2>/dev/null"));
  ASSERT_TRUE(listed.ok());
  std::set<std::string> theirs;
  for (absl::string_view line : absl::StrSplit(listed->output, '\n', absl::SkipEmpty())) {
    theirs.insert(std::string(line));
  }
  std::set<std::string> ours;
  for (const PostfixService& service : *services) {
    for (const PostfixServiceOverride& option : service.overrides) {
      // postconf -P folds whitespace runs.
      ours.insert(
          absl::StrCat(service.name, "/", service.type, "/", option.name, " = ",
                       absl::StrJoin(absl::StrSplit(option.value, ' ', absl::SkipEmpty()), " ")));
    }
  }
  EXPECT_EQ(ours, theirs);
}

TEST(PostfixMasterCfTest, ErrorsCarryFileAndLine) {
  auto error = [](const std::string& content) {
    absl::StatusOr<std::vector<PostfixService>> services =
        ParsePostfixMasterCf(content, "master.cf");
    EXPECT_FALSE(services.ok()) << content;
    return std::string(services.status().message());
  };
  EXPECT_TRUE(absl::StrContains(error("  -o a=b\n"), "master.cf:1: continuation line"));
  EXPECT_TRUE(absl::StrContains(error("smtp unix - - y - -\n"), "master.cf:1: a service needs 8"));
  EXPECT_TRUE(
      absl::StrContains(error("smtp unix - - y - - smtp\n -o\n"), "master.cf:2: -o without"));
  EXPECT_TRUE(absl::StrContains(error("smtp unix - - y - - smtp -o { a = b\n"),
                                "master.cf:1: '{' without its '}'"));
  EXPECT_TRUE(absl::StrContains(error("smtp unix - - y - - smtp\n\n -o {a=b}c\n"),
                                "master.cf:3: -o {a=b}c: syntax error after '}'"));
}

}  // namespace
}  // namespace tlsweep::backends
