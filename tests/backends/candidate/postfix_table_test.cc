// Table sources and inline tables read as Postfix reads them: compared with `postmap -s`.
#include "backends/candidate/postfix_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::backends {
namespace {

// `postmap -s TABLE` for each table, all at once (postmap pauses a second or more for each
// warning and on stopping), as key -> value; nullopt where postmap refuses the table.
std::vector<std::optional<std::map<std::string, std::string>>> Postmap(
    const std::vector<std::string>& tables) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-postmap");
  std::string script;
  for (size_t i = 0; i < tables.size(); ++i) {
    absl::StrAppend(&script, "{ /usr/sbin/postmap -s ", testing::ShellQuote(tables[i]), " >", dir,
                    "/", i, ".out 2>/dev/null; echo $? >", dir, "/", i, ".rc; } &\n");
  }
  script += "wait\n";
  std::vector<std::optional<std::map<std::string, std::string>>> results(tables.size());
  absl::StatusOr<testing::CommandResult> run =
      testing::RunCommand(absl::StrCat("sh -c ", testing::ShellQuote(script)));
  if (!run.ok()) return results;
  for (size_t i = 0; i < tables.size(); ++i) {
    int exit_code = -1;
    std::ifstream rc(absl::StrCat(dir, "/", i, ".rc"));
    if (!(rc >> exit_code) || exit_code != 0) continue;
    std::ifstream out(absl::StrCat(dir, "/", i, ".out"));
    std::string line;
    std::map<std::string, std::string> entries;
    while (std::getline(out, line)) {
      std::pair<std::string, std::string> pair = absl::StrSplit(line, absl::MaxSplits('\t', 1));
      entries[pair.first] = pair.second;
    }
    results[i] = std::move(entries);
  }
  return results;
}

bool HavePostmap() {
  absl::StatusOr<testing::CommandResult> run =
      testing::RunCommand("test -x /usr/sbin/postmap && echo yes");
  return run.ok() && run->output == "yes\n";
}

std::map<std::string, std::string> AsMap(const std::vector<PostfixTableEntry>& entries) {
  std::map<std::string, std::string> map;
  for (const PostfixTableEntry& entry : entries) map[entry.key] = entry.value;
  return map;
}

constexpr char kSource[] =
    "# comment\n"
    "Example.COM   encrypt  protocols=>=TLSv1.2\n"
    "  ciphers=high\n"
    "\n"
    ".example.net\tsecure match=.example.net:example.net   \n"
    "example.com may\n"
    "[mx.example.org]:587 verify\n"
    "novalue\n"
    "after.novalue\n"
    "   continued value\n";

TEST(PostfixTableTest, SourceFilesReadAsPostmapReadsThem) {
  ConfigWarnings warnings;
  std::vector<PostfixTableEntry> entries = ParsePostfixTableSource(kSource, "tls_policy", warnings);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].key, "example.com");
  EXPECT_EQ(entries[0].value, "encrypt  protocols=>=TLSv1.2  ciphers=high");
  EXPECT_EQ(entries[0].where.ToString(), "tls_policy:2");
  EXPECT_EQ(entries[1].where.ToString(), "tls_policy:5");
  EXPECT_EQ(entries[3].key, "after.novalue");
  const std::string said = absl::StrJoin(warnings.Take(), "\n");
  EXPECT_TRUE(absl::StrContains(said, "tls_policy:6: duplicate entry \"example.com\"")) << said;
  EXPECT_TRUE(absl::StrContains(said, "tls_policy:8: expected format: key whitespace value"))
      << said;
  if (!HavePostmap()) GTEST_SKIP() << "postmap is not installed";
  const std::string path = testing::MakeTempDirectory("tlsweep-table") + "/tls_policy";
  std::ofstream(path) << kSource;
  std::optional<std::map<std::string, std::string>> postmap = Postmap({"texthash:" + path})[0];
  ASSERT_TRUE(postmap.has_value());
  EXPECT_EQ(AsMap(entries), *postmap);
}

TEST(PostfixTableTest, InlineTablesAsPostfixReadsThem) {
  const std::vector<std::string> tables = {
      "{ a.example=encrypt, {b.example = may ciphers=high}, { C.example = none } }",
      "{a=b,a=c}",
      "{ { k = v   w } , z=x}",
  };
  const std::vector<std::string> bad = {"{a=b", "{ x }", "{ {x} }", "a=b", "{}", "{a=b}{c=d}"};
  std::vector<std::string> inline_tables;
  for (const std::string& table : tables) inline_tables.push_back("inline:" + table);
  for (const std::string& table : bad) inline_tables.push_back("inline:" + table);
  std::vector<std::optional<std::map<std::string, std::string>>> postmap(inline_tables.size());
  if (HavePostmap()) postmap = Postmap(inline_tables);
  for (size_t i = 0; i < tables.size(); ++i) {
    absl::StatusOr<std::vector<PostfixTableEntry>> entries =
        ParsePostfixInlineTable(tables[i], SourceLine{"main.cf", 4});
    ASSERT_TRUE(entries.ok()) << tables[i] << ": " << entries.status();
    EXPECT_EQ(entries->front().where.ToString(), "main.cf:4");
    if (!HavePostmap()) continue;
    ASSERT_TRUE(postmap[i].has_value()) << tables[i];
    EXPECT_EQ(AsMap(*entries), *postmap[i]) << tables[i];
  }
  for (size_t i = 0; i < bad.size(); ++i) {
    absl::StatusOr<std::vector<PostfixTableEntry>> entries =
        ParsePostfixInlineTable(bad[i], SourceLine{"main.cf", 4});
    ASSERT_FALSE(entries.ok()) << bad[i];
    EXPECT_TRUE(absl::StartsWith(entries.status().message(), "main.cf:4: inline:")) << bad[i];
    EXPECT_FALSE(postmap[tables.size() + i].has_value()) << bad[i];
  }
}

TEST(PostfixTableTest, TablesThatCannotBeReadAreWarnedAbout) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-table");
  std::ofstream(dir + "/compiled.db") << "(Berkeley DB)";
  std::ofstream(dir + "/source") << "a.example may\n";
  ConfigWarnings warnings;
  const SourceLine where{"main.cf", 7};
  auto read = [&](const std::string& table, const PostfixFileAccess* files) {
    absl::StatusOr<std::vector<PostfixTableEntry>> entries =
        ReadPostfixTable(table, "smtp_tls_policy_maps", where, dir, files, warnings);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? entries->size() : 0;
  };
  EXPECT_EQ(read("hash:" + dir + "/compiled", &RealPostfixFiles()), 0u);
  EXPECT_EQ(read("proxy:lmdb:" + dir + "/source", &RealPostfixFiles()), 1u);
  EXPECT_EQ(read("texthash:source", &RealPostfixFiles()), 1u);  // Relative: config_directory.
  EXPECT_EQ(read("texthash:" + dir + "/missing", &RealPostfixFiles()), 0u);
  EXPECT_EQ(read("pcre:/etc/postfix/tls.pcre", &RealPostfixFiles()), 0u);
  EXPECT_EQ(read("texthash:" + dir + "/source", nullptr), 0u);
  const std::string said = absl::StrJoin(warnings.Take(), "\n");
  EXPECT_TRUE(
      absl::StrContains(said, absl::StrCat("main.cf:7: smtp_tls_policy_maps: per-destination "
                                           "policies in hash:",
                                           dir,
                                           "/compiled are not read: only the "
                                           "compiled ",
                                           dir, "/compiled.db is there")))
      << said;
  EXPECT_TRUE(absl::StrContains(said, "source.lmdb does not exist")) << said;
  EXPECT_TRUE(absl::StrContains(said, "/missing does not exist")) << said;
  EXPECT_TRUE(absl::StrContains(said, "not pcre: tables")) << said;
  EXPECT_TRUE(absl::StrContains(said, "parsed without reading other files")) << said;
  EXPECT_FALSE(
      ReadPostfixTable("nocolon", "smtp_tls_policy_maps", where, dir, nullptr, warnings).ok());
}

}  // namespace
}  // namespace tlsweep::backends
