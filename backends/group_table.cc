#include "backends/group_table.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace tlsweep::backends {
namespace {

struct Alias {
  absl::string_view alias;
  uint16_t id;
};

// Lower-case aliases used by OpenSSL and GnuTLS for the same groups.
constexpr Alias kAliases[] = {
    {"p-256", 23},      {"prime256v1", 23}, {"p-384", 24},      {"p-521", 25},
    {"x25519", 29},     {"x448", 30},       {"secp256r1", 23},  {"secp384r1", 24},
    {"secp521r1", 25},  {"ffdhe2048", 256}, {"ffdhe3072", 257}, {"ffdhe4096", 258},
    {"ffdhe6144", 259}, {"ffdhe8192", 260},
};

}  // namespace

const std::vector<GroupInfo>& AllGroups() {
  static const std::vector<GroupInfo> kGroups = {
      {23, "secp256r1"},  {24, "secp384r1"},  {25, "secp521r1"},  {29, "x25519"},
      {30, "x448"},       {256, "ffdhe2048"}, {257, "ffdhe3072"}, {258, "ffdhe4096"},
      {259, "ffdhe6144"}, {260, "ffdhe8192"},
  };
  return kGroups;
}

std::string GroupName(uint16_t id) {
  for (const GroupInfo& group : AllGroups()) {
    if (group.id == id) return std::string(group.iana_name);
  }
  return absl::StrFormat("group(0x%04x)", id);
}

absl::StatusOr<uint16_t> ParseGroup(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  if (lower.rfind("group-", 0) == 0) lower = lower.substr(6);
  for (const Alias& alias : kAliases) {
    if (alias.alias == lower) return alias.id;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown key-exchange group '", name,
                   "' (known: x25519, x448, secp256r1/P-256, secp384r1/P-384, secp521r1/P-521, "
                   "ffdhe2048..8192)"));
}

absl::StatusOr<std::vector<uint16_t>> ParseGroupList(absl::string_view list) {
  std::vector<uint16_t> groups;
  for (absl::string_view part :
       absl::StrSplit(list, absl::ByAnyChar(":,"), absl::SkipWhitespace())) {
    absl::StatusOr<uint16_t> id = ParseGroup(part);
    if (!id.ok()) return id.status();
    groups.push_back(*id);
  }
  return groups;
}

}  // namespace tlsweep::backends
