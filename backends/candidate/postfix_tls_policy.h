// A Postfix TLS policy for one destination, as written in smtp_tls_policy_maps
// ("encrypt protocols=>=TLSv1.2 ciphers=high exclude=3DES:RC4") or by smtp_tls_security_level
// alone, and the level names Postfix 3.7 knows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/config_warnings.h"

namespace tlsweep::backends {

struct PostfixTlsPolicy {
  std::string
      level;  // Lower case: none, may, encrypt, dane, dane-only, fingerprint, verify, secure.
  // Attributes that change the handshake; unset: the main.cf parameter for the level.
  std::optional<std::string> grade;      // ciphers=
  std::optional<std::string> protocols;  // protocols=
  std::optional<std::string> exclude;    // exclude=: replaces main.cf's exclusion lists.
  SourceLine where;                      // The table line (or the parameter) it was read from.
};

bool IsPostfixTlsLevel(absl::string_view level);
// encrypt and above: a failed handshake defers the mail (dane counts as may: see
// PostfixClientSettings).
bool PostfixLevelRequiresTls(absl::string_view level);

// Parses a policy table value the way smtp(8) does (tls_policy_lookup_one): the level, then
// attributes separated by whitespace or commas, `{ name = value }` for a value with spaces.
// Attributes that do not change what is offered (match, tafile, servername, connection_reuse,
// and newer Postfix's enable_rpk and policy_*) are warned about at `where`; at level none every
// attribute is ignored (warned, as Postfix does). Errors, with `where` and `key`: an empty
// policy, an unknown level or attribute, a malformed or repeated attribute, match= at a level
// that does not match names - where Postfix defers the destination's mail ("client TLS
// configuration problem").
absl::StatusOr<PostfixTlsPolicy> ParsePostfixTlsPolicy(absl::string_view value,
                                                       absl::string_view key,
                                                       const SourceLine& where,
                                                       ConfigWarnings& warnings);

// Postfix's mystrtokq(): words separated by any of `separators` (whitespace and commas for
// policies and maps lists), where a {...} group keeps its separators (an unclosed '{' runs to
// the end).
std::vector<std::string> SplitPostfixWords(absl::string_view text,
                                           absl::string_view separators = " \t\r\n,");

// A `{ name = value }` word: braces stripped, the name and value trimmed around '=' (Postfix's
// extpar + split_nameval); `normalize_whitespace` also makes inner whitespace runs single
// spaces, as policy tables do. Also `name=value`.
absl::StatusOr<std::pair<std::string, std::string>> SplitPostfixNameValue(
    absl::string_view word, bool normalize_whitespace = false);

}  // namespace tlsweep::backends
