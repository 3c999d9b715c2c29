#include "backends/candidate/postfix_main_cf.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/protocol_set.h"
#include "backends/file_contents.h"
#include "backends/group_table.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

struct Parameter {
  std::string value;
  int line = 0;
};

// Parameters read and combined into the candidate.
const std::set<std::string>& ModelledParameters() {
  static const std::set<std::string> kModelled = {
      "smtp_tls_security_level",  "smtp_use_tls",
      "smtp_enforce_tls",         "smtp_tls_enforce_peername",
      "smtp_tls_ciphers",         "smtp_tls_mandatory_ciphers",
      "smtp_tls_protocols",       "smtp_tls_mandatory_protocols",
      "smtp_tls_exclude_ciphers", "smtp_tls_mandatory_exclude_ciphers",
      "tls_high_cipherlist",      "tls_medium_cipherlist",
      "tls_low_cipherlist",       "tls_export_cipherlist",
      "tls_null_cipherlist",      "tls_eecdh_auto_curves",
  };
  return kModelled;
}

// TLS parameters that change nothing a handshake offers.
bool Irrelevant(absl::string_view name) {
  return absl::StartsWith(name, "smtp_tls_session_cache") ||
         absl::StartsWith(name, "tls_random_") || name == "tls_daemon_random_bytes" ||
         name == "smtp_tls_loglevel" || name == "smtp_tls_note_starttls_offer" ||
         name == "tls_preempt_cipherlist" || name == "tls_eecdh_strong_curve" ||
         name == "tls_eecdh_ultra_curve" || name == "tls_append_default_CA" ||
         name == "tls_session_ticket_cipher" || name == "tls_fast_shutdown_enable";
}

std::string NotModelledReason(absl::string_view name) {
  if (name == "smtp_tls_policy_maps" || name == "smtp_tls_per_site") {
    return "per-destination TLS policies are not modelled: destinations listed there use their "
           "own level, ciphers and protocols";
  }
  if (name == "smtp_tls_CAfile" || name == "smtp_tls_CApath" ||
      name == "smtp_tls_trust_anchor_file") {
    return "not modelled: tlsweep verifies against --ca-file (default: the system bundle) and "
           "records the result without failing the handshake";
  }
  if (absl::StrContains(name, "cert_file") || absl::StrContains(name, "key_file") ||
      name == "smtp_tls_chain_files") {
    return "client certificates are not modelled: tlsweep presents none";
  }
  if (name == "smtp_tls_servername") {
    return "not modelled: tlsweep sends the MX host name as SNI";
  }
  if (name == "tls_ssl_options" || name == "tls_disable_workarounds") {
    return "OpenSSL options are not modelled";
  }
  if (name == "smtp_tls_eecdh_grade" || name == "smtpd_tls_eecdh_grade") {
    return "is a server (smtpd) setting: the SMTP client offers tls_eecdh_auto_curves";
  }
  if (name == "tls_config_file" || name == "tls_config_name") {
    return "not modelled: tlsweep uses the system OpenSSL configuration";
  }
  if (name == "smtp_tls_wrappermode") return "not modelled: tlsweep always uses STARTTLS";
  return "not modelled";
}

class MainCf {
 public:
  explicit MainCf(absl::string_view file_name) : file_name_(file_name) {}

  absl::Status Parse(absl::string_view content) {
    std::vector<absl::string_view> lines = absl::StrSplit(content, '\n');
    std::string logical;
    int logical_line = 0;
    auto flush = [&]() -> absl::Status {
      if (logical_line == 0) return absl::OkStatus();
      RETURN_IF_ERROR(Define(logical, logical_line));
      logical.clear();
      logical_line = 0;
      return absl::OkStatus();
    };
    for (size_t i = 0; i < lines.size(); ++i) {
      absl::string_view line = absl::StripSuffix(lines[i], "\r");
      absl::string_view stripped = absl::StripAsciiWhitespace(line);
      if (stripped.empty() || stripped[0] == '#') continue;
      if (absl::ascii_isspace(static_cast<unsigned char>(line[0]))) {
        if (logical_line == 0) {
          return Error(static_cast<int>(i + 1),
                       "continuation line (it starts with whitespace) without a parameter");
        }
        absl::StrAppend(&logical, " ", stripped);
        continue;
      }
      RETURN_IF_ERROR(flush());
      logical = std::string(stripped);
      logical_line = static_cast<int>(i + 1);
    }
    return flush();
  }

  bool Has(const std::string& name) const { return parameters_.count(name) > 0; }
  int LineOf(const std::string& name) const {
    auto it = parameters_.find(name);
    return it == parameters_.end() ? 0 : it->second.line;
  }
  const std::map<std::string, Parameter>& parameters() const { return parameters_; }

  // The parameter's value after $-expansion; the default when main.cf does not set it.
  std::string Get(const std::string& name) {
    std::set<std::string> active;
    return Expand(name, active);
  }

  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(file_name_, ":", line, ": ", message));
  }
  void Warn(int line, absl::string_view message) {
    warnings_.emplace_back(line, std::string(message));
  }
  // "file:line: message", in line order (file-wide ones first).
  std::vector<std::string> TakeWarnings() {
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (const auto& [line, message] : warnings_) {
      out.push_back(line > 0 ? absl::StrCat(file_name_, ":", line, ": ", message)
                             : absl::StrCat(file_name_, ": ", message));
    }
    warnings_.clear();
    return out;
  }

 private:
  absl::Status Define(absl::string_view text, int line) {
    const size_t equals = text.find('=');
    if (equals == absl::string_view::npos) {
      return Error(line, absl::StrCat("missing '=' after parameter name in '", text, "'"));
    }
    const std::string name(absl::StripAsciiWhitespace(text.substr(0, equals)));
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return Error(line, absl::StrCat("bad parameter name '", name, "'"));
    }
    auto [it, inserted] = parameters_.try_emplace(name);
    if (!inserted) {
      Warn(line, absl::StrCat(name, " overrides the value set at line ", it->second.line,
                              " (Postfix uses the last one)"));
    }
    it->second.value = std::string(absl::StripAsciiWhitespace(text.substr(equals + 1)));
    it->second.line = line;
    return absl::OkStatus();
  }

  std::string Raw(const std::string& name, bool* known) const {
    *known = true;
    if (auto it = parameters_.find(name); it != parameters_.end()) return it->second.value;
    if (auto it = PostfixDefaults().find(name); it != PostfixDefaults().end()) return it->second;
    *known = false;
    return "";
  }

  // Each name is expanded once (a value that refers to another twice, level after level, grew
  // exponentially: found by the mta_config fuzzer), and no value grows past kMaxExpansion.
  static constexpr size_t kMaxExpansion = 64 << 10;

  std::string Expand(const std::string& name, std::set<std::string>& active) {
    if (auto done = expanded_.find(name); done != expanded_.end()) return done->second;
    std::string out = ExpandOnce(name, active);
    if (out.size() > kMaxExpansion) {
      Warn(LineOf(name),
           absl::StrCat(name, " expands to more than ", kMaxExpansion, " bytes; cut there"));
      out.resize(kMaxExpansion);
    }
    // Cached even after a cycle was broken (its value then depends on where the expansion
    // started, a case Postfix itself refuses): without that, a chain looping back to its start
    // was expanded 2^n times again.
    expanded_[name] = out;
    return out;
  }

  std::string ExpandOnce(const std::string& name, std::set<std::string>& active) {
    bool known = false;
    const std::string raw = Raw(name, &known);  // Unknown names expand as empty.
    if (!active.insert(name).second) {
      if (warned_cycles_.insert(name).second) {
        Warn(LineOf(name), absl::StrCat("$", name, " refers to itself; expanded as empty"));
      }
      return "";
    }
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$' || i + 1 == raw.size()) {
        out.push_back(raw[i]);
        continue;
      }
      const char next = raw[i + 1];
      if (next == '$') {
        out.push_back('$');
        ++i;
        continue;
      }
      std::string ref;
      std::string alternative;
      char op = 0;
      if (next == '{' || next == '(') {
        const char close = next == '{' ? '}' : ')';
        const size_t end = raw.find(close, i + 2);
        if (end == std::string::npos || raw[i + 2] == '{') {
          Warn(LineOf(name), absl::StrCat("cannot evaluate the expression in ", name, " = ", raw,
                                          "; left as written"));
          out.append(raw.substr(i));
          break;
        }
        ref = raw.substr(i + 2, end - i - 2);
        if (size_t pos = ref.find_first_of("?:"); pos != std::string::npos) {
          op = ref[pos];
          alternative = ref.substr(pos + 1);
          ref = ref.substr(0, pos);
        }
        i = end;
      } else {
        size_t end = i + 1;
        while (end < raw.size() &&
               (absl::ascii_isalnum(static_cast<unsigned char>(raw[end])) || raw[end] == '_')) {
          ++end;
        }
        ref = raw.substr(i + 1, end - i - 1);
        i = end - 1;
      }
      bool ref_known = false;
      Raw(ref, &ref_known);
      std::string value;
      if (ref_known) {
        value = Expand(ref, active);
      } else if (op == 0) {
        Warn(LineOf(name),
             absl::StrCat("$", ref, " (in ", name, ") is not set in this file; expanded as empty"));
      }
      if (op == '?') {
        value = value.empty() ? "" : alternative;
      } else if (op == ':') {
        value = value.empty() ? alternative : "";
      }
      out.append(value);
      if (out.size() > kMaxExpansion) break;
    }
    active.erase(name);
    return out;
  }

  std::string file_name_;
  std::vector<std::pair<int, std::string>> warnings_;
  std::map<std::string, Parameter> parameters_;
  std::map<std::string, std::string> expanded_;
  std::set<std::string> warned_cycles_;
};

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, absl::ByAnyChar(" \t,:"), absl::SkipEmpty());
}

// Postfix's tls_proto_mask_lims(): exclusions, inclusions and bounds.
absl::Status ResolveProtocols(MainCf& cf, const std::string& parameter,
                              tlsweep::v1::TlsClientSettings& settings) {
  const std::string value = cf.Get(parameter);
  const int line = cf.LineOf(parameter);
  const std::vector<TlsVersion> tls = {TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                       TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  std::set<TlsVersion> include;
  std::set<TlsVersion> exclude;
  TlsVersion floor = TlsVersion::kTls1_0;
  TlsVersion ceiling = TlsVersion::kTls1_3;
  for (absl::string_view token :
       absl::StrSplit(value, absl::ByAnyChar(" \t,:"), absl::SkipEmpty())) {
    enum { kInclude, kExclude, kFloor, kCeiling } kind = kInclude;
    absl::string_view name = token;
    if (absl::ConsumePrefix(&name, "!")) {
      kind = kExclude;
    } else if (absl::ConsumePrefix(&name, ">=")) {
      kind = kFloor;
    } else if (absl::ConsumePrefix(&name, "<=")) {
      kind = kCeiling;
    }
    if (absl::EqualsIgnoreCase(name, "SSLv2")) {
      if (kind != kExclude) {
        cf.Warn(line, absl::StrCat(parameter, ": SSLv2 is not implemented by OpenSSL 3; ignored"));
      }
      continue;
    }
    absl::StatusOr<TlsVersion> version = ParseTlsVersion(name);
    if (!version.ok()) {
      return cf.Error(line, absl::StrCat(parameter, " = ", value, ": unknown protocol '", token,
                                         "' (Postfix refuses TLS with this setting)"));
    }
    switch (kind) {
      case kInclude:
        include.insert(*version);
        break;
      case kExclude:
        exclude.insert(*version);
        break;
      case kFloor:
        floor = std::max(*version, TlsVersion::kTls1_0);
        break;
      case kCeiling:
        ceiling = *version;
        break;
    }
  }
  std::vector<TlsVersion> enabled;
  for (TlsVersion version : tls) {
    if (version < floor || ceiling < version) continue;
    if (!include.empty() && include.count(version) == 0) continue;
    if (exclude.count(version) > 0) continue;
    enabled.push_back(version);
  }
  std::optional<OpensslVersionRange> range = ResolveOpensslVersions(enabled);
  if (!range) {
    return cf.Error(line, absl::StrCat(parameter, " = ", value,
                                       " leaves no TLS version enabled: every handshake fails"));
  }
  if (range->hole) cf.Warn(line, HoleWarning(parameter, enabled, *range));
  settings.set_min_version(VersionToProto(range->min));
  settings.set_max_version(VersionToProto(range->max));
  return absl::OkStatus();
}

}  // namespace

const std::map<std::string, std::string>& PostfixDefaults() {
  static const std::map<std::string, std::string> kDefaults = {
      {"smtp_tls_security_level", ""},
      {"smtp_use_tls", "no"},
      {"smtp_enforce_tls", "no"},
      {"smtp_tls_enforce_peername", "yes"},
      {"smtp_tls_ciphers", "medium"},
      {"smtp_tls_mandatory_ciphers", "medium"},
      {"smtp_tls_protocols", ">=TLSv1"},
      {"smtp_tls_mandatory_protocols", ">=TLSv1"},
      {"smtp_tls_exclude_ciphers", ""},
      {"smtp_tls_mandatory_exclude_ciphers", ""},
      {"tls_high_cipherlist", "aNULL:-aNULL:HIGH:@STRENGTH"},
      {"tls_medium_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"},
      {"tls_low_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"},
      {"tls_export_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"},
      {"tls_null_cipherlist", "eNULL:!aNULL"},
      {"tls_eecdh_auto_curves", "X25519 X448 prime256v1 secp521r1 secp384r1"},
  };
  return kDefaults;
}

absl::StatusOr<CandidateSet> ParsePostfixMainCf(absl::string_view content,
                                                absl::string_view file_name) {
  CandidateSet result;
  MainCf cf(file_name);
  RETURN_IF_ERROR(cf.Parse(content));

  // The security level, or what the pre-2.3 booleans mean.
  std::string level = absl::AsciiStrToLower(cf.Get("smtp_tls_security_level"));
  int level_line = cf.LineOf("smtp_tls_security_level");
  if (level.empty()) {
    auto yes = [&](const char* name) {
      const std::string value = absl::AsciiStrToLower(cf.Get(name));
      return value == "yes" || value == "true" || value == "1";
    };
    if (yes("smtp_enforce_tls")) {
      level = yes("smtp_tls_enforce_peername") ? "verify" : "encrypt";
      level_line = cf.LineOf("smtp_enforce_tls");
    } else if (yes("smtp_use_tls")) {
      level = "may";
      level_line = cf.LineOf("smtp_use_tls");
    } else {
      level = "none";
    }
  }
  static const std::set<std::string> kLevels = {"none", "may",       "encrypt", "fingerprint",
                                                "dane", "dane-only", "verify",  "secure"};
  if (kLevels.count(level) == 0) {
    return cf.Error(level_line, absl::StrCat("unknown smtp_tls_security_level '", level,
                                             "' (none, may, encrypt, dane, dane-only, "
                                             "fingerprint, verify, secure)"));
  }
  if (level == "none") {
    cf.Warn(level_line,
            "security level none: this Postfix sends without TLS; the candidate shows what the "
            "opportunistic (may) settings would offer");
  } else if (level == "dane") {
    cf.Warn(level_line,
            "security level dane: modelled as may (opportunistic), what it is for destinations "
            "without usable TLSA records; with TLSA records Postfix requires TLS and uses the "
            "mandatory ciphers and protocols");
  }
  const bool mandatory = level == "encrypt" || level == "fingerprint" || level == "dane-only" ||
                         level == "verify" || level == "secure";
  const bool must_match =
      level == "fingerprint" || level == "dane-only" || level == "verify" || level == "secure";

  tlsweep::v1::TlsClientSettings settings;
  settings.set_name("postfix");
  settings.set_backend("openssl");
  settings.set_source(std::string(file_name));
  settings.set_tls_required(mandatory);

  // Cipher grade, its list, then the exclusions.
  const std::string grade_parameter = mandatory ? "smtp_tls_mandatory_ciphers" : "smtp_tls_ciphers";
  const std::string grade = absl::AsciiStrToLower(cf.Get(grade_parameter));
  static const std::set<std::string> kGrades = {"export", "low", "medium", "high", "null"};
  if (kGrades.count(grade) == 0) {
    return cf.Error(cf.LineOf(grade_parameter),
                    absl::StrCat(grade_parameter, ": unknown cipher grade '", grade,
                                 "' (export, low, medium, high, null)"));
  }
  const std::string list_parameter = absl::StrCat("tls_", grade, "_cipherlist");
  std::string ciphers = cf.Get(list_parameter);
  std::vector<std::pair<std::string, std::string>> exclusions;  // (parameter, token)
  std::vector<std::string> exclusion_parameters = {"smtp_tls_exclude_ciphers"};
  if (mandatory) exclusion_parameters.push_back("smtp_tls_mandatory_exclude_ciphers");
  for (const std::string& parameter : exclusion_parameters) {
    for (const std::string& token : SplitList(cf.Get(parameter))) {
      if (absl::string_view("!+-@").find(token[0]) != absl::string_view::npos) {
        return cf.Error(cf.LineOf(parameter),
                        absl::StrCat(parameter, ": invalid unary '!+-@' in cipher exclusion '",
                                     token, "' (Postfix refuses TLS with this setting)"));
      }
      exclusions.emplace_back(parameter, token);
    }
  }
  if (must_match) exclusions.emplace_back("", "aNULL");
  for (const auto& [parameter, token] : exclusions) absl::StrAppend(&ciphers, ":!", token);
  settings.set_openssl_ciphers(ciphers);
  settings.set_legacy(absl::StrContains(ciphers, "@SECLEVEL=0"));

  RETURN_IF_ERROR(ResolveProtocols(
      cf, mandatory ? "smtp_tls_mandatory_protocols" : "smtp_tls_protocols", settings));

  for (const std::string& curve : SplitList(cf.Get("tls_eecdh_auto_curves"))) {
    absl::StatusOr<uint16_t> id = ParseGroup(curve);
    if (!id.ok()) {
      cf.Warn(cf.LineOf("tls_eecdh_auto_curves"),
              absl::StrCat("tls_eecdh_auto_curves: '", curve,
                           "' is not a group tlsweep knows; left out (Postfix skips curves "
                           "the library does not support)"));
      continue;
    }
    const std::string name = GroupName(*id);
    if (std::find(settings.groups().begin(), settings.groups().end(), name) ==
        settings.groups().end()) {
      settings.add_groups(name);
    }
  }

  for (const auto& [name, parameter] : cf.parameters()) {
    if (ModelledParameters().count(name) > 0 || Irrelevant(name)) continue;
    if (absl::StartsWith(name, "smtp_tls_") || absl::StartsWith(name, "tls_") ||
        name == "smtpd_tls_eecdh_grade") {
      cf.Warn(parameter.line, absl::StrCat(name, ": ", NotModelledReason(name)));
    } else if (absl::StartsWith(name, "lmtp_tls_")) {
      cf.Warn(parameter.line, absl::StrCat(name, ": LMTP deliveries are not modelled"));
    }
  }
  result.warnings = cf.TakeWarnings();
  result.candidates.push_back(std::move(settings));
  return result;
}

absl::StatusOr<CandidateSet> ReadPostfixMainCf(const std::string& path) {
  ASSIGN_OR_RETURN(std::string content, ReadFileContents(path));
  return ParsePostfixMainCf(content, path);
}

}  // namespace tlsweep::backends
