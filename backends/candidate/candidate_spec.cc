#include "backends/candidate/candidate_spec.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/captured_hello.h"
#include "backends/candidate/protocol_set.h"
#include "backends/group_table.h"
#include "backends/status_macros.h"
#include "backends/tls_version.h"

namespace tlsweep::backends {
namespace {

// Splits on unquoted whitespace; quotes are removed from the words they delimit.
absl::StatusOr<std::vector<std::string>> SplitWords(absl::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      const size_t start = i;
      in_word = true;
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) ++i;
        word.push_back(text[i]);
      }
      if (i == text.size()) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated ",
                                                       c == '"' ? "double" : "single",
                                                       " quote in '", text.substr(start), "'"));
      }
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

absl::StatusOr<bool> ParseYesNo(absl::string_view key, absl::string_view value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "yes" || lower == "true" || lower == "1" || lower == "on") return true;
  if (lower == "no" || lower == "false" || lower == "0" || lower == "off") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(key, "=", value, ": expected yes or no (true/false, 1/0)"));
}

enum class TlsUse { kRequired, kOpportunistic, kDisabled };

absl::StatusOr<TlsUse> ParseTlsUse(absl::string_view value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "required" || lower == "encrypt" || lower == "yes") return TlsUse::kRequired;
  // "no" is Momentum's word for opportunistic here (as before): a spec that turns TLS off says
  // so with none or off.
  if (lower == "opportunistic" || lower == "ifavailable" || lower == "may" || lower == "no") {
    return TlsUse::kOpportunistic;
  }
  if (lower == "none" || lower == "off") return TlsUse::kDisabled;
  return absl::InvalidArgumentError(absl::StrCat(
      "tls=", value, ": expected required, opportunistic (ifavailable, may) or none (off)"));
}

bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '"' || c == '\\' ||
        c == '$' || c == '!' || c == '&' || c == ';' || c == '|' || c == '*' || c == '(' ||
        c == ')' || c == '<' || c == '>' || c == '`') {
      return true;
    }
  }
  return false;
}

// Single quotes unless the value holds one; both the spec parser and /bin/sh read the result.
std::string Quote(absl::string_view value) {
  if (!NeedsQuotes(value)) return std::string(value);
  if (!absl::StrContains(value, '\'')) return absl::StrCat("'", value, "'");
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

absl::Status ValidateCandidate(tlsweep::v1::TlsClientSettings& settings) {
  if (settings.backend().empty()) {
    const bool gnutls_only = !settings.gnutls_priority().empty() &&
                             settings.openssl_ciphers().empty() &&
                             settings.openssl_ciphersuites().empty();
    settings.set_backend(gnutls_only ? "gnutls" : "openssl");
  }
  if (settings.backend() == "openssl" || settings.backend() == kCapturedHelloBackend) {
    // rawhello (a captured ClientHello, backends/rawhello) takes explicit suite lists in the
    // OpenSSL fields.
    if (!settings.gnutls_priority().empty()) {
      return absl::InvalidArgumentError(
          "priority (a GnuTLS priority string) is set but backend is openssl: use ciphers= and "
          "ciphersuites= for OpenSSL, or backend=gnutls");
    }
  } else if (settings.backend() == "gnutls") {
    if (!settings.openssl_ciphers().empty() || !settings.openssl_ciphersuites().empty()) {
      return absl::InvalidArgumentError(
          "ciphers/ciphersuites (OpenSSL strings) are set but backend is gnutls: use priority= "
          "for GnuTLS, or backend=openssl");
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("backend '", settings.backend(),
                     "' is not known (openssl, gnutls, or rawhello for a captured hello)"));
  }
  const TlsVersion min = VersionFromProto(settings.min_version());
  const TlsVersion max = VersionFromProto(settings.max_version());
  if (min != TlsVersion::kUnknown && max != TlsVersion::kUnknown && max < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("min ", TlsVersionName(min), " is newer than max ", TlsVersionName(max)));
  }
  for (const std::string& group : settings.groups()) {
    RETURN_IF_ERROR(ParseGroup(group).status());
  }
  if (settings.tls_disabled() && settings.tls_required()) {
    return absl::InvalidArgumentError("TLS is both required and disabled");
  }
  for (tlsweep::v1::DomainOverride& entry : *settings.mutable_overrides()) {
    const std::string where = absl::StrCat(
        "override ", entry.scope().empty() ? absl::StrJoin(entry.domains(), " ") : entry.scope());
    if (entry.domains().empty()) return absl::InvalidArgumentError(where + ": no domain");
    for (const std::string& domain : entry.domains()) {
      if (domain.empty() || domain != absl::AsciiStrToLower(domain)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": '", domain, "' is not a lower-case domain"));
      }
    }
    tlsweep::v1::TlsClientSettings& own = *entry.mutable_settings();
    if (!own.overrides().empty()) {
      return absl::InvalidArgumentError(where + ": an override has overrides of its own");
    }
    if (own.name().empty()) own.set_name(settings.name());
    if (own.name() != settings.name()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": named '", own.name(), "', not the candidate's '", settings.name(), "'"));
    }
    if (absl::Status status = ValidateCandidate(own); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<tlsweep::v1::TlsClientSettings> ParseCandidateSpec(absl::string_view spec) {
  ASSIGN_OR_RETURN(std::vector<std::string> words, SplitWords(spec));
  if (words.empty()) return absl::InvalidArgumentError("empty candidate spec");
  tlsweep::v1::TlsClientSettings settings;
  settings.set_source("--candidate");
  // hello=FILE: a captured ClientHello (captured_hello.h) is the base; name= picks one of
  // several captures (or renames the only one), and the other keys override what it says.
  for (const std::string& word : words) {
    if (!absl::StartsWithIgnoreCase(word, "hello=")) continue;
    std::string name;
    for (const std::string& other : words) {
      if (absl::StartsWithIgnoreCase(other, "name=")) name = other.substr(5);
    }
    const std::string path = word.substr(6);
    absl::StatusOr<tlsweep::v1::TlsClientSettings> captured = ReadCapture(path, name);
    if (!captured.ok()) {  // Bad input, whatever the file's trouble: the user named it.
      return absl::InvalidArgumentError(absl::StrCat("hello=", captured.status().message()));
    }
    settings = *std::move(captured);
    settings.set_source(absl::StrCat("hello=", path));
  }
  std::set<std::string> seen;
  for (const std::string& word : words) {
    const size_t equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected key=value in candidate spec, got '", word, "'"));
    }
    const std::string key = absl::AsciiStrToLower(word.substr(0, equals));
    const std::string value = word.substr(equals + 1);
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat("key '", key, "' given twice"));
    }
    if (key == "hello") {
      continue;  // Read above.
    } else if (key == "name") {
      settings.set_name(value);
    } else if (key == "backend") {
      settings.set_backend(absl::AsciiStrToLower(value));
    } else if (key == "ciphers") {
      settings.set_openssl_ciphers(value);
    } else if (key == "ciphersuites") {
      settings.set_openssl_ciphersuites(value);
    } else if (key == "priority") {
      settings.set_gnutls_priority(value);
    } else if (key == "min" || key == "max") {
      absl::StatusOr<TlsVersion> version = ParseTlsVersion(value);
      if (!version.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(key, "=", value, ": ", version.status().message()));
      }
      if (key == "min") {
        settings.set_min_version(VersionToProto(*version));
      } else {
        settings.set_max_version(VersionToProto(*version));
      }
    } else if (key == "groups") {
      absl::StatusOr<std::vector<uint16_t>> groups = ParseGroupList(value);
      if (!groups.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("groups=", value, ": ", groups.status().message()));
      }
      for (uint16_t id : *groups) settings.add_groups(GroupName(id));
    } else if (key == "legacy") {
      ASSIGN_OR_RETURN(bool legacy, ParseYesNo(key, value));
      settings.set_legacy(legacy);
    } else if (key == "tls") {
      ASSIGN_OR_RETURN(TlsUse use, ParseTlsUse(value));
      settings.set_tls_required(use == TlsUse::kRequired);
      settings.set_tls_disabled(use == TlsUse::kDisabled);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown key '", key,
          "' in candidate spec (known: name, backend, ciphers, ciphersuites, priority, min, max, "
          "groups, legacy, tls, hello)"));
    }
  }
  if (absl::Status status = ValidateCandidate(settings); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidate '", settings.name(), "': ", status.message()));
  }
  return settings;
}

std::string FormatCandidateSpec(const tlsweep::v1::TlsClientSettings& settings) {
  std::vector<std::string> parts;
  if (!settings.name().empty()) parts.push_back(absl::StrCat("name=", Quote(settings.name())));
  if (!settings.backend().empty()) {
    parts.push_back(absl::StrCat("backend=", Quote(settings.backend())));
  }
  if (!settings.openssl_ciphers().empty()) {
    parts.push_back(absl::StrCat("ciphers=", Quote(settings.openssl_ciphers())));
  }
  if (!settings.openssl_ciphersuites().empty()) {
    parts.push_back(absl::StrCat("ciphersuites=", Quote(settings.openssl_ciphersuites())));
  }
  if (!settings.gnutls_priority().empty()) {
    parts.push_back(absl::StrCat("priority=", Quote(settings.gnutls_priority())));
  }
  if (settings.min_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    parts.push_back(absl::StrCat("min=", TlsVersionName(VersionFromProto(settings.min_version()))));
  }
  if (settings.max_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    parts.push_back(absl::StrCat("max=", TlsVersionName(VersionFromProto(settings.max_version()))));
  }
  if (!settings.groups().empty()) {
    parts.push_back(absl::StrCat("groups=", Quote(absl::StrJoin(settings.groups(), ":"))));
  }
  if (settings.legacy()) parts.push_back("legacy=yes");
  if (settings.tls_disabled()) {
    parts.push_back("tls=none");
  } else {
    parts.push_back(settings.tls_required() ? "tls=required" : "tls=opportunistic");
  }
  return absl::StrJoin(parts, " ");
}

}  // namespace tlsweep::backends
