#include "backends/candidate/ecelerity_config.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/config_warnings.h"
#include "backends/candidate/protocol_set.h"
#include "backends/file_contents.h"
#include "backends/group_table.h"
#include "backends/status_macros.h"
#include "backends/target/host_name.h"
#include "google/protobuf/util/message_differencer.h"

namespace tlsweep::backends {
namespace {

struct Option {
  std::string value;
  int line = 0;
};

struct Scope {
  std::string kind;  // Lower case: "global", "domain", "binding", "esmtp_listener"...
  std::string name;
  int line = 0;
  const Scope* parent = nullptr;
  std::map<std::string, Option> options;  // Lower-case option names.
  std::vector<std::unique_ptr<Scope>> children;
};

// Outbound TLS options valid in Domain, Binding and Binding_Group scopes as well as globally.
const std::set<std::string>& ScopedOptions() {
  static const std::set<std::string> kScoped = {"tls", "tls_ciphers", "tls_protocols",
                                                "tlsv13_ciphersuites", "tls_ifavailable_fallback"};
  return kScoped;
}

// Options Momentum reads in the global scope only.
const std::set<std::string>& GlobalOnlyOptions() {
  static const std::set<std::string> kGlobal = {"tls_engine", "tls_ec_curve_names",
                                                "tls_enable_dhe_ciphers"};
  return kGlobal;
}

bool IsOutboundScope(absl::string_view kind) {
  return kind == "domain" || kind == "binding" || kind == "binding_group";
}

bool IsTlsOption(absl::string_view name) { return absl::StartsWith(name, "tls"); }

std::string NotModelledReason(absl::string_view name) {
  if (name == "tls_verify") {
    return "not modelled: tlsweep records certificate verification (trusted, hostname_match) "
           "without failing the handshake";
  }
  if (name == "tls_ca") return "not modelled: tlsweep verifies against --ca-file";
  if (name == "tls_certificate" || name == "tls_key") {
    return "client certificates are not modelled: tlsweep presents none";
  }
  if (name == "tls_dhparams_file" || name == "tls_client_ca") {
    return "is a server (inbound) setting; ignored";
  }
  return "not modelled";
}

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view file_name)
      : text_(text), file_name_(file_name) {}

  absl::Status Parse(Scope& global) { return ParseBody(global, /*until_brace=*/false); }

  static constexpr int kMaxDepth = 64;
  int depth_ = 0;

  std::vector<std::pair<int, std::string>>& warnings() { return warnings_; }

 private:
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(file_name_, ":", line, ": ", message));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  void Advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  // Whitespace, newlines and # comments.
  void SkipAll() {
    while (!AtEnd()) {
      if (Peek() == '#') {
        while (!AtEnd() && Peek() != '\n') Advance();
      } else if (absl::ascii_isspace(static_cast<unsigned char>(Peek()))) {
        Advance();
      } else {
        return;
      }
    }
  }
  void SkipBlanks() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\r')) Advance();
  }

  static bool IsWordChar(char c) {
    return c != '\0' && !absl::ascii_isspace(static_cast<unsigned char>(c)) && c != '=' &&
           c != '{' && c != '}' && c != '(' && c != ')' && c != '"' && c != '\'' && c != '#';
  }
  std::string ReadWord() {
    const size_t start = pos_;
    while (IsWordChar(Peek())) Advance();
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::StatusOr<std::string> ReadQuoted() {
    const char quote = Peek();
    const int start_line = line_;
    Advance();
    std::string out;
    while (!AtEnd() && Peek() != quote) {
      if (quote == '"' && Peek() == '\\' && pos_ + 1 < text_.size()) Advance();
      out.push_back(Peek());
      Advance();
    }
    if (AtEnd()) return Error(start_line, "unterminated quoted string");
    Advance();
    return out;
  }

  absl::StatusOr<std::string> ReadValue() {
    SkipBlanks();
    if (Peek() == '"' || Peek() == '\'') return ReadQuoted();
    if (Peek() == '(') {
      const int start_line = line_;
      Advance();
      std::vector<std::string> items;
      while (true) {
        SkipAll();
        if (AtEnd()) return Error(start_line, "unterminated ( list");
        if (Peek() == ')') {
          Advance();
          break;
        }
        if (Peek() == '"' || Peek() == '\'') {
          ASSIGN_OR_RETURN(std::string item, ReadQuoted());
          items.push_back(std::move(item));
        } else {
          std::string item = ReadWord();
          if (item.empty()) {
            return Error(line_, absl::StrCat("unexpected '", std::string(1, Peek()), "' in list"));
          }
          items.push_back(std::move(item));
        }
      }
      return absl::StrJoin(items, " ");
    }
    if (text_.substr(pos_, 2) == "<<") {
      const int start_line = line_;
      pos_ += 2;
      const size_t eol = text_.find('\n', pos_);
      const std::string marker(absl::StripAsciiWhitespace(text_.substr(
          pos_, eol == absl::string_view::npos ? absl::string_view::npos : eol - pos_)));
      if (marker.empty() || eol == absl::string_view::npos) {
        return Error(start_line, "heredoc (<<) without an end marker");
      }
      while (pos_ < eol) Advance();
      Advance();
      std::string body;
      while (!AtEnd()) {
        const size_t end = text_.find('\n', pos_);
        absl::string_view line = text_.substr(
            pos_, end == absl::string_view::npos ? absl::string_view::npos : end - pos_);
        for (size_t i = 0; i < line.size(); ++i) Advance();
        if (!AtEnd()) Advance();
        if (absl::StripAsciiWhitespace(line) == marker) return body;
        absl::StrAppend(&body, line, "\n");
      }
      return Error(start_line, absl::StrCat("heredoc: end marker '", marker, "' not found"));
    }
    // A bare value: the rest of the line, up to a comment or the '}' of a one-line scope.
    const size_t start = pos_;
    while (!AtEnd() && Peek() != '\n' && Peek() != '#' && Peek() != '}') Advance();
    return std::string(absl::StripAsciiWhitespace(text_.substr(start, pos_ - start)));
  }

  absl::Status ParseBody(Scope& scope, bool until_brace) {
    while (true) {
      SkipAll();
      if (AtEnd()) {
        if (until_brace) {
          return Error(scope.line,
                       absl::StrCat("scope ", scope.kind, " opened here is not closed"));
        }
        return absl::OkStatus();
      }
      if (Peek() == '}') {
        if (!until_brace) return Error(line_, "'}' without an open scope");
        Advance();
        return absl::OkStatus();
      }
      const int line = line_;
      const std::string key = ReadWord();
      if (key.empty()) {
        return Error(line, absl::StrCat("unexpected '", std::string(1, Peek()), "'"));
      }
      const std::string lower = absl::AsciiStrToLower(key);
      SkipBlanks();
      if (Peek() == '=') {
        Advance();
        ASSIGN_OR_RETURN(std::string value, ReadValue());
        auto [it, inserted] = scope.options.try_emplace(lower);
        if (!inserted) {
          warnings_.emplace_back(
              line, absl::StrCat(key, " overrides the value set at line ", it->second.line));
        }
        it->second = Option{std::move(value), line};
        continue;
      }
      // A scope `Kind ["name"] {`, or a bare statement (`include "file"`, a module name).
      std::string name;
      const size_t saved_pos = pos_;
      const int saved_line = line_;
      SkipAll();
      if (Peek() == '"' || Peek() == '\'') {
        ASSIGN_OR_RETURN(name, ReadQuoted());
      } else if (IsWordChar(Peek())) {
        std::string word = ReadWord();
        SkipAll();
        if (Peek() == '{') {
          name = std::move(word);
        } else {
          pos_ = saved_pos;
          line_ = saved_line;
        }
      }
      const size_t after_name = pos_;
      const int after_name_line = line_;
      SkipAll();
      if (Peek() == '{') {
        // Real configs nest three or four scopes deep; a hostile file nested thousands deep
        // overflowed the stack (found by the mta_config fuzzer).
        if (depth_ >= kMaxDepth) {
          return Error(line, absl::StrCat("scopes nested deeper than ", kMaxDepth));
        }
        Advance();
        auto child = std::make_unique<Scope>();
        child->kind = lower;
        child->name = name;
        child->line = line;
        child->parent = &scope;
        ++depth_;
        absl::Status body = ParseBody(*child, /*until_brace=*/true);
        --depth_;
        RETURN_IF_ERROR(body);
        scope.children.push_back(std::move(child));
        continue;
      }
      pos_ = after_name;
      line_ = after_name_line;
      if (lower == "include" || lower == "readonly_include") {
        warnings_.emplace_back(line, absl::StrCat("include \"", name,
                                                  "\" is not followed: settings in it are not "
                                                  "read"));
      }
    }
  }

  absl::string_view text_;
  std::string file_name_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<std::pair<int, std::string>> warnings_;
};

// Builds candidates from the parsed scopes.
// Which scopes a message's options come from, most specific first. Momentum's fallback for a
// message of binding B (in binding group G) to domain D: B/D, B, G/D, G, D, global.
using ScopeList = std::vector<const Scope*>;

// A scope that carries traffic of its own: the global scope, a Binding_Group, or a Binding.
struct Context {
  const Scope* group = nullptr;
  const Scope* binding = nullptr;
};

// Builds candidates from the parsed scopes.
class Builder {
 public:
  Builder(const Scope& global, absl::string_view file_name, ConfigWarnings& warnings)
      : global_(global), file_name_(file_name), warnings_(warnings) {}

  absl::Status Build(CandidateSet& result) {
    RETURN_IF_ERROR(ReadGlobals());
    RETURN_IF_ERROR(Collect(global_, Context{}));
    ASSIGN_OR_RETURN(tlsweep::v1::TlsClientSettings global, MakeCandidate(Context{}));
    result.candidates.push_back(std::move(global));
    for (const Context& context : contexts_) {
      ASSIGN_OR_RETURN(tlsweep::v1::TlsClientSettings settings, MakeCandidate(context));
      if (SameTraffic(settings, result.candidates.front())) continue;  // Sets what it inherits.
      if (std::any_of(result.candidates.begin(), result.candidates.end(),
                      [&](const auto& other) { return other.name() == settings.name(); })) {
        const Scope& scope = *(context.binding != nullptr ? context.binding : context.group);
        return Error(scope.line, absl::StrCat(scope.kind, " \"", scope.name,
                                              "\": another Binding or Binding_Group gives the "
                                              "candidate name '",
                                              settings.name(), "' already"));
      }
      result.candidates.push_back(std::move(settings));
    }
    return absl::OkStatus();
  }

 private:
  void Warn(int line, std::string message) { warnings_.Add(file_name_, line, message); }
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(file_name_, ":", line, ": ", message));
  }

  static std::optional<bool> ParseBool(absl::string_view value) {
    const std::string lower = absl::AsciiStrToLower(value);
    if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
    if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
    return std::nullopt;
  }

  // Equal but for names and sources: the same settings for every domain.
  static bool SameTraffic(tlsweep::v1::TlsClientSettings a, tlsweep::v1::TlsClientSettings b) {
    for (tlsweep::v1::TlsClientSettings* settings : {&a, &b}) {
      settings->clear_name();
      settings->clear_source();
      for (tlsweep::v1::DomainOverride& entry : *settings->mutable_overrides()) {
        entry.clear_scope();
        entry.mutable_settings()->clear_name();
        entry.mutable_settings()->clear_source();
      }
    }
    return google::protobuf::util::MessageDifferencer::Equals(a, b);
  }

  static bool SetsScopedOption(const Scope& scope) {
    return std::any_of(scope.options.begin(), scope.options.end(),
                       [](const auto& entry) { return ScopedOptions().count(entry.first) > 0; });
  }

  static std::string Label(const Scope& scope) {
    static const std::map<std::string, std::string> kNames = {
        {"domain", "Domain"}, {"binding", "Binding"}, {"binding_group", "Binding_Group"}};
    auto it = kNames.find(scope.kind);
    return absl::StrCat(it == kNames.end() ? scope.kind : it->second, " \"", scope.name, "\"");
  }

  absl::Status ReadGlobals() {
    if (auto it = global_.options.find("tls_engine"); it != global_.options.end()) {
      engine_ = absl::AsciiStrToLower(it->second.value);
      if (engine_ != "openssl" && engine_ != "gnutls") {
        return Error(it->second.line,
                     absl::StrCat("tls_engine '", it->second.value, "' is not openssl or gnutls"));
      }
    }
    if (auto it = global_.options.find("tls_enable_dhe_ciphers"); it != global_.options.end()) {
      std::optional<bool> on = ParseBool(it->second.value);
      if (!on) {
        return Error(it->second.line, absl::StrCat("tls_enable_dhe_ciphers '", it->second.value,
                                                   "' is not true or false"));
      }
      dhe_ = *on;
    }
    if (auto it = global_.options.find("tls_ec_curve_names"); it != global_.options.end()) {
      if (engine_ == "gnutls") {
        Warn(it->second.line, "tls_ec_curve_names has no meaning for GnuTLS; ignored");
      } else {
        absl::StatusOr<std::vector<uint16_t>> groups = ParseGroupList(it->second.value);
        if (!groups.ok()) {
          return Error(it->second.line,
                       absl::StrCat("tls_ec_curve_names: ", groups.status().message()));
        }
        for (uint16_t id : *groups) groups_.push_back(GroupName(id));
      }
    }
    return absl::OkStatus();
  }

  // Walks the outbound scopes under `scope`: Domain scopes of each context by name, Binding and
  // Binding_Group scopes as contexts; warns about options and nestings it does not model.
  absl::Status Collect(const Scope& scope, const Context& context) {
    WarnUnmodelled(scope);
    for (const std::unique_ptr<Scope>& owned : scope.children) {
      const Scope& child = *owned;
      if (!IsOutboundScope(child.kind)) continue;  // Listeners and modules: not outbound.
      if (scope.kind == "domain") {
        Warn(child.line, absl::StrCat(Label(child), " inside ", Label(scope),
                                      ": Momentum has no such nesting; not modelled"));
        continue;
      }
      if (child.kind == "domain") {
        absl::StatusOr<std::string> name = NormalizeHostName(child.name);
        if (!name.ok()) {
          WarnUnmodelled(child);
          Warn(child.line, absl::StrCat(Label(child), ": not a domain name (",
                                        name.status().message(), "); not modelled"));
          continue;
        }
        auto [it, inserted] = domains_[&scope].try_emplace(*name, &child);
        if (!inserted) {
          return Error(child.line, absl::StrCat(Label(child),
                                                " is defined again in this scope "
                                                "(first at line ",
                                                it->second->line, ")"));
        }
        if (&scope == &global_) global_domain_order_.push_back(*name);
        RETURN_IF_ERROR(Collect(child, context));  // Warns about what is nested in it.
        continue;
      }
      // A Binding or a Binding_Group: a context of its own.
      const bool nested_wrong = (child.kind == "binding_group" && &scope != &global_) ||
                                (child.kind == "binding" && scope.kind == "binding");
      if (nested_wrong) {
        Warn(child.line, absl::StrCat(Label(child), " inside ", Label(scope),
                                      ": Momentum has no such nesting; not modelled"));
        continue;
      }
      Context inner = context;
      if (child.kind == "binding") {
        inner.binding = &child;
      } else {
        inner.group = &child;
      }
      auto [it, inserted] =
          contexts_by_name_.try_emplace(absl::StrCat(child.kind, "\n", child.name), &child);
      if (!inserted) {
        return Error(child.line, absl::StrCat(Label(child), " is defined again (first at line ",
                                              it->second->line, ")"));
      }
      // A context that changes nothing (no outbound TLS option of its own or in its Domain
      // scopes) sends as its enclosing one: no candidate of its own.
      bool changes = SetsScopedOption(child);
      for (const std::unique_ptr<Scope>& grandchild : child.children) {
        if (grandchild->kind == "domain" && SetsScopedOption(*grandchild)) changes = true;
      }
      if (changes) contexts_.push_back(inner);
      RETURN_IF_ERROR(Collect(child, inner));
    }
    return absl::OkStatus();
  }

  const Scope* DomainIn(const Scope* scope, const std::string& domain) const {
    if (scope == nullptr) return nullptr;
    auto it = domains_.find(scope);
    if (it == domains_.end()) return nullptr;
    auto found = it->second.find(domain);
    return found == it->second.end() ? nullptr : found->second;
  }

  // Momentum's fallback order for messages of `context` (to `domain`, when not empty).
  ScopeList Fallback(const Context& context, const std::string& domain) const {
    ScopeList list;
    auto add = [&](const Scope* scope) {
      if (scope != nullptr) list.push_back(scope);
    };
    if (!domain.empty()) add(DomainIn(context.binding, domain));
    add(context.binding);
    if (!domain.empty()) add(DomainIn(context.group, domain));
    add(context.group);
    if (!domain.empty()) add(DomainIn(&global_, domain));
    add(&global_);
    return list;
  }

  static const Option* Find(const ScopeList& list, const std::string& name) {
    for (const Scope* scope : list) {
      if (auto found = scope->options.find(name); found != scope->options.end()) {
        return &found->second;
      }
    }
    return nullptr;
  }

  absl::StatusOr<tlsweep::v1::TlsClientSettings> MakeCandidate(const Context& context) {
    const Scope* own = context.binding != nullptr ? context.binding : context.group;
    ASSIGN_OR_RETURN(tlsweep::v1::TlsClientSettings settings,
                     MakeSettings(Fallback(context, ""), /*domain_scope=*/false));
    settings.set_name(own == nullptr ? kName : absl::StrCat(kName, "/", own->name));
    settings.set_source(own == nullptr ? file_name_ : absl::StrCat(file_name_, ":", own->line));
    // The Domain scopes this context sees, in the order they were written (its own first).
    std::vector<std::string> domains;
    std::set<std::string> seen;
    for (const Scope* scope : {context.binding, context.group}) {
      if (scope == nullptr) continue;
      for (const std::unique_ptr<Scope>& child : scope->children) {
        if (child->kind != "domain") continue;
        absl::StatusOr<std::string> name = NormalizeHostName(child->name);
        if (name.ok() && seen.insert(*name).second) domains.push_back(*name);
      }
    }
    for (const std::string& name : global_domain_order_) {
      if (seen.insert(name).second) domains.push_back(name);
    }
    for (const std::string& domain : domains) {
      const ScopeList list = Fallback(context, domain);
      ASSIGN_OR_RETURN(tlsweep::v1::TlsClientSettings own_settings,
                       MakeSettings(list, /*domain_scope=*/true));
      own_settings.set_name(settings.name());
      own_settings.set_source(settings.source());
      tlsweep::v1::TlsClientSettings base = settings;
      base.clear_overrides();
      if (google::protobuf::util::MessageDifferencer::Equals(own_settings, base)) continue;
      std::vector<std::string> scopes;
      for (const Scope* scope : list) {
        if (scope->kind != "domain") continue;
        const Scope* parent = scope->parent;
        scopes.push_back(absl::StrCat(parent == &global_ ? "" : absl::StrCat(Label(*parent), " / "),
                                      Label(*scope), " (", file_name_, ":", scope->line, ")"));
      }
      tlsweep::v1::DomainOverride& entry = *settings.add_overrides();
      entry.add_domains(domain);
      entry.set_scope(absl::StrJoin(scopes, ", over "));
      *entry.mutable_settings() = std::move(own_settings);
    }
    return settings;
  }

  // The settings of the first value of each option along `list`. `domain_scope`: the settings
  // of a Domain scope, where tls = no means no TLS for that domain (tls_disabled).
  absl::StatusOr<tlsweep::v1::TlsClientSettings> MakeSettings(const ScopeList& list,
                                                              bool domain_scope) {
    tlsweep::v1::TlsClientSettings settings;
    settings.set_backend(engine_);
    const Option* ciphers = Find(list, "tls_ciphers");
    const Option* protocols = Find(list, "tls_protocols");
    const Option* v13 = Find(list, "tlsv13_ciphersuites");
    if (engine_ == "gnutls") {
      std::string priority = ciphers != nullptr ? ciphers->value : "";
      if (!dhe_) absl::StrAppend(&priority, priority.empty() ? "NORMAL" : "", ":-DHE-RSA:-DHE-DSS");
      settings.set_gnutls_priority(priority);
      if (protocols != nullptr) {
        Warn(protocols->line,
             "tls_protocols has no meaning for GnuTLS (Momentum ignores it): versions come from "
             "the tls_ciphers priority string (e.g. NORMAL:-VERS-TLS1.0:-VERS-TLS1.1)");
      }
      if (v13 != nullptr) Warn(v13->line, "tlsv13_ciphersuites has no meaning for GnuTLS; ignored");
    } else {
      std::string cipher_list = ciphers != nullptr ? ciphers->value : "";
      if (!dhe_) {
        absl::StrAppend(&cipher_list, cipher_list.empty() ? "DEFAULT" : "", ":!DHE:!EDH");
      }
      settings.set_openssl_ciphers(cipher_list);
      if (v13 != nullptr) settings.set_openssl_ciphersuites(v13->value);
      for (const std::string& group : groups_) settings.add_groups(group);
      if (protocols != nullptr) RETURN_IF_ERROR(ApplyProtocols(*protocols, settings));
    }

    const Option* tls = Find(list, "tls");
    const Option* fallback = Find(list, "tls_ifavailable_fallback");
    bool fallback_on = true;
    if (fallback != nullptr) {
      std::optional<bool> on = ParseBool(fallback->value);
      if (!on) {
        return Error(fallback->line, absl::StrCat("tls_ifavailable_fallback '", fallback->value,
                                                  "' is not true or false"));
      }
      fallback_on = *on;
    }
    const std::string mode = tls == nullptr ? "no" : absl::AsciiStrToLower(tls->value);
    if (mode == "required") {
      settings.set_tls_required(true);
    } else if (mode == "ifavailable") {
      settings.set_tls_required(!fallback_on);
      if (!fallback_on) {
        Warn(fallback->line,
             "tls_ifavailable_fallback = false: a failed TLS negotiation defers the mail, as "
             "with tls = required");
      }
    } else if (mode == "no") {
      // A Domain scope that says tls = no itself sends that domain's mail in clear text; one
      // that inherits it is treated as its candidate is.
      const bool own_no =
          domain_scope && tls != nullptr &&
          std::any_of(list.begin(), list.end(), [&](const Scope* scope) {
            auto it = scope->options.find("tls");
            return scope->kind == "domain" && it != scope->options.end() && &it->second == tls;
          });
      if (own_no) {
        settings.set_tls_disabled(true);
      } else {
        Warn(tls == nullptr ? 0 : tls->line,
             tls == nullptr ? "tls is not set in the global scope: Momentum's default is no "
                              "(no outbound TLS); the candidate shows what it would offer"
                            : "tls = no: no outbound TLS; the candidate shows what it would "
                              "offer");
      }
    } else {
      return Error(tls->line,
                   absl::StrCat("tls '", tls->value, "' is not required, ifavailable or no"));
    }
    return settings;
  }

  // Momentum's tls_protocols: +/-NAME tokens applied in order, as SSL_OP_NO_* flags.
  absl::Status ApplyProtocols(const Option& option, tlsweep::v1::TlsClientSettings& settings) {
    const std::vector<TlsVersion> all = {TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                         TlsVersion::kTls1_2, TlsVersion::kTls1_3};
    std::set<TlsVersion> enabled;
    bool first = true;
    for (absl::string_view token :
         absl::StrSplit(option.value, absl::ByAnyChar(": ,\t"), absl::SkipEmpty())) {
      bool add = true;
      absl::string_view name = token;
      if (absl::ConsumePrefix(&name, "-")) {
        add = false;
        if (first) {
          enabled.insert(all.begin(), all.end());
          Warn(option.line, absl::StrCat("tls_protocols starts with '", token,
                                         "' and no +base: assumed to start from +ALL"));
        }
      } else {
        absl::ConsumePrefix(&name, "+");
      }
      first = false;
      std::vector<TlsVersion> named;
      if (absl::EqualsIgnoreCase(name, "ALL")) {
        named = all;
      } else if (absl::EqualsIgnoreCase(name, "SSLv2") || absl::EqualsIgnoreCase(name, "SSLv3")) {
        continue;  // Not in Debian's OpenSSL 3: enabling or disabling them changes nothing.
      } else {
        absl::StatusOr<TlsVersion> version = ParseTlsVersion(name);
        if (!version.ok()) {
          return Error(option.line, absl::StrCat("tls_protocols: unknown protocol '", token,
                                                 "' (ALL, SSLv3, TLSv1.0 ... TLSv1.3)"));
        }
        named = {*version};
      }
      for (TlsVersion version : named) {
        if (add) {
          enabled.insert(version);
        } else {
          enabled.erase(version);
        }
      }
    }
    const std::vector<TlsVersion> on(enabled.begin(), enabled.end());
    std::optional<OpensslVersionRange> range = ResolveOpensslVersions(on);
    if (!range) {
      return Error(option.line, absl::StrCat("tls_protocols = ", option.value,
                                             " enables no TLS version: every handshake fails"));
    }
    if (range->hole) Warn(option.line, HoleWarning("tls_protocols", on, *range));
    settings.set_min_version(VersionToProto(range->min));
    settings.set_max_version(VersionToProto(range->max));
    return absl::OkStatus();
  }

  void WarnUnmodelled(const Scope& scope) {
    for (const auto& [name, option] : scope.options) {
      if (!IsTlsOption(name) || ScopedOptions().count(name) > 0) continue;
      if (GlobalOnlyOptions().count(name) > 0) {
        if (&scope != &global_) {
          Warn(option.line, absl::StrCat(name, " is valid only in the global scope; ignored here"));
        }
        continue;
      }
      Warn(option.line, absl::StrCat(name, ": ", NotModelledReason(name)));
    }
  }

  static constexpr char kName[] = "ecelerity";

  const Scope& global_;
  std::string file_name_;
  ConfigWarnings& warnings_;
  std::string engine_ = "openssl";
  bool dhe_ = true;
  std::vector<std::string> groups_;
  std::map<const Scope*, std::map<std::string, const Scope*>> domains_;  // Per parent scope.
  std::vector<std::string> global_domain_order_;
  std::vector<Context> contexts_;  // Bindings and groups that change something, in file order.
  std::map<std::string, const Scope*> contexts_by_name_;
};

}  // namespace

absl::StatusOr<CandidateSet> ParseEcelerityConfig(absl::string_view content,
                                                  absl::string_view file_name) {
  Scope global;
  global.kind = "global";
  global.line = 1;
  Parser parser(content, file_name);
  RETURN_IF_ERROR(parser.Parse(global));
  ConfigWarnings warnings;
  warnings.AddFile(file_name);
  for (const auto& [line, message] : parser.warnings()) warnings.Add(file_name, line, message);
  CandidateSet result;
  result.name = "ecelerity";
  Builder builder(global, file_name, warnings);
  RETURN_IF_ERROR(builder.Build(result));
  result.warnings = warnings.Take();
  return result;
}

absl::StatusOr<CandidateSet> ReadEcelerityConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string content, ReadFileContents(path));
  return ParseEcelerityConfig(content, path);
}

}  // namespace tlsweep::backends
