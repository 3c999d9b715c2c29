#include "backends/candidate/captured_hello.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/cipher_suite_table.h"
#include "backends/file_contents.h"
#include "backends/group_table.h"
#include "backends/tls_version.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

std::string Hex(uint16_t value) { return absl::StrFormat("0x%04x", value); }

// In the group table: a candidate can name it.
bool KnownGroup(uint16_t id) {
  const std::vector<GroupInfo>& all = AllGroups();
  return std::any_of(all.begin(), all.end(), [&](const GroupInfo& g) { return g.id == id; });
}

std::string HexList(const std::vector<uint16_t>& values) {
  std::vector<std::string> parts;
  for (uint16_t value : values) parts.push_back(Hex(value));
  return absl::StrJoin(parts, " ");
}

// The versions the client offers: supported_versions when present (unknown values, such as
// drafts, left out), else TLS 1.0 up to legacy_version (what a pre-TLS 1.3 client means).
std::vector<TlsVersion> OfferedVersions(const ClientHello& hello) {
  std::vector<TlsVersion> versions;
  const std::vector<TlsVersion>& all = AllTlsVersions();
  if (!hello.supported_versions.empty()) {
    for (TlsVersion v : hello.supported_versions) {
      if (std::find(all.begin(), all.end(), v) != all.end()) versions.push_back(v);
    }
  } else {
    for (TlsVersion v : all) {
      if (v >= TlsVersion::kTls1_0 && v <= hello.legacy_version) versions.push_back(v);
    }
    if (hello.legacy_version == TlsVersion::kSsl3) versions.push_back(TlsVersion::kSsl3);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace

tlsweep::v1::TlsClientSettings CandidateFromHello(const ClientHello& hello,
                                                  const CaptureOrigin& origin) {
  tlsweep::v1::TlsClientSettings settings;
  std::string who = origin.ehlo.empty() ? origin.peer : origin.ehlo;
  std::replace_if(
      who.begin(), who.end(),
      [](char c) {
        return !(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-');
      },
      '-');
  settings.set_name(absl::StrCat("hello-", who));
  settings.set_backend(kCapturedHelloBackend);
  std::vector<std::string> legacy, tls13;
  for (uint16_t suite : hello.cipher_suites) {
    (IsTls13Suite(suite) ? tls13 : legacy).push_back(Hex(suite));
  }
  settings.set_openssl_ciphers(absl::StrJoin(legacy, ":"));
  settings.set_openssl_ciphersuites(absl::StrJoin(tls13, ":"));
  const std::vector<TlsVersion> versions = OfferedVersions(hello);
  if (!versions.empty()) {
    settings.set_min_version(VersionToProto(versions.front()));
    settings.set_max_version(VersionToProto(versions.back()));
  }
  for (uint16_t group : hello.supported_groups) {
    if (KnownGroup(group)) settings.add_groups(GroupName(group));
  }
  settings.set_source("capture");
  return settings;
}

std::string FormatCapture(const ClientHello& hello, const CaptureOrigin& origin) {
  std::string out =
      absl::StrCat("# ClientHello from ", origin.peer, " at ",
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(origin.unix_ms),
                                    absl::UTCTimeZone()),
                   origin.ehlo.empty() ? "" : absl::StrCat(" (EHLO ", origin.ehlo, ")"), "\n");
  const std::vector<TlsVersion> versions = OfferedVersions(hello);
  std::vector<std::string> names;
  for (TlsVersion v : versions) names.emplace_back(TlsVersionName(v));
  std::vector<std::string> shares, unknown_groups;
  for (uint16_t group : hello.key_share_groups) shares.push_back(GroupName(group));
  for (uint16_t group : hello.supported_groups) {
    if (!KnownGroup(group)) unknown_groups.push_back(Hex(group));
  }
  absl::StrAppend(&out, "# ", hello.cipher_suites.size(), " suites; versions ",
                  absl::StrJoin(names, " "), "; key shares ",
                  shares.empty() ? "none" : absl::StrJoin(shares, " "),
                  hello.has_server_name ? "; sends SNI" : "; no SNI", "\n");
  absl::StrAppend(&out, "# signature_algorithms ", HexList(hello.signature_algorithms),
                  "\n# extensions ", absl::StrJoin(hello.extensions, " "), "\n");
  if (!unknown_groups.empty()) {
    absl::StrAppend(
        &out, "# groups left out (unknown to tlsweep): ", absl::StrJoin(unknown_groups, " "), "\n");
  }
  absl::StrAppend(
      &out,
      "# replayed by the rawhello backend: suites, versions and groups exactly; its own "
      "signature algorithms and extension order\n");
  absl::StrAppend(&out, FormatCandidateSpec(CandidateFromHello(hello, origin)), "\n");
  return out;
}

absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> ParseCaptures(absl::string_view text) {
  std::vector<tlsweep::v1::TlsClientSettings> captures;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (absl::StrContains(absl::AsciiStrToLower(line), "hello=")) {  // No file reads another.
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": a capture cannot name another (hello=)"));
    }
    absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = ParseCandidateSpec(line);
    if (!settings.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", settings.status().message()));
    }
    settings->set_source("capture");
    captures.push_back(*std::move(settings));
  }
  return captures;
}

absl::StatusOr<tlsweep::v1::TlsClientSettings> ReadCapture(const std::string& path,
                                                           const std::string& name) {
  absl::StatusOr<std::string> text = ReadFileContents(path, 1 << 20);  // Captures are small.
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> captures = ParseCaptures(*text);
  if (!captures.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", captures.status().message()));
  }
  if (captures->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no captured hello"));
  }
  if (captures->size() == 1) return captures->front();
  std::vector<std::string> names;
  for (const tlsweep::v1::TlsClientSettings& capture : *captures) {
    if (!name.empty() && capture.name() == name) return capture;
    names.push_back(capture.name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path,
                   name.empty() ? " holds several captured hellos"
                                : absl::StrCat(" has no hello named '", name, "'"),
                   " (", absl::StrJoin(names, ", "), "): say which with name=..."));
}

}  // namespace tlsweep::backends
