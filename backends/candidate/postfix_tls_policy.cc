#include "backends/candidate/postfix_tls_policy.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

constexpr absl::string_view kSpace = " \t\r\n";

}  // namespace

bool IsPostfixTlsLevel(absl::string_view level) {
  static const std::set<std::string, std::less<>> kLevels = {
      "none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"};
  return kLevels.count(level) > 0;
}

bool PostfixLevelRequiresTls(absl::string_view level) {
  return level == "encrypt" || level == "fingerprint" || level == "dane-only" ||
         level == "verify" || level == "secure";
}

std::vector<std::string> SplitPostfixWords(absl::string_view text, absl::string_view separators) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && separators.find(text[pos]) != absl::string_view::npos) ++pos;
    if (pos == text.size()) break;
    const size_t start = pos;
    int depth = 0;
    for (; pos < text.size(); ++pos) {
      const char c = text[pos];
      if (c == '{') {
        ++depth;
      } else if (depth > 0 && c == '}') {
        --depth;
      } else if (depth == 0 && separators.find(c) != absl::string_view::npos) {
        break;
      }
    }
    words.emplace_back(text.substr(start, pos - start));
  }
  return words;
}

absl::StatusOr<std::pair<std::string, std::string>> SplitPostfixNameValue(
    absl::string_view word, bool normalize_whitespace) {
  std::string text(word);
  if (!text.empty() && text[0] == '{') {
    // extpar(): the group must close at the end of the word.
    int depth = 0;
    size_t close = std::string::npos;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '{') {
        ++depth;
      } else if (text[i] == '}' && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("missing '}' in \"", word, "\""));
    }
    if (close + 1 != text.size()) {
      return absl::InvalidArgumentError(absl::StrCat("syntax error after '}' in \"", word, "\""));
    }
    text = text.substr(1, close - 1);
    if (normalize_whitespace) {
      text = absl::StrJoin(absl::StrSplit(text, absl::ByAnyChar(kSpace), absl::SkipEmpty()), " ");
    }
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(text);
  if (rest.empty()) return absl::InvalidArgumentError("missing attribute name");
  size_t name_end = 0;
  while (name_end < rest.size() && rest[name_end] != '=' &&
         !absl::ascii_isspace(static_cast<unsigned char>(rest[name_end]))) {
    ++name_end;
  }
  const std::string name(rest.substr(0, name_end));
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(name_end));
  if (!absl::ConsumePrefix(&rest, "=")) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing '=' after attribute name in \"", word, "\""));
  }
  return std::make_pair(name, std::string(absl::StripAsciiWhitespace(rest)));
}

absl::StatusOr<PostfixTlsPolicy> ParsePostfixTlsPolicy(absl::string_view value,
                                                       absl::string_view key,
                                                       const SourceLine& where,
                                                       ConfigWarnings& warnings) {
  auto error = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat(where.ToString(), ": TLS policy for ", key, ": ", problem,
                     " (Postfix defers this destination's mail: client TLS configuration "
                     "problem)"));
  };
  std::vector<std::string> words = SplitPostfixWords(value);
  if (words.empty()) return error("empty policy");
  PostfixTlsPolicy policy;
  policy.where = where;
  policy.level = absl::AsciiStrToLower(words[0]);
  if (!IsPostfixTlsLevel(policy.level)) {
    return error(absl::StrCat("invalid security level \"", words[0],
                              "\" (none, may, encrypt, dane, dane-only, fingerprint, verify, "
                              "secure)"));
  }
  if (policy.level == "none") {
    for (size_t i = 1; i < words.size(); ++i) {
      warnings.Add(where, absl::StrCat("TLS policy for ", key, ": ignoring attribute \"", words[i],
                                       "\" with TLS disabled (as Postfix does)"));
    }
    return policy;
  }
  std::set<std::string> once;
  for (size_t i = 1; i < words.size(); ++i) {
    absl::StatusOr<std::pair<std::string, std::string>> pair =
        SplitPostfixNameValue(words[i], /*normalize_whitespace=*/true);
    if (!pair.ok()) {
      return error(absl::StrCat("malformed attribute/value pair \"", words[i],
                                "\": ", pair.status().message()));
    }
    const std::string name = absl::AsciiStrToLower(pair->first);
    const std::string& attribute = pair->second;
    const bool single =
        name == "ciphers" || name == "protocols" || name == "exclude" || name == "servername";
    if (single && !once.insert(name).second) {
      return error(absl::StrCat("attribute \"", name, "\" is specified multiple times"));
    }
    if (name == "ciphers") {
      if (attribute.empty()) return error("attribute \"ciphers\" has empty value");
      policy.grade = attribute;
    } else if (name == "protocols") {
      policy.protocols = attribute;
    } else if (name == "exclude") {
      policy.exclude = attribute;
    } else if (name == "match") {
      if (attribute.empty()) return error("attribute \"match\" has empty value");
      if (policy.level != "fingerprint" && policy.level != "verify" && policy.level != "secure") {
        return error(
            absl::StrCat("attribute \"match\" invalid at security level \"", policy.level, "\""));
      }
      warnings.Add(where, absl::StrCat("TLS policy for ", key,
                                       ": match= is not modelled (tlsweep records the "
                                       "certificate name check without failing the handshake)"));
    } else if (name == "tafile") {
      if (policy.level != "verify" && policy.level != "secure") {
        return error(
            absl::StrCat("attribute \"tafile\" invalid at security level \"", policy.level, "\""));
      }
      warnings.Add(where, absl::StrCat("TLS policy for ", key, ": tafile= is not modelled"));
    } else if (name == "servername") {
      warnings.Add(where, absl::StrCat("TLS policy for ", key,
                                       ": servername= is not modelled (tlsweep sends the MX "
                                       "host name as SNI)"));
    } else if (name == "connection_reuse") {
      const std::string lower = absl::AsciiStrToLower(attribute);
      if (lower != "yes" && lower != "no") {
        return error(
            absl::StrCat("attribute \"connection_reuse\" has bad value: \"", attribute, "\""));
      }
    } else if (name == "enable_rpk" || absl::StartsWith(name, "policy_") ||
               name == "mx_host_pattern") {
      warnings.Add(where, absl::StrCat("TLS policy for ", key, ": ", name,
                                       "= (a newer Postfix's attribute; Postfix 3.7 refuses it) "
                                       "is not modelled"));
    } else {
      return error(absl::StrCat("invalid attribute name: \"", pair->first, "\""));
    }
  }
  return policy;
}

}  // namespace tlsweep::backends
