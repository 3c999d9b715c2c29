#include "backends/candidate/postfix_main_cf.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/config_warnings.h"
#include "backends/candidate/postfix_client_settings.h"
#include "backends/candidate/postfix_master_cf.h"
#include "backends/candidate/postfix_tls_policy.h"
#include "backends/file_contents.h"
#include "backends/status_macros.h"
#include "backends/target/host_name.h"

namespace tlsweep::backends {
namespace {

constexpr char kCandidateName[] = "postfix";
constexpr char kPolicyMaps[] = "smtp_tls_policy_maps";

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
      "smtp_tls_policy_maps",
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

bool IsTlsParameter(absl::string_view name) {
  return absl::StartsWith(name, "smtp_tls_") || absl::StartsWith(name, "tls_") ||
         name == "smtp_use_tls" || name == "smtp_enforce_tls";
}

std::string NotModelledReason(absl::string_view name) {
  if (name == "smtp_tls_per_site") {
    return "per-destination TLS policies in the legacy per-site table are not modelled: "
           "destinations listed there use their own level";
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

// The -o overrides of the transport that delivers remote mail, over main.cf; other smtp client
// services that change TLS settings are warned about.
absl::Status ApplyMasterCf(const PostfixConfigInput& input, PostfixParameters& parameters,
                           ConfigWarnings& warnings) {
  ASSIGN_OR_RETURN(std::string default_transport, parameters.Get("default_transport"));
  std::string transport(absl::StripAsciiWhitespace(
      absl::string_view(default_transport).substr(0, default_transport.find(':'))));
  if (transport.empty()) transport = "smtp";
  if (transport != "smtp") {
    warnings.Add(parameters.Where("default_transport"),
                 absl::StrCat("default_transport = ", default_transport,
                              ": remote mail goes through the master.cf service '", transport,
                              "'; its -o overrides are applied"));
  }
  if (!input.master_cf) return absl::OkStatus();
  const std::string& file = input.master_cf_name;
  warnings.AddFile(file);
  ASSIGN_OR_RETURN(std::vector<PostfixService> services,
                   ParsePostfixMasterCf(*input.master_cf, file));
  bool found = false;
  for (const PostfixService& service : services) {
    if (service.type != "unix") continue;  // inet smtp is the server (smtpd): inbound.
    const bool client = service.command == "smtp" || service.command == "lmtp";
    if (service.name == transport) {
      found = true;
      if (service.command != "smtp") {
        warnings.Add(file, service.line,
                     absl::StrCat("service '", service.name, "' runs ", service.command,
                                  ", not the SMTP client: its -o overrides are not modelled"));
        continue;
      }
      parameters.SetComputed("service_name", service.name);
      for (const PostfixServiceOverride& option : service.overrides) {
        if (IsTlsParameter(option.name) && !Irrelevant(option.name)) {
          const PostfixParameters::Parameter* before = parameters.Find(option.name);
          warnings.Add(
              file, option.line,
              absl::StrCat("-o ", option.name, "=", option.value, " applies to the ", service.name,
                           " transport (over ",
                           before == nullptr ? std::string("the default")
                                             : absl::StrCat(before->file, ":", before->line),
                           ")"));
        }
        parameters.Set(option.name, option.value, file, option.line);
      }
      continue;
    }
    if (!client) continue;
    std::vector<std::string> tls;
    for (const PostfixServiceOverride& option : service.overrides) {
      if (IsTlsParameter(option.name) && !Irrelevant(option.name)) {
        tls.push_back(absl::StrCat(option.name, "=", option.value));
      }
    }
    if (!tls.empty()) {
      warnings.Add(file, service.line,
                   absl::StrCat("transport '", service.name, "' (", service.command, ") sets -o ",
                                absl::StrJoin(tls, " -o "),
                                ": not modelled; mail routed to it (transport_maps, "
                                "relay_transport, relayhost) uses those settings"));
    }
  }
  if (!found) {
    warnings.Add(file, 0,
                 absl::StrCat("no '", transport,
                              " unix ... smtp' service: Postfix cannot deliver remote mail "
                              "with this master.cf"));
  }
  return absl::OkStatus();
}

// The main.cf level, or what the pre-2.3 booleans mean.
absl::StatusOr<PostfixTlsPolicy> GlobalPolicy(PostfixParameters& parameters,
                                              ConfigWarnings& warnings) {
  PostfixTlsPolicy policy;
  ASSIGN_OR_RETURN(std::string level, parameters.Get("smtp_tls_security_level"));
  policy.level = absl::AsciiStrToLower(absl::StripAsciiWhitespace(level));
  policy.where = parameters.Where("smtp_tls_security_level");
  if (policy.level.empty()) {
    auto yes = [&](const char* name) -> absl::StatusOr<bool> {
      ASSIGN_OR_RETURN(std::string value, parameters.Get(name));
      value = absl::AsciiStrToLower(value);
      return value == "yes" || value == "true" || value == "1";
    };
    ASSIGN_OR_RETURN(bool enforce, yes("smtp_enforce_tls"));
    ASSIGN_OR_RETURN(bool use, yes("smtp_use_tls"));
    if (enforce) {
      ASSIGN_OR_RETURN(bool peername, yes("smtp_tls_enforce_peername"));
      policy.level = peername ? "verify" : "encrypt";
      policy.where = parameters.Where("smtp_enforce_tls");
    } else if (use) {
      policy.level = "may";
      policy.where = parameters.Where("smtp_use_tls");
    } else {
      policy.level = "none";
    }
  }
  if (!IsPostfixTlsLevel(policy.level)) {
    return absl::InvalidArgumentError(
        absl::StrCat(policy.where.ToString(), ": unknown smtp_tls_security_level '", policy.level,
                     "' (none, may, encrypt, dane, dane-only, fingerprint, verify, secure)"));
  }
  if (policy.level == "none") {
    warnings.Add(policy.where,
                 "security level none: this Postfix sends without TLS; the candidate shows what "
                 "the opportunistic (may) settings would offer");
  } else if (policy.level == "dane") {
    warnings.Add(policy.where,
                 "security level dane: modelled as may (opportunistic), what it is for "
                 "destinations without usable TLSA records; with TLSA records Postfix requires "
                 "TLS and uses the mandatory ciphers and protocols");
  }
  return policy;
}

// The destinations of smtp_tls_policy_maps as overrides of `candidate`.
absl::Status AddPolicyOverrides(const PostfixConfigInput& input, const std::string& directory,
                                PostfixParameters& parameters,
                                tlsweep::v1::TlsClientSettings& candidate,
                                ConfigWarnings& warnings) {
  ASSIGN_OR_RETURN(std::string maps, parameters.Get(kPolicyMaps));
  if (absl::StripAsciiWhitespace(maps).empty()) return absl::OkStatus();
  const SourceLine where = parameters.Where(kPolicyMaps);
  if (parameters.IsSet("smtp_tls_per_site")) {
    warnings.Add(parameters.Where("smtp_tls_per_site"),
                 "smtp_tls_per_site is ignored when smtp_tls_policy_maps is set (as Postfix "
                 "does)");
  }
  std::set<std::string> keys;  // Of duplicate keys across tables, the first table's counts.
  for (const std::string& table : SplitPostfixWords(maps)) {
    ASSIGN_OR_RETURN(std::vector<PostfixTableEntry> entries,
                     ReadPostfixTable(table, kPolicyMaps, where, directory, input.files, warnings));
    for (const PostfixTableEntry& entry : entries) {
      std::string key = entry.key;
      const bool next_hop = absl::StartsWith(key, "[") || absl::StrContains(key, ':');
      if (!next_hop) {
        absl::string_view name = key;
        const bool parent = absl::ConsumePrefix(&name, ".");
        absl::StatusOr<std::string> normal = NormalizeHostName(name);
        if (!normal.ok()) {
          warnings.AddRepeated(entry.where, "keys that are not domains",
                               absl::StrCat("TLS policy key '", key, "' is not a domain (",
                                            normal.status().message(), "); not modelled"));
          continue;
        }
        key = parent ? absl::StrCat(".", *normal) : *normal;
      }
      if (!keys.insert(key).second) continue;
      ASSIGN_OR_RETURN(PostfixTlsPolicy policy,
                       ParsePostfixTlsPolicy(entry.value, key, entry.where, warnings));
      tlsweep::v1::DomainOverride& added = *candidate.add_overrides();
      added.add_domains(key);
      added.set_next_hop(next_hop);
      added.set_scope(absl::StrCat(kPolicyMaps, " ", key, " (", entry.where.ToString(), ")"));
      tlsweep::v1::TlsClientSettings& settings = *added.mutable_settings();
      if (policy.level == "none") {
        settings = candidate;
        settings.clear_overrides();
        settings.set_tls_required(false);
        settings.set_tls_disabled(true);
      } else {
        if (policy.level == "dane") {
          warnings.AddRepeated(entry.where, "level dane",
                               absl::StrCat("TLS policy for ", key,
                                            ": level dane modelled as may (no usable TLSA "
                                            "records)"));
        }
        ASSIGN_OR_RETURN(settings, PostfixClientSettings(parameters, policy, warnings));
        settings.set_name(candidate.name());
        settings.set_source(candidate.source());
      }
      if (next_hop) {
        warnings.AddRepeated(entry.where, "next-hop keys",
                             absl::StrCat("TLS policy key ", key,
                                          " is a next hop, not a domain: it applies to mail a "
                                          "transport or relayhost sends there; recorded, never "
                                          "matched to a domain"));
      }
    }
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::StatusOr<CandidateSet> ParsePostfixConfig(const PostfixConfigInput& input) {
  ConfigWarnings warnings;
  warnings.AddFile(input.main_cf_name);
  const std::string directory = DirectoryOf(input.main_cf_name);
  PostfixParameters parameters(input.main_cf_name, directory, warnings);
  RETURN_IF_ERROR(parameters.ReadMainCf(input.main_cf));
  RETURN_IF_ERROR(ApplyMasterCf(input, parameters, warnings));
  ASSIGN_OR_RETURN(std::string relayhost, parameters.Get("relayhost"));
  if (!absl::StripAsciiWhitespace(relayhost).empty()) {
    warnings.Add(parameters.Where("relayhost"),
                 absl::StrCat("relayhost = ", relayhost,
                              ": Postfix sends all remote mail there (and looks up its TLS "
                              "policy under that next hop), not to the recipient domains' MX "
                              "hosts that tlsweep probes"));
  }
  for (const char* name : {"transport_maps", "sender_dependent_default_transport_maps"}) {
    ASSIGN_OR_RETURN(std::string value, parameters.Get(name));
    if (!absl::StripAsciiWhitespace(value).empty()) {
      warnings.Add(parameters.Where(name),
                   absl::StrCat(name,
                                ": per-domain transports are not modelled: domains routed to a "
                                "transport with its own master.cf -o TLS settings use those"));
    }
  }

  ASSIGN_OR_RETURN(PostfixTlsPolicy global, GlobalPolicy(parameters, warnings));
  ASSIGN_OR_RETURN(tlsweep::v1::TlsClientSettings settings,
                   PostfixClientSettings(parameters, global, warnings));
  settings.set_name(kCandidateName);
  settings.set_source(input.main_cf_name);
  RETURN_IF_ERROR(AddPolicyOverrides(input, directory, parameters, settings, warnings));

  for (const auto& [name, parameter] : parameters.set()) {
    if (ModelledParameters().count(name) > 0 || Irrelevant(name)) continue;
    if (IsTlsParameter(name) || name == "smtpd_tls_eecdh_grade") {
      warnings.Add(parameter.file, parameter.line,
                   absl::StrCat(name, ": ", NotModelledReason(name)));
    } else if (absl::StartsWith(name, "lmtp_tls_")) {
      warnings.Add(parameter.file, parameter.line,
                   absl::StrCat(name, ": LMTP deliveries are not modelled"));
    }
  }
  CandidateSet result;
  result.name = kCandidateName;
  result.candidates.push_back(std::move(settings));
  result.warnings = warnings.Take();
  return result;
}

absl::StatusOr<CandidateSet> ParsePostfixMainCf(absl::string_view content,
                                                absl::string_view file_name) {
  PostfixConfigInput input;
  input.main_cf = content;
  input.main_cf_name = std::string(file_name);
  return ParsePostfixConfig(input);
}

absl::StatusOr<CandidateSet> ReadPostfixMainCf(const std::string& path,
                                               std::optional<std::string> content) {
  if (!content) {
    ASSIGN_OR_RETURN(content, ReadFileContents(path));
  }
  PostfixConfigInput input;
  input.main_cf = *content;
  input.main_cf_name = path;
  input.files = &RealPostfixFiles();
  const std::string master = absl::StrCat(DirectoryOf(path), "/master.cf");
  if (RealPostfixFiles().modified(master)) {
    ASSIGN_OR_RETURN(input.master_cf, ReadFileContents(master));
    input.master_cf_name = master;
  }
  return ParsePostfixConfig(input);
}

}  // namespace tlsweep::backends
