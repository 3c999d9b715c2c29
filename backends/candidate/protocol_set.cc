#include "backends/candidate/protocol_set.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::backends {

std::optional<OpensslVersionRange> ResolveOpensslVersions(const std::vector<TlsVersion>& enabled) {
  // Mirrors ssl_get_min_max_version(): walk from the newest version down; a disabled (or
  // unavailable) version opens a hole, and the next enabled one below it starts a new range.
  static const TlsVersion kNewestFirst[] = {TlsVersion::kTls1_3, TlsVersion::kTls1_2,
                                            TlsVersion::kTls1_1, TlsVersion::kTls1_0};
  OpensslVersionRange range;
  bool in_hole = true;
  int runs = 0;
  for (TlsVersion version : kNewestFirst) {
    const bool on = std::find(enabled.begin(), enabled.end(), version) != enabled.end();
    if (!on) {
      in_hole = true;
    } else if (!in_hole) {
      range.min = version;
    } else {
      if (runs == 0) range.enclosing_max = version;
      ++runs;
      range.max = version;
      range.min = version;
      in_hole = false;
    }
  }
  if (runs == 0) return std::nullopt;
  range.hole = runs > 1;
  return range;
}

std::string JoinVersionNames(const std::vector<TlsVersion>& versions) {
  std::vector<TlsVersion> sorted = versions;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return absl::StrJoin(sorted, ", ", [](std::string* out, TlsVersion version) {
    absl::StrAppend(out, TlsVersionName(version));
  });
}

std::string HoleWarning(absl::string_view setting, const std::vector<TlsVersion>& enabled,
                        const OpensslVersionRange& range) {
  return absl::StrCat(
      setting, " enables ", JoinVersionNames(enabled),
      " with a hole: OpenSSL applies it as SSL_OP_NO_* flags and a client then offers only the "
      "lowest contiguous range, ",
      TlsVersionName(range.min),
      range.min == range.max ? "" : absl::StrCat("-", TlsVersionName(range.max)), " (not up to ",
      TlsVersionName(range.enclosing_max), "); modelled as min=", TlsVersionName(range.min),
      " max=", TlsVersionName(range.max));
}

}  // namespace tlsweep::backends
