#include "backends/candidate/postfix_client_settings.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/protocol_set.h"
#include "backends/group_table.h"
#include "backends/status_macros.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

// A value and where it came from: a parameter (its file:line) or a policy attribute.
struct Setting {
  std::string value;
  SourceLine where;
  std::string label;  // "smtp_tls_ciphers", or "protocols= (TLS policy)".
};

absl::Status ErrorAt(const Setting& setting, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(setting.where.ToString(), ": ", message));
}

absl::StatusOr<Setting> FromParameter(PostfixParameters& parameters, const std::string& name) {
  ASSIGN_OR_RETURN(std::string value, parameters.Get(name));
  return Setting{std::move(value), parameters.Where(name), name};
}

Setting FromPolicy(const PostfixTlsPolicy& policy, const std::string& value,
                   absl::string_view attribute) {
  return Setting{value, policy.where, absl::StrCat(attribute, "= (TLS policy)")};
}

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, absl::ByAnyChar(" \t\r\n,:"), absl::SkipEmpty());
}

// Postfix's tls_proto_mask_lims(): exclusions, inclusions and bounds.
absl::Status ResolveProtocols(const Setting& setting, tlsweep::v1::TlsClientSettings& settings,
                              ConfigWarnings& warnings) {
  const std::vector<TlsVersion> tls = {TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                       TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  std::set<TlsVersion> include;
  std::set<TlsVersion> exclude;
  TlsVersion floor = TlsVersion::kTls1_0;
  TlsVersion ceiling = TlsVersion::kTls1_3;
  for (const std::string& token : SplitList(setting.value)) {
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
        warnings.Add(setting.where, absl::StrCat(setting.label,
                                                 ": SSLv2 is not implemented by OpenSSL 3; "
                                                 "ignored"));
      }
      continue;
    }
    absl::StatusOr<TlsVersion> version = ParseTlsVersion(name);
    if (!version.ok()) {
      return ErrorAt(
          setting, absl::StrCat(setting.label, " = ", setting.value, ": unknown protocol '", token,
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
    return ErrorAt(setting, absl::StrCat(setting.label, " = ", setting.value,
                                         " leaves no TLS version enabled: every handshake "
                                         "fails"));
  }
  if (range->hole) warnings.Add(setting.where, HoleWarning(setting.label, enabled, *range));
  settings.set_min_version(VersionToProto(range->min));
  settings.set_max_version(VersionToProto(range->max));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<tlsweep::v1::TlsClientSettings> PostfixClientSettings(PostfixParameters& parameters,
                                                                     const PostfixTlsPolicy& policy,
                                                                     ConfigWarnings& warnings) {
  const bool mandatory = PostfixLevelRequiresTls(policy.level);
  const bool must_match = mandatory && policy.level != "encrypt";
  tlsweep::v1::TlsClientSettings settings;
  settings.set_backend("openssl");
  settings.set_tls_required(mandatory);

  // Cipher grade, its list, then the exclusions.
  Setting grade;
  if (policy.grade) {
    grade = FromPolicy(policy, *policy.grade, "ciphers");
  } else {
    ASSIGN_OR_RETURN(grade, FromParameter(parameters, mandatory ? "smtp_tls_mandatory_ciphers"
                                                                : "smtp_tls_ciphers"));
  }
  const std::string grade_name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(grade.value));
  static const std::set<std::string> kGrades = {"export", "low", "medium", "high", "null"};
  if (kGrades.count(grade_name) == 0) {
    return ErrorAt(grade, absl::StrCat(grade.label, ": unknown cipher grade '", grade.value,
                                       "' (export, low, medium, high, null)"));
  }
  ASSIGN_OR_RETURN(Setting list,
                   FromParameter(parameters, absl::StrCat("tls_", grade_name, "_cipherlist")));
  std::string ciphers = list.value;
  std::vector<Setting> exclusions;
  if (policy.exclude) {
    exclusions.push_back(FromPolicy(policy, *policy.exclude, "exclude"));
  } else {
    ASSIGN_OR_RETURN(exclusions.emplace_back(),
                     FromParameter(parameters, "smtp_tls_exclude_ciphers"));
    if (mandatory) {
      ASSIGN_OR_RETURN(exclusions.emplace_back(),
                       FromParameter(parameters, "smtp_tls_mandatory_exclude_ciphers"));
    }
  }
  for (const Setting& exclusion : exclusions) {
    for (const std::string& token : SplitList(exclusion.value)) {
      if (absl::string_view("!+-@").find(token[0]) != absl::string_view::npos) {
        return ErrorAt(exclusion,
                       absl::StrCat(exclusion.label, ": invalid unary '!+-@' in cipher exclusion '",
                                    token, "' (Postfix refuses TLS with this setting)"));
      }
      absl::StrAppend(&ciphers, ":!", token);
    }
  }
  if (must_match) absl::StrAppend(&ciphers, ":!aNULL");
  if (policy.level == "encrypt" && absl::StrContains(ciphers, "eNULL")) {
    absl::StrAppend(&ciphers, ":!eNULL");
  }
  settings.set_openssl_ciphers(ciphers);
  settings.set_legacy(absl::StrContains(ciphers, "@SECLEVEL=0"));

  Setting protocols;
  if (policy.protocols) {
    protocols = FromPolicy(policy, *policy.protocols, "protocols");
  } else {
    ASSIGN_OR_RETURN(protocols, FromParameter(parameters, mandatory ? "smtp_tls_mandatory_protocols"
                                                                    : "smtp_tls_protocols"));
  }
  RETURN_IF_ERROR(ResolveProtocols(protocols, settings, warnings));

  ASSIGN_OR_RETURN(Setting curves, FromParameter(parameters, "tls_eecdh_auto_curves"));
  for (const std::string& curve : SplitList(curves.value)) {
    absl::StatusOr<uint16_t> id = ParseGroup(curve);
    if (!id.ok()) {
      warnings.Add(curves.where, absl::StrCat("tls_eecdh_auto_curves: '", curve,
                                              "' is not a group tlsweep knows; left out (Postfix "
                                              "skips curves the library does not support)"));
      continue;
    }
    const std::string name = GroupName(*id);
    if (std::find(settings.groups().begin(), settings.groups().end(), name) ==
        settings.groups().end()) {
      settings.add_groups(name);
    }
  }
  return settings;
}

}  // namespace tlsweep::backends
