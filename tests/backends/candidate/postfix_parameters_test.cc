// $-expansion against the real thing: every value is compared with what Debian's
// /usr/sbin/postconf -x prints for the same main.cf (and refused exactly when postconf stops
// with "macro processing error").
#include "backends/candidate/postfix_parameters.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::backends {
namespace {

constexpr char kPostconf[] = "/usr/sbin/postconf";

bool HavePostconf() {
  absl::StatusOr<testing::CommandResult> run =
      testing::RunCommand(absl::StrCat(kPostconf, " -d -h mail_version 2>/dev/null"));
  return run.ok() && run->exit_code == 0;
}

// postconf prints values with whitespace runs folded to one space.
std::string Fold(absl::string_view value) {
  return absl::StrJoin(absl::StrSplit(value, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty()), " ");
}

// A directory with `main_cf` and an empty master.cf (postconf warns without one).
std::string WriteConfig(const std::string& main_cf) {
  const std::string directory = testing::MakeTempDirectory("tlsweep-postconf");
  std::ofstream(directory + "/main.cf") << main_cf;
  std::ofstream(directory + "/master.cf") << "";
  return directory;
}

// `postconf -x -c DIR -n`: name -> value; nullopt-like empty map with ok=false when it stops.
struct Postconf {
  bool ok = false;
  std::map<std::string, std::string> values;
};

Postconf ParsePostconf(const testing::CommandResult& run) {
  Postconf result;
  if (run.exit_code != 0) return result;
  result.ok = true;
  for (absl::string_view line : absl::StrSplit(run.output, '\n', absl::SkipEmpty())) {
    const size_t equals = line.find(" = ");
    if (equals == absl::string_view::npos) {
      result.values[std::string(absl::StripSuffix(line, " ="))] = "";  // "name =": empty.
      continue;
    }
    result.values[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 3));
  }
  return result;
}

// postconf for each directory, all at once: it pauses a second or more for each warning
// (an unused parameter) and on stopping, which one at a time added up to minutes.
std::vector<Postconf> RunPostconf(const std::vector<std::string>& directories) {
  std::string script;
  for (const std::string& directory : directories) {
    const std::string quoted = testing::ShellQuote(directory);
    absl::StrAppend(&script, "{ ", kPostconf, " -x -c ", quoted, " -n >", quoted,
                    "/postconf.out 2>/dev/null; echo $? >", quoted, "/postconf.rc; } &\n");
  }
  script += "wait\n";
  std::vector<Postconf> results(directories.size());
  absl::StatusOr<testing::CommandResult> run =
      testing::RunCommand(absl::StrCat("sh -c ", testing::ShellQuote(script)));
  if (!run.ok()) return results;
  for (size_t i = 0; i < directories.size(); ++i) {
    testing::CommandResult one;
    std::ifstream rc(directories[i] + "/postconf.rc");
    if (!(rc >> one.exit_code)) continue;
    std::ifstream out(directories[i] + "/postconf.out");
    one.output.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
    results[i] = ParsePostconf(one);
  }
  return results;
}

struct Ours {
  absl::Status status;
  std::map<std::string, std::string> values;
};

Ours Expand(const std::string& directory, const std::string& main_cf,
            const std::vector<std::string>& names) {
  ConfigWarnings warnings;
  PostfixParameters parameters(directory + "/main.cf", directory, warnings);
  Ours ours;
  ours.status = parameters.ReadMainCf(main_cf);
  for (const std::string& name : names) {
    if (!ours.status.ok()) break;
    absl::StatusOr<std::string> value = parameters.Get(name);
    if (!value.ok()) {
      ours.status = value.status();
      break;
    }
    ours.values[name] = Fold(*value);
  }
  return ours;
}

constexpr char kMainCf[] = R"(# Conditional expansion as deliverability teams write it.
strongish = HIGH
empty =
indirect = $empty
nested = ${strongish?{${empty:{x${strongish}y}}}:{no}}
smtp_tls_security_level = ${strongish?encrypt}
smtp_tls_ciphers = ${strongish?$strongish}
smtp_tls_mandatory_ciphers = ${strongish?{high}}
smtp_tls_exclude_ciphers = ${empty:RC4} ${unset:{MD5, aNULL}} ${strongish:NO}
smtp_tls_mandatory_exclude_ciphers = $(strongish?a:b) $$strongish x$${y}
    ${{$strongish} == {HIGH}?{eq}:{ne}} ${ {10} < {9} ? {yes} : {no} } ${{b} > {a}}
smtp_tls_protocols = ${ strongish ? {>=TLSv1.2} : {>=TLSv1} }
smtp_tls_mandatory_protocols = ${empty?{!SSLv2}:{!SSLv3, !TLSv1}} ${indirect?set}${indirect:unset}
tls_high_cipherlist = $nested:${config_directory}:$(config_directory)
tls_medium_cipherlist = x${empty}y ${empty?{z}} $tls_high_cipherlist ${tls_high_cipherlist?{ a b }}
tls_low_cipherlist = ${unset?{a}:{b}} ${strongish?{ a }:c} ${strongish?x}}
tls_export_cipherlist = ${strongish?{{braced}}} ${strongish? spaced text }
smtp_tls_policy_maps = texthash:${config_directory}/tls_policy, inline:{ {a.example = encrypt } }
tls_null_cipherlist = eNULL
  :!aNULL
smtp_tls_loglevel = ${strongish:{ignored}}${empty:{1}}
)";

TEST(PostfixParametersTest, ExpansionEqualsPostconfX) {
  if (!HavePostconf()) GTEST_SKIP() << kPostconf << " is not installed";
  const std::string directory = WriteConfig(kMainCf);
  const Postconf postconf = RunPostconf({directory})[0];
  ASSERT_TRUE(postconf.ok);
  std::vector<std::string> names;
  for (const auto& [name, value] : postconf.values) names.push_back(name);
  EXPECT_GE(names.size(), 18u);
  const Ours ours = Expand(directory, kMainCf, names);
  ASSERT_TRUE(ours.status.ok()) << ours.status;
  for (const auto& [name, value] : postconf.values) {
    EXPECT_EQ(ours.values.at(name), value) << name;
  }
  // The cases the issue names, spelled out (postconf agrees, above).
  EXPECT_EQ(ours.values.at("smtp_tls_ciphers"), "HIGH");
  EXPECT_EQ(ours.values.at("smtp_tls_security_level"), "encrypt");
  EXPECT_EQ(ours.values.at("tls_high_cipherlist"),
            absl::StrCat("xHIGHy:", directory, ":", directory));
}

// One expression at a time, with a = A and b empty: the same value, or the same refusal.
TEST(PostfixParametersTest, EachExpressionEqualsPostconfOrIsRefusedLikeIt) {
  if (!HavePostconf()) GTEST_SKIP() << kPostconf << " is not installed";
  const std::vector<std::string> expressions = {
      "${a?{ y }}",
      "x${a? y }z",
      "${a?{x} }q",
      "${a?{x}:{y} }",
      "${a?{x} :{y}}",
      "$$",
      "${{a}=={a}}",
      "${{a}!={a}}X",
      "${b?{x}:{$a}}",
      "${a:{x}:{y}}",
      "${a?x}}",
      "${a?{x}",
      "$(a?(b))",
      "$(a?{x}:y)",
      "${a${a}}",
      "${a?x:{y}}",
      "${ a }",
      "${a?}",
      "${b:}",
      "${{1}<{2}}",
      "${{x}}",
      "x${a",
      "x$",
      "x$-y",
      "${a b}",
      "${}",
      "${{2} <= {10}}",
      "${{2} <= {10a}}",
      "${{a} = {a}}",
      "${{a} == b}",
      "${a?{x}y}",
      "${a?{x}:{y}z}",
      "$a_b$a-c",
      "${a?$b$a}",
      "${b:${a:x}y}",
      "$(a:{x)}",
      "${a?{}}",
      "${b:{}}",
      "${{}=={}}",
      "${{$a}=={A}?ok}",
  };
  std::vector<std::string> configs;
  std::vector<std::string> directories;
  for (const std::string& expression : expressions) {
    configs.push_back(absl::StrCat("a = A\nb =\nsmtp_tls_ciphers = ", expression, "\n"));
    directories.push_back(WriteConfig(configs.back()));
  }
  const std::vector<Postconf> postconf = RunPostconf(directories);
  for (size_t i = 0; i < expressions.size(); ++i) {
    const Ours ours = Expand(directories[i], configs[i], {"smtp_tls_ciphers"});
    ASSERT_EQ(ours.status.ok(), postconf[i].ok) << expressions[i] << ": " << ours.status;
    if (!postconf[i].ok) {
      EXPECT_TRUE(absl::StrContains(ours.status.message(), "main.cf:3: smtp_tls_ciphers = "))
          << ours.status;
      continue;
    }
    EXPECT_EQ(ours.values.at("smtp_tls_ciphers"), postconf[i].values.at("smtp_tls_ciphers"))
        << expressions[i];
  }
}

// Postfix refuses more than 100 nested calls: a chain of 100 references is refused, 99 not.
TEST(PostfixParametersTest, NestingLimitAndLoopsAsPostfix) {
  if (!HavePostconf()) GTEST_SKIP() << kPostconf << " is not installed";
  std::vector<std::string> configs;
  for (int length : {99, 100}) {
    std::string main_cf = "smtp_tls_ciphers = $p0\n";
    for (int i = 0; i < length; ++i) absl::StrAppend(&main_cf, "p", i, " = $p", i + 1, "\n");
    absl::StrAppend(&main_cf, "p", length, " = high\n");
    configs.push_back(main_cf);
  }
  configs.push_back("smtp_tls_ciphers = x$a\na = $b\nb = ${a}\n");
  std::vector<std::string> directories;
  for (const std::string& config : configs) directories.push_back(WriteConfig(config));
  const std::vector<Postconf> postconf = RunPostconf(directories);
  EXPECT_TRUE(postconf[0].ok);
  EXPECT_FALSE(postconf[1].ok);
  EXPECT_FALSE(postconf[2].ok);
  for (size_t i = 0; i < configs.size(); ++i) {
    const Ours ours = Expand(directories[i], configs[i], {"smtp_tls_ciphers"});
    EXPECT_EQ(ours.status.ok(), postconf[i].ok) << i << ": " << ours.status;
  }
  const Ours loop = Expand(directories[2], configs[2], {"smtp_tls_ciphers"});
  EXPECT_TRUE(absl::StrContains(loop.status.message(), "main.cf:3: b = ${a}: the references loop"))
      << loop.status;
}

TEST(PostfixParametersTest, DefaultsUnsetNamesAndWhereValuesCameFrom) {
  ConfigWarnings warnings;
  PostfixParameters parameters("conf/main.cf", "conf", warnings);
  ASSERT_TRUE(parameters
                  .ReadMainCf("x = $nothing ${nothing?a}${nothing:b}\ny = $smtp_tls_ciphers\n"
                              "x = again $nothing\n")
                  .ok());
  EXPECT_EQ(*parameters.Get("x"), "again ");
  EXPECT_EQ(*parameters.Get("y"), "medium");  // Postfix 3.7's default.
  EXPECT_EQ(*parameters.Get("config_directory"), "conf");
  EXPECT_EQ(*parameters.Get("not_a_parameter"), "");
  EXPECT_EQ(parameters.Where("x").ToString(), "conf/main.cf:3");
  EXPECT_EQ(parameters.Where("smtp_tls_ciphers").ToString(), "conf/main.cf");
  parameters.Set("y", "high", "conf/master.cf", 9);  // A master.cf -o.
  EXPECT_EQ(*parameters.Get("y"), "high");
  EXPECT_EQ(parameters.Where("y").ToString(), "conf/master.cf:9");
  const std::vector<std::string> taken = warnings.Take();
  EXPECT_EQ(absl::StrJoin(taken, "\n"),
            "conf/main.cf:3: x overrides the value set at line 1 (Postfix uses the last one)\n"
            "conf/main.cf:3: $nothing (in x) is not set; expanded as empty");
}

// Found by the mta_config fuzzer: each parameter referring to the next one twice doubled the
// expansion at every level (2^40 bytes here). Names are expanded once and capped at 64 KiB.
TEST(PostfixParametersTest, ExponentialExpansionIsCutNotFollowed) {
  std::string main_cf = "top = $p0\n";
  for (int i = 0; i < 40; ++i)
    absl::StrAppend(&main_cf, "p", i, " = $p", i + 1, " $p", i + 1, "\n");
  main_cf += "p40 = high\n";
  ConfigWarnings warnings;
  PostfixParameters parameters("main.cf", ".", warnings);
  ASSERT_TRUE(parameters.ReadMainCf(main_cf).ok());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> value = parameters.Get("top");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->size(), 64u << 10);
  EXPECT_TRUE(absl::StrContains(absl::StrJoin(warnings.Take(), "\n"),
                                "expands to more than 65536 bytes; cut there"));
  // Nested relational operands restart Postfix's count (it would recurse until its stack ran
  // out): refused here.
  std::string deep = "x";
  for (int i = 0; i < 2000; ++i) deep = absl::StrCat("${{", deep, "}=={x}}");
  ConfigWarnings more;
  PostfixParameters hostile("main.cf", ".", more);
  ASSERT_TRUE(hostile.ReadMainCf(absl::StrCat("smtp_tls_ciphers = ", deep, "\n")).ok());
  absl::StatusOr<std::string> refused = hostile.Get("smtp_tls_ciphers");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "nested too deeply"));
}

}  // namespace
}  // namespace tlsweep::backends
