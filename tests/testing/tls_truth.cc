#include "tests/testing/tls_truth.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "tests/testing/loopback_block.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

using backends::CipherSuiteInfo;
using backends::TlsVersion;

enum class Verdict { kSupported, kRefused, kUntestable, kNoConnection, kTimeout, kToolFailed };

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSupported:
      return "supported";
    case Verdict::kRefused:
      return "refused";
    case Verdict::kUntestable:
      return "untestable (the tool cannot offer it)";
    case Verdict::kNoConnection:
      return "NO CONNECTION";
    case Verdict::kTimeout:
      return "TIMEOUT";
    case Verdict::kToolFailed:
      return "THE TOOL DID NOT RUN";
  }
  return "?";
}

struct Ran {
  std::string command;  // As run, for the record.
  int exit_code = -1;
  std::string output;
};

// stdout and stderr of `command`, "QUIT" on its stdin, bounded by timeout(1) (KILL two seconds
// after TERM) so that a hung server cannot hang a test.
Ran RunBounded(const std::string& command, absl::Duration timeout) {
  const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(timeout));
  Ran ran;
  ran.command = absl::StrCat("printf 'QUIT\\r\\n' | timeout -k 2 ", seconds, " ", command, " 2>&1");
  absl::StatusOr<CommandResult> result = RunCommand(ran.command);
  if (result.ok()) {
    ran.exit_code = result->exit_code;
    ran.output = std::move(result->output);
  }
  return ran;
}

bool TimedOut(int exit_code) { return exit_code == 124 || exit_code == 137; }

// Exit statuses of the shell when the tool is missing (127, 126) or could not be started.
bool ToolFailed(int exit_code) { return exit_code < 0 || exit_code == 126 || exit_code == 127; }

// The value after "prefix" on its own line of `output`, if any.
std::optional<std::string> LineValue(absl::string_view output, absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, prefix)) return std::string(line);
  }
  return std::nullopt;
}

std::string OpenSslVersionFlag(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls1_0:
      return "-tls1";
    case TlsVersion::kTls1_1:
      return "-tls1_1";
    case TlsVersion::kTls1_2:
      return "-tls1_2";
    case TlsVersion::kTls1_3:
      return "-tls1_3";
    default:
      return "";
  }
}

std::string GnuTlsVersion(TlsVersion version) {  // As in "+VERS-TLS1.2" and "(TLS1.2-X.509)".
  switch (version) {
    case TlsVersion::kTls1_0:
      return "TLS1.0";
    case TlsVersion::kTls1_1:
      return "TLS1.1";
    case TlsVersion::kTls1_2:
      return "TLS1.2";
    case TlsVersion::kTls1_3:
      return "TLS1.3";
    default:
      return "";
  }
}

// s_client: supported only after a finished handshake that carried our QUIT and the server's
// 221 (see the header); then `protocol` and `suite` are what its "Protocol version:" and
// "Ciphersuite:" lines name.
Verdict ReadOpenSsl(const Ran& ran, std::string& protocol, std::string& suite) {
  const std::string& out = ran.output;
  if (absl::StrContains(out, "Call to SSL_CONF_cmd") || absl::StrContains(out, "no cipher match") ||
      absl::StrContains(out, "Error with command") ||
      absl::StrContains(out, "no ciphers available") ||
      absl::StrContains(out, "no protocols available")) {
    return Verdict::kUntestable;
  }
  if (TimedOut(ran.exit_code)) return Verdict::kTimeout;
  if (ToolFailed(ran.exit_code)) return Verdict::kToolFailed;
  if (absl::StrContains(out, "connect:errno=")) return Verdict::kNoConnection;
  if (ran.exit_code != 0) return Verdict::kRefused;
  const size_t established = out.find("CONNECTION ESTABLISHED");
  if (established == std::string::npos) return Verdict::kRefused;
  const std::optional<std::string> version_line = LineValue(out, "Protocol version: ");
  const std::optional<std::string> suite_line = LineValue(out, "Ciphersuite: ");
  if (!version_line.has_value() || !suite_line.has_value()) return Verdict::kRefused;
  const absl::string_view after = absl::string_view(out).substr(established);
  if (!absl::StartsWith(after, "221") && !absl::StrContains(after, "\n221")) {
    return Verdict::kRefused;
  }
  protocol = *version_line;
  suite = *suite_line;
  return Verdict::kSupported;
}

// The truth's question: did the handshake complete with exactly this version (and suite)?
Verdict JudgeOpenSsl(const Ran& ran, TlsVersion version, absl::string_view expected_suite) {
  std::string protocol;
  std::string suite;
  const Verdict verdict = ReadOpenSsl(ran, protocol, suite);
  if (verdict != Verdict::kSupported) return verdict;
  if (protocol != backends::TlsVersionName(version)) return Verdict::kRefused;
  if (!expected_suite.empty() && suite != expected_suite) return Verdict::kRefused;
  return Verdict::kSupported;
}

// gnutls-cli: exit 0, "- Handshake was completed" and a Description with every token asked for.
Verdict JudgeGnuTls(const Ran& ran, const std::vector<std::string>& description_tokens) {
  const std::string& out = ran.output;
  if (absl::StrContains(out, "Syntax error at")) return Verdict::kUntestable;
  if (TimedOut(ran.exit_code)) return Verdict::kTimeout;
  if (ToolFailed(ran.exit_code)) return Verdict::kToolFailed;
  if (absl::StrContains(out, "Cannot connect") || absl::StrContains(out, "Could not connect")) {
    return Verdict::kNoConnection;
  }
  if (ran.exit_code != 0 || !absl::StrContains(out, "- Handshake was completed")) {
    return Verdict::kRefused;
  }
  const std::optional<std::string> description = LineValue(out, "- Description: ");
  if (!description.has_value()) return Verdict::kRefused;
  for (const std::string& token : description_tokens) {
    if (!absl::StrContains(*description, token)) return Verdict::kRefused;
  }
  return Verdict::kSupported;
}

// The pieces of a GnuTLS priority string (and of its "- Description:") for one suite, from its
// IANA name. nullopt for suites GnuTLS has no tokens for here (PSK, SRP, export...).
struct GnuTlsSuite {
  std::string kx;      // "ECDHE-RSA"; empty for TLS 1.3 suites.
  std::string cipher;  // "AES-256-GCM".
  std::string mac;     // "SHA1", or "AEAD".
};

std::optional<GnuTlsSuite> GnuTlsSuiteFor(const CipherSuiteInfo& suite) {
  absl::string_view name = suite.iana_name;
  if (!absl::ConsumePrefix(&name, "TLS_")) return std::nullopt;
  GnuTlsSuite result;
  absl::string_view rest = name;
  if (!backends::IsTls13Suite(suite.code_point)) {
    const size_t with = name.find("_WITH_");
    if (with == absl::string_view::npos) return std::nullopt;
    static constexpr std::pair<absl::string_view, absl::string_view> kKx[] = {
        {"RSA", "RSA"},
        {"DHE_RSA", "DHE-RSA"},
        {"DHE_DSS", "DHE-DSS"},
        {"ECDHE_RSA", "ECDHE-RSA"},
        {"ECDHE_ECDSA", "ECDHE-ECDSA"},
        {"DH_anon", "ANON-DH"},
        {"ECDH_anon", "ANON-ECDH"},
    };
    const absl::string_view kx = name.substr(0, with);
    for (const auto& [iana, gnutls] : kKx) {
      if (kx == iana) result.kx = std::string(gnutls);
    }
    if (result.kx.empty()) return std::nullopt;
    rest = name.substr(with + 6);
  }
  // Longest first: CCM_8 before CCM.
  static constexpr std::pair<absl::string_view, absl::string_view> kCiphers[] = {
      {"AES_128_CCM_8", "AES-128-CCM-8"},
      {"AES_256_CCM_8", "AES-256-CCM-8"},
      {"AES_128_CCM", "AES-128-CCM"},
      {"AES_256_CCM", "AES-256-CCM"},
      {"AES_128_GCM", "AES-128-GCM"},
      {"AES_256_GCM", "AES-256-GCM"},
      {"AES_128_CBC", "AES-128-CBC"},
      {"AES_256_CBC", "AES-256-CBC"},
      {"CAMELLIA_128_GCM", "CAMELLIA-128-GCM"},
      {"CAMELLIA_256_GCM", "CAMELLIA-256-GCM"},
      {"CAMELLIA_128_CBC", "CAMELLIA-128-CBC"},
      {"CAMELLIA_256_CBC", "CAMELLIA-256-CBC"},
      {"CHACHA20_POLY1305", "CHACHA20-POLY1305"},
      {"3DES_EDE_CBC", "3DES-CBC"},
      {"RC4_128", "ARCFOUR-128"},
  };
  for (const auto& [iana, gnutls] : kCiphers) {
    if (absl::ConsumePrefix(&rest, iana)) {
      result.cipher = std::string(gnutls);
      break;
    }
  }
  if (result.cipher.empty()) return std::nullopt;
  const bool aead = absl::StrContains(result.cipher, "GCM") ||
                    absl::StrContains(result.cipher, "CCM") ||
                    absl::StrContains(result.cipher, "POLY1305");
  if (aead) {
    result.mac = "AEAD";
  } else if (rest == "_SHA") {
    result.mac = "SHA1";
  } else if (rest == "_SHA256") {
    result.mac = "SHA256";
  } else if (rest == "_SHA384") {
    result.mac = "SHA384";
  } else if (rest == "_MD5") {
    result.mac = "MD5";
  } else {
    return std::nullopt;
  }
  return result;
}

struct Prober {
  const TlsTruthRequest& request;
  TlsTruth& truth;
  std::string endpoint;

  // No CA store: verification never decides a verdict (s_client goes on after a verify error),
  // and parsing the system bundle doubled the CPU time of every run.
  std::string OpenSslCommand(TlsVersion version, const std::string& selection) const {
    return absl::StrCat("openssl s_client -starttls smtp -name truth.tlsweep.test -connect ",
                        endpoint, " -brief -ign_eof -no-CAfile -no-CApath -no-CAstore ",
                        request.server_name.empty()
                            ? std::string("-noservername")
                            : absl::StrCat("-servername ", ShellQuote(request.server_name)),
                        " ", OpenSslVersionFlag(version), " ", selection);
  }

  std::string GnuTlsCommand(const std::string& priority, bool verbose = false) const {
    return absl::StrCat("gnutls-cli --starttls-proto smtp --insecure ", verbose ? "-V " : "",
                        "--port ", request.port, " ",
                        request.server_name.empty()
                            ? std::string("--disable-sni")
                            : absl::StrCat("--sni-hostname ", ShellQuote(request.server_name)),
                        " --priority ", ShellQuote(priority), " ", request.address);
  }

  Verdict Record(Verdict verdict, const Ran& ran) {
    truth.commands.push_back(
        absl::StrCat(ran.command, "\n    => exit ", ran.exit_code, ": ", VerdictName(verdict)));
    return verdict;
  }

  Verdict SuiteWithOpenSsl(TlsVersion version, const CipherSuiteInfo& suite) {
    if (suite.openssl_name.empty() || OpenSslVersionFlag(version).empty()) {
      return Verdict::kUntestable;
    }
    const std::string name(suite.openssl_name);
    const std::string selection = version == TlsVersion::kTls1_3
                                      ? absl::StrCat("-ciphersuites ", ShellQuote(name))
                                      : absl::StrCat("-cipher ", ShellQuote(name + "@SECLEVEL=0"));
    const Ran ran = RunBounded(OpenSslCommand(version, selection), request.command_timeout);
    return Record(JudgeOpenSsl(ran, version, name), ran);
  }

  Verdict SuiteWithGnuTls(TlsVersion version, const CipherSuiteInfo& suite) {
    const std::optional<GnuTlsSuite> parts = GnuTlsSuiteFor(suite);
    const std::string vers = GnuTlsVersion(version);
    if (!parts.has_value() || vers.empty()) return Verdict::kUntestable;
    // TLS 1.3 negotiates no key exchange by suite; the kx tokens only have to be valid.
    const std::string kx =
        parts->kx.empty() ? "+ECDHE-RSA:+ECDHE-ECDSA:+DHE-RSA" : absl::StrCat("+", parts->kx);
    // Below TLS 1.3, elliptic-curve groups only: like s_client, which advertises no FFDHE
    // group. A client that does (RFC 7919) is refused DHE by a server whose own group list
    // lacks them, while one that does not gets the server's DH parameters: the suite's truth
    // would depend on the tool.
    const std::string groups = version == TlsVersion::kTls1_3 ? "GROUP-ALL" : "GROUP-EC-ALL";
    const std::string priority =
        absl::StrCat("NONE:+VERS-", vers, ":+", parts->cipher, ":+", parts->mac, ":", kx,
                     ":+COMP-NULL:+SIGN-ALL:+", groups, ":+CTYPE-X509");
    std::vector<std::string> tokens = {absl::StrCat("(", vers, "-"),
                                       absl::StrCat("-(", parts->cipher, ")")};
    if (parts->mac != "AEAD") tokens.push_back(absl::StrCat("-(", parts->mac, ")"));
    if (parts->kx == "RSA") tokens.push_back(")-(RSA)-");
    if (absl::StartsWith(parts->kx, "ECDHE")) tokens.push_back("-(ECDHE-");
    if (absl::StartsWith(parts->kx, "DHE")) tokens.push_back("-(DHE-");
    const Ran ran = RunBounded(GnuTlsCommand(priority), request.command_timeout);
    return Record(JudgeGnuTls(ran, tokens), ran);
  }

  Verdict GroupWithOpenSsl(TlsVersion version, const std::string& group) {
    if (OpenSslVersionFlag(version).empty()) return Verdict::kUntestable;
    std::string selection = absl::StrCat("-groups ", ShellQuote(group));
    // In TLS 1.2 the group only matters to ECDHE suites: offer nothing else.
    if (version != TlsVersion::kTls1_3) absl::StrAppend(&selection, " -cipher 'ECDHE:@SECLEVEL=0'");
    const Ran ran = RunBounded(OpenSslCommand(version, selection), request.command_timeout);
    return Record(JudgeOpenSsl(ran, version, ""), ran);
  }

  Verdict GroupWithGnuTls(TlsVersion version, const std::string& group) {
    const std::string vers = GnuTlsVersion(version);
    if (vers.empty()) return Verdict::kUntestable;
    const std::string token = absl::AsciiStrToUpper(group);
    std::string priority = absl::StrCat("NORMAL:-VERS-ALL:+VERS-", vers);
    if (version != TlsVersion::kTls1_3)
      absl::StrAppend(&priority, ":-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA");
    absl::StrAppend(&priority, ":-GROUP-ALL:+GROUP-", token);
    const Ran ran = RunBounded(GnuTlsCommand(priority), request.command_timeout);
    return Record(JudgeGnuTls(ran, {absl::StrCat("(", vers, "-"), absl::StrCat("-", token, ")")}),
                  ran);
  }

  template <typename OpenSslTry, typename GnuTlsTry>
  Verdict Try(OpenSslTry openssl, GnuTlsTry gnutls) {
    switch (request.tool) {
      case TruthTool::kOpenSsl:
        return openssl();
      case TruthTool::kGnuTls:
        return gnutls();
      case TruthTool::kOpenSslThenGnuTls: {
        const Verdict verdict = openssl();
        return verdict == Verdict::kUntestable ? gnutls() : verdict;
      }
    }
    return Verdict::kUntestable;
  }
};

// The IANA name of the suite s_client names `name` (its own name below TLS 1.3).
std::string IanaNameOfOpenSslSuite(absl::string_view name, TlsVersion version) {
  for (const CipherSuiteInfo& suite : backends::AllCipherSuites()) {
    if (backends::IsTls13Suite(suite.code_point) == (version == TlsVersion::kTls1_3) &&
        (suite.openssl_name == name || suite.iana_name == name)) {
      return std::string(suite.iana_name);
    }
  }
  return "";
}

// s_client's "Server Temp Key:" as an IANA group name: "X25519, 253 bits" and
// "ECDH, prime256v1, 256 bits" name one; "DH, 2048 bits" (the server's own prime) does not.
std::string GroupOfOpenSslTempKey(absl::string_view output) {
  const std::optional<std::string> key = LineValue(output, "Server Temp Key: ");
  if (!key.has_value()) return "";
  std::vector<absl::string_view> fields = absl::StrSplit(*key, ", ");
  if (fields.empty()) return "";
  absl::string_view name = fields[0];
  if (name == "ECDH" && fields.size() > 1) name = fields[1];
  absl::StatusOr<uint16_t> id = backends::ParseGroup(name);
  return id.ok() ? backends::GroupName(*id) : "";
}

// The suite gnutls-cli -V names by its "- Key Exchange:", "- Cipher:" and "- MAC:" lines (the key
// exchange only below TLS 1.3, where it is part of the suite).
std::string IanaNameOfGnuTlsSuite(absl::string_view output, TlsVersion version) {
  const std::optional<std::string> kx = LineValue(output, "- Key Exchange: ");
  const std::optional<std::string> cipher = LineValue(output, "- Cipher: ");
  const std::optional<std::string> mac = LineValue(output, "- MAC: ");
  if (!cipher.has_value() || !mac.has_value()) return "";
  const bool tls13 = version == TlsVersion::kTls1_3;
  for (const CipherSuiteInfo& suite : backends::AllCipherSuites()) {
    if (backends::IsTls13Suite(suite.code_point) != tls13 || version < suite.min_version) continue;
    const std::optional<GnuTlsSuite> parts = GnuTlsSuiteFor(suite);
    if (!parts.has_value() || parts->cipher != *cipher || parts->mac != *mac) continue;
    if (!tls13 && parts->kx != kx.value_or("")) continue;
    return std::string(suite.iana_name);
  }
  return "";
}

// The group in gnutls-cli's "- Description:", "(TLS1.2-X.509)-(ECDHE-SECP256R1)-(RSA-SHA256)-...".
std::string GroupOfGnuTlsDescription(absl::string_view output) {
  const std::optional<std::string> description = LineValue(output, "- Description: ");
  if (!description.has_value()) return "";
  std::vector<absl::string_view> parts = absl::StrSplit(*description, ")-(");
  if (parts.size() < 2) return "";
  absl::string_view kx = parts[1];
  if (!absl::ConsumePrefix(&kx, "ECDHE-") && !absl::ConsumePrefix(&kx, "DHE-")) return "";
  absl::StatusOr<uint16_t> id = backends::ParseGroup(kx);
  return id.ok() ? backends::GroupName(*id) : "";
}

// What a verdict means for a single handshake: an answer (completed or not), or an error.
absl::Status HandshakeVerdictStatus(Verdict verdict, const Ran& ran) {
  switch (verdict) {
    case Verdict::kSupported:
    case Verdict::kRefused:
      return absl::OkStatus();
    case Verdict::kUntestable:
      return absl::InvalidArgumentError(
          absl::StrCat("the tool cannot offer this: ", ran.command, "\n", ran.output));
    default:
      return absl::UnavailableError(absl::StrCat(VerdictName(verdict), " (exit ", ran.exit_code,
                                                 "): ", ran.command, "\n", ran.output));
  }
}

bool IsEllipticCurveGroup(absl::string_view iana_name) {
  return absl::StartsWith(iana_name, "secp") || absl::StartsWith(iana_name, "x25519") ||
         absl::StartsWith(iana_name, "x448") || absl::StartsWith(iana_name, "brainpool");
}

}  // namespace

std::set<TlsVersion> TlsTruth::SupportedVersions() const {
  std::set<TlsVersion> result;
  for (const auto& [version, truth] : versions) {
    if (!truth.suites.empty()) result.insert(version);
  }
  return result;
}

std::string TlsTruth::Describe() const {
  std::string text;
  for (const auto& [version, truth] : versions) {
    absl::StrAppend(&text, backends::TlsVersionName(version), ": suites {",
                    absl::StrJoin(truth.suites, ", "), "} groups {",
                    absl::StrJoin(truth.groups, ", "), "}");
    if (!truth.untested_suites.empty() || !truth.untested_groups.empty()) {
      absl::StrAppend(&text, " untested {", absl::StrJoin(truth.untested_suites, ", "),
                      truth.untested_suites.empty() || truth.untested_groups.empty() ? "" : ", ",
                      absl::StrJoin(truth.untested_groups, ", "), "}");
    }
    absl::StrAppend(&text, "\n");
  }
  absl::StrAppend(&text, "commands:\n", absl::StrJoin(commands, "\n"), "\n");
  return text;
}

absl::StatusOr<TlsTruth> ProbeTlsTruth(const TlsTruthRequest& request) {
  if (!IsLoopbackAddress(request.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_truth only connects to 127.0.0.0/8, not ", request.address));
  }
  std::vector<const CipherSuiteInfo*> suites;
  for (const std::string& name : request.suites) {
    const CipherSuiteInfo* suite = backends::FindCipherSuiteByIanaName(name);
    if (suite == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown suite ", name));
    suites.push_back(suite);
  }
  std::vector<std::string> groups;
  for (const std::string& name : request.groups) {
    absl::StatusOr<uint16_t> id = backends::ParseGroup(name);
    if (!id.ok()) return id.status();
    groups.push_back(backends::GroupName(*id));
  }

  TlsTruth truth;
  Prober prober{request, truth, absl::StrCat(request.address, ":", request.port)};
  bool incomplete = false;
  for (TlsVersion version : request.versions) {
    if (version < TlsVersion::kTls1_0 || TlsVersion::kTls1_3 < version) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported version ", backends::TlsVersionName(version)));
    }
    VersionTruth& result = truth.versions[version];
    const bool tls13 = version == TlsVersion::kTls1_3;
    for (const CipherSuiteInfo* suite : suites) {
      if (backends::IsTls13Suite(suite->code_point) != tls13) continue;
      if (version < suite->min_version) continue;
      const Verdict verdict = prober.Try([&] { return prober.SuiteWithOpenSsl(version, *suite); },
                                         [&] { return prober.SuiteWithGnuTls(version, *suite); });
      if (verdict == Verdict::kSupported) result.suites.insert(std::string(suite->iana_name));
      if (verdict == Verdict::kUntestable) {
        result.untested_suites.insert(std::string(suite->iana_name));
      }
      incomplete |= verdict == Verdict::kNoConnection || verdict == Verdict::kTimeout ||
                    verdict == Verdict::kToolFailed;
    }
    for (const std::string& group : groups) {
      if (!tls13 && !IsEllipticCurveGroup(group)) {
        result.untested_groups.insert(group);  // TLS 1.2 finite-field DH is not probed.
        continue;
      }
      const Verdict verdict = prober.Try([&] { return prober.GroupWithOpenSsl(version, group); },
                                         [&] { return prober.GroupWithGnuTls(version, group); });
      if (verdict == Verdict::kSupported) result.groups.insert(group);
      if (verdict == Verdict::kUntestable) result.untested_groups.insert(group);
      incomplete |= verdict == Verdict::kNoConnection || verdict == Verdict::kTimeout ||
                    verdict == Verdict::kToolFailed;
    }
  }
  if (incomplete) {
    return absl::UnavailableError(absl::StrCat(
        "tls_truth: a command did not run, could not connect or timed out, so the truth for ",
        prober.endpoint, " is incomplete\n", truth.Describe()));
  }
  return truth;
}

absl::StatusOr<ToolHandshake> OpenSslHandshake(const TlsTruthRequest& request,
                                               const std::string& flags) {
  if (!IsLoopbackAddress(request.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_truth only connects to 127.0.0.0/8, not ", request.address));
  }
  TlsTruth unused;
  const Prober prober{request, unused, absl::StrCat(request.address, ":", request.port)};
  // No version flag: the flags say which versions, as the candidate does.
  const Ran ran =
      RunBounded(prober.OpenSslCommand(TlsVersion::kUnknown, flags), request.command_timeout);
  ToolHandshake handshake;
  handshake.command = ran.command;
  handshake.exit_code = ran.exit_code;
  handshake.output = ran.output;
  std::string protocol;
  std::string suite;
  const Verdict verdict = ReadOpenSsl(ran, protocol, suite);
  if (absl::Status status = HandshakeVerdictStatus(verdict, ran); !status.ok()) return status;
  if (verdict != Verdict::kSupported) return handshake;
  absl::StatusOr<TlsVersion> version = backends::ParseTlsVersion(protocol);
  if (!version.ok()) return version.status();
  handshake.completed = true;
  handshake.version = *version;
  handshake.suite = IanaNameOfOpenSslSuite(suite, *version);
  if (handshake.suite.empty()) {
    return absl::InternalError(absl::StrCat("s_client negotiated ", suite,
                                            ", which is not in the suite table: ", ran.command));
  }
  handshake.group = GroupOfOpenSslTempKey(ran.output);
  return handshake;
}

absl::StatusOr<ToolHandshake> GnuTlsHandshake(const TlsTruthRequest& request,
                                              const std::string& priority) {
  if (!IsLoopbackAddress(request.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_truth only connects to 127.0.0.0/8, not ", request.address));
  }
  TlsTruth unused;
  const Prober prober{request, unused, absl::StrCat(request.address, ":", request.port)};
  const Ran ran =
      RunBounded(prober.GnuTlsCommand(priority, /*verbose=*/true), request.command_timeout);
  ToolHandshake handshake;
  handshake.command = ran.command;
  handshake.exit_code = ran.exit_code;
  handshake.output = ran.output;
  const Verdict verdict = JudgeGnuTls(ran, {});
  if (absl::Status status = HandshakeVerdictStatus(verdict, ran); !status.ok()) return status;
  if (verdict != Verdict::kSupported) return handshake;
  const std::optional<std::string> protocol = LineValue(ran.output, "- Version: ");
  if (!protocol.has_value()) {
    return absl::InternalError(absl::StrCat("gnutls-cli -V named no version: ", ran.command));
  }
  absl::StatusOr<TlsVersion> version = backends::ParseTlsVersion(*protocol);
  if (!version.ok()) return version.status();
  handshake.completed = true;
  handshake.version = *version;
  handshake.suite = IanaNameOfGnuTlsSuite(ran.output, *version);
  if (handshake.suite.empty()) {
    return absl::InternalError(absl::StrCat(
        "cannot tell the suite gnutls-cli negotiated: ", ran.command, "\n", ran.output));
  }
  handshake.group = GroupOfGnuTlsDescription(ran.output);
  return handshake;
}

absl::StatusOr<std::vector<std::string>> OpenSslOfferableSuites(TlsVersion version) {
  std::string command;
  if (version == TlsVersion::kTls1_3) {
    std::vector<std::string> all;
    for (const CipherSuiteInfo& suite : backends::AllCipherSuites()) {
      if (backends::IsTls13Suite(suite.code_point) && !suite.openssl_name.empty()) {
        all.push_back(std::string(suite.openssl_name));
      }
    }
    command = absl::StrCat("openssl ciphers -s -stdname -tls1_3 -ciphersuites ",
                           ShellQuote(absl::StrJoin(all, ":")), " 'ALL:@SECLEVEL=0' 2>&1");
  } else {
    const std::string flag = OpenSslVersionFlag(version);
    if (flag.empty()) return std::vector<std::string>{};
    command = absl::StrCat("openssl ciphers -s -stdname ", flag,
                           " 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>&1");
  }
  absl::StatusOr<CommandResult> result = RunCommand(command);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(command, " exited ", result->exit_code, ": ", result->output));
  }
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(result->output, '\n', absl::SkipEmpty())) {
    const std::string iana(absl::StripAsciiWhitespace(line.substr(0, line.find(' '))));
    const CipherSuiteInfo* suite = backends::FindCipherSuiteByIanaName(iana);
    // PSK and SRP suites need credentials s_client is not given: it could not offer them.
    if (suite == nullptr || absl::StrContains(iana, "PSK") || absl::StrContains(iana, "SRP")) {
      continue;
    }
    if (backends::IsTls13Suite(suite->code_point) != (version == TlsVersion::kTls1_3)) continue;
    if (version < suite->min_version) continue;
    names.push_back(iana);
  }
  return names;
}

}  // namespace tlsweep::testing
