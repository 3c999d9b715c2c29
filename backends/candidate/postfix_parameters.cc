#include "backends/candidate/postfix_parameters.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

// Each name is expanded once, and no value grows past this: a value that refers to another
// twice, level after level, grew exponentially (found by the mta_config fuzzer).
constexpr size_t kMaxExpansion = 64 << 10;
// mac_expand(): "unreasonable macro call nesting" past this many nested calls.
constexpr int kMaxLevel = 100;
// Relational operands restart Postfix's level count; this bounds our own recursion through them
// (Postfix would recurse until its stack ran out).
constexpr int kMaxFrames = 1000;

constexpr absl::string_view kWhitespace = " \t\r\n";

bool IsNameChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

size_t SkipWhitespace(absl::string_view text, size_t pos) {
  while (pos < text.size() && kWhitespace.find(text[pos]) != absl::string_view::npos) ++pos;
  return pos;
}

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
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
      {"smtp_tls_policy_maps", ""},
      {"smtp_tls_per_site", ""},
      {"tls_high_cipherlist", "aNULL:-aNULL:HIGH:@STRENGTH"},
      {"tls_medium_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"},
      {"tls_low_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"},
      {"tls_export_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"},
      {"tls_null_cipherlist", "eNULL:!aNULL"},
      {"tls_eecdh_auto_curves", "X25519 X448 prime256v1 secp521r1 secp384r1"},
      {"default_transport", "smtp"},
      {"relayhost", ""},
      {"transport_maps", ""},
      {"sender_dependent_default_transport_maps", ""},
  };
  return kDefaults;
}

struct PostfixParameters::Context {
  std::vector<std::string> active;  // Names being expanded, outermost first.
  int frames = 0;
};

PostfixParameters::PostfixParameters(std::string main_file, std::string config_directory,
                                     ConfigWarnings& warnings)
    : main_file_(std::move(main_file)),
      config_directory_(std::move(config_directory)),
      warnings_(warnings) {}

void PostfixParameters::Set(const std::string& name, std::string value, std::string file,
                            int line) {
  set_[name] = Parameter{std::move(value), std::move(file), line};
  expanded_.clear();
}

void PostfixParameters::SetComputed(const std::string& name, std::string value) {
  computed_[name] = std::move(value);
  expanded_.clear();
}

const PostfixParameters::Parameter* PostfixParameters::Find(const std::string& name) const {
  auto it = set_.find(name);
  return it == set_.end() ? nullptr : &it->second;
}

SourceLine PostfixParameters::Where(const std::string& name) const {
  const Parameter* parameter = Find(name);
  return parameter == nullptr ? SourceLine{main_file_, 0}
                              : SourceLine{parameter->file, parameter->line};
}

const std::string* PostfixParameters::Raw(const std::string& name) const {
  if (auto it = set_.find(name); it != set_.end()) return &it->second.value;
  if (auto it = computed_.find(name); it != computed_.end()) return &it->second;
  if (name == "config_directory") return &config_directory_;
  if (auto it = PostfixDefaults().find(name); it != PostfixDefaults().end()) return &it->second;
  return nullptr;
}

void PostfixParameters::Warn(const std::string& name, absl::string_view message) {
  const Parameter* parameter = Find(name);
  if (parameter != nullptr) warnings_.Add(parameter->file, parameter->line, message);
}

absl::Status PostfixParameters::Error(const Context& context, absl::string_view problem) const {
  const std::string name = context.active.empty() ? "" : context.active.back();
  const Parameter* parameter = Find(name);
  const std::string* raw = Raw(name);
  std::string shown = raw == nullptr ? "" : *raw;
  if (shown.size() > 120) shown = absl::StrCat(shown.substr(0, 120), "...");
  return absl::InvalidArgumentError(absl::StrCat(
      parameter == nullptr ? "" : absl::StrCat(parameter->file, ":", parameter->line, ": "), name,
      " = ", shown, ": ", problem, " (Postfix stops with \"macro processing error\")"));
}

absl::Status PostfixParameters::ReadMainCf(absl::string_view content) {
  auto error = [&](int line, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(main_file_, ":", line, ": ", message));
  };
  auto define = [&](absl::string_view text, int line) -> absl::Status {
    const size_t equals = text.find('=');
    if (equals == absl::string_view::npos) {
      return error(line, absl::StrCat("missing '=' after parameter name in '", text, "'"));
    }
    const std::string name(absl::StripAsciiWhitespace(text.substr(0, equals)));
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return error(line, absl::StrCat("bad parameter name '", name, "'"));
    }
    if (const PostfixParameters::Parameter* before = Find(name)) {
      warnings_.Add(main_file_, line,
                    absl::StrCat(name, " overrides the value set at line ", before->line,
                                 " (Postfix uses the last one)"));
    }
    Set(name, std::string(absl::StripAsciiWhitespace(text.substr(equals + 1))), main_file_, line);
    return absl::OkStatus();
  };
  std::string logical;
  int logical_line = 0;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++number;
    line = absl::StripSuffix(line, "\r");
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    if (absl::ascii_isspace(static_cast<unsigned char>(line[0]))) {
      if (logical_line == 0) {
        return error(number, "continuation line (it starts with whitespace) without a parameter");
      }
      absl::StrAppend(&logical, " ", stripped);
      continue;
    }
    if (logical_line != 0) RETURN_IF_ERROR(define(logical, logical_line));
    logical = std::string(stripped);
    logical_line = number;
  }
  if (logical_line != 0) RETURN_IF_ERROR(define(logical, logical_line));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PostfixParameters::Get(const std::string& name) {
  if (Raw(name) == nullptr) return std::string();
  Context context;
  ASSIGN_OR_RETURN(Expansion expansion, ExpandName(name, context));
  return expansion.value;
}

absl::StatusOr<PostfixParameters::Expansion> PostfixParameters::ExpandName(const std::string& name,
                                                                           Context& context) {
  if (auto done = expanded_.find(name); done != expanded_.end()) return done->second;
  if (std::find(context.active.begin(), context.active.end(), name) != context.active.end()) {
    std::vector<std::string> loop(std::find(context.active.begin(), context.active.end(), name),
                                  context.active.end());
    loop.push_back(name);
    return Error(context, absl::StrCat("the references loop: $", absl::StrJoin(loop, " -> $")));
  }
  const std::string raw = *Raw(name);
  context.active.push_back(name);
  Expansion expansion;
  int max_level = -1;
  absl::Status status = ExpandText(raw, 0, context, expansion.value, max_level);
  context.active.pop_back();
  RETURN_IF_ERROR(status);
  expansion.height = max_level;
  if (expansion.value.size() > kMaxExpansion) {
    if (warned_cut_.insert(name).second) {
      Warn(name, absl::StrCat(name, " expands to more than ", kMaxExpansion, " bytes; cut there"));
    }
    expansion.value.resize(kMaxExpansion);
  }
  expanded_[name] = expansion;
  return expansion;
}

// mac_parse(): literal text and $ references, each one "call" at `level`.
absl::Status PostfixParameters::ExpandText(absl::string_view text, int level, Context& context,
                                           std::string& out, int& max_level) {
  if (++context.frames > kMaxFrames) {
    --context.frames;
    return Error(context, "expressions nested too deeply");
  }
  auto call = [&]() -> absl::Status {
    if (level > kMaxLevel) return Error(context, "unreasonable macro call nesting");
    max_level = std::max(max_level, level);
    return absl::OkStatus();
  };
  absl::Status status;
  bool literal = false;  // Literal text waits to be handed over as one call.
  size_t i = 0;
  while (status.ok() && i < text.size() && out.size() <= kMaxExpansion) {
    if (text[i] != '$') {
      out.push_back(text[i++]);
      literal = true;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      literal = true;
      i += 2;
      continue;
    }
    if (literal) {
      status = call();
      literal = false;
      if (!status.ok()) break;
    }
    ++i;
    absl::string_view expression;
    if (i < text.size() && (text[i] == '{' || text[i] == '(')) {
      const char open = text[i];
      const char close = open == '{' ? '}' : ')';
      const size_t start = ++i;
      int depth = 1;
      for (; i < text.size(); ++i) {
        if (text[i] == open) {
          ++depth;
        } else if (text[i] == close && --depth == 0) {
          break;
        }
      }
      if (i == text.size()) {
        status = Error(context, absl::StrCat("truncated macro reference '$", std::string(1, open),
                                             text.substr(start), "'"));
        break;
      }
      expression = text.substr(start, i - start);
      ++i;
    } else {
      const size_t start = i;
      while (i < text.size() && IsNameChar(text[i])) ++i;
      expression = text.substr(start, i - start);
    }
    if (expression.empty()) {
      status = Error(context, "empty macro name after '$'");
      break;
    }
    status = call();
    if (status.ok()) status = ExpandExpression(expression, level, context, out, max_level);
  }
  if (status.ok() && literal) status = call();
  --context.frames;
  return status;
}

// mac_expand_callback() for one ${...}: a name or a relational expression, then ? and : texts.
absl::Status PostfixParameters::ExpandExpression(absl::string_view expression, int level,
                                                 Context& context, std::string& out,
                                                 int& max_level) {
  // "{payload}" at `pos` with balanced braces; `pos` moves past it and any whitespace after.
  auto curly = [&](size_t& pos) -> absl::StatusOr<absl::string_view> {
    int depth = 0;
    for (size_t end = pos; end < expression.size(); ++end) {
      if (expression[end] == '{') {
        ++depth;
      } else if (expression[end] == '}' && --depth == 0) {
        absl::string_view payload = expression.substr(pos + 1, end - pos - 1);
        pos = SkipWhitespace(expression, end + 1);
        return payload;
      }
    }
    return Error(context, absl::StrCat("unbalanced {} in '", expression.substr(pos), "'"));
  };
  auto starts_curly = [&](size_t& pos) {
    const size_t at = SkipWhitespace(expression, pos);
    if (at < expression.size() && expression[at] == '{') {
      pos = at;
      return true;
    }
    return false;
  };
  // Expands `text` as a ? or : result: one level down, in this same expansion.
  auto expand = [&](absl::string_view text) {
    return ExpandText(text, level + 1, context, out, max_level);
  };

  size_t pos = SkipWhitespace(expression, 0);
  char op = 0;
  std::string name;
  std::string relational;  // "true" or "": a relational expression's value.
  bool is_relational = false;
  if (pos < expression.size() && expression[pos] == '{') {
    is_relational = true;
    ASSIGN_OR_RETURN(absl::string_view left, curly(pos));
    const size_t op_start = pos;
    while (pos < expression.size() &&
           absl::string_view("<>!=?+-*/~&|%").find(expression[pos]) != absl::string_view::npos) {
      ++pos;
    }
    const absl::string_view relop = expression.substr(op_start, pos - op_start);
    if (relop != "==" && relop != "!=" && relop != "<" && relop != "<=" && relop != ">=" &&
        relop != ">") {
      return Error(context, absl::StrCat("==, !=, <, <=, >= or > expected after {", left, "}"));
    }
    if (!starts_curly(pos)) {
      return Error(context, absl::StrCat("{expression} expected after ", relop));
    }
    ASSIGN_OR_RETURN(absl::string_view right, curly(pos));
    // Operands are expanded by a fresh mac_expand(): Postfix's level count starts again.
    std::string left_value;
    std::string right_value;
    int ignored = -1;
    RETURN_IF_ERROR(ExpandText(left, 0, context, left_value, ignored));
    RETURN_IF_ERROR(ExpandText(right, 0, context, right_value, ignored));
    int64_t delta = 0;
    int64_t left_number = 0;
    int64_t right_number = 0;
    if (AllDigits(left_value) && AllDigits(right_value) &&
        absl::SimpleAtoi(left_value, &left_number) &&
        absl::SimpleAtoi(right_value, &right_number)) {
      delta = left_number - right_number;
    } else {
      delta = left_value.compare(right_value);
    }
    const bool result = relop == "=="   ? delta == 0
                        : relop == "!=" ? delta != 0
                        : relop == "<"  ? delta < 0
                        : relop == "<=" ? delta <= 0
                        : relop == ">=" ? delta >= 0
                                        : delta > 0;
    relational = result ? "true" : "";
    if (pos < expression.size()) {
      op = expression[pos];
      if (op != '?' && op != ':') {
        return Error(context,
                     absl::StrCat("'?' or ':' expected at '", expression.substr(pos), "'"));
      }
      ++pos;
    }
  } else {
    const size_t start = pos;
    while (true) {
      const size_t next = SkipWhitespace(expression, pos);
      if (next == expression.size()) break;
      if (expression[next] == '?' || expression[next] == ':') {
        op = expression[next];
        name = std::string(expression.substr(start, pos - start));
        pos = next + 1;
        break;
      }
      if (!IsNameChar(expression[pos])) {
        return Error(context,
                     absl::StrCat("parameter name syntax error at '", expression.substr(pos), "'"));
      }
      ++pos;
    }
    if (op == 0) name = std::string(expression.substr(start, pos - start));
  }
  const std::string* raw = is_relational ? &relational : Raw(name);
  const bool non_empty = raw != nullptr && !raw->empty();

  if (op == 0) {
    if (is_relational) {
      out.append(relational);
      if (!relational.empty()) max_level = std::max(max_level, level + 1);
    } else if (raw == nullptr) {
      if (!context.active.empty()) {
        Warn(context.active.back(), absl::StrCat("$", name, " (in ", context.active.back(),
                                                 ") is not set; expanded as empty"));
      }
    } else if (!raw->empty()) {
      ASSIGN_OR_RETURN(Expansion expansion, ExpandName(name, context));
      if (level + 1 + expansion.height > kMaxLevel) {
        return Error(context, "unreasonable macro call nesting");
      }
      max_level = std::max(max_level, level + 1 + expansion.height);
      out.append(expansion.value);
    }
    return absl::OkStatus();
  }
  if (op == '?') {
    absl::string_view if_true;
    if (starts_curly(pos)) {
      ASSIGN_OR_RETURN(if_true, curly(pos));
    } else {
      if_true = expression.substr(pos);
      pos = expression.size();
    }
    if (non_empty) RETURN_IF_ERROR(expand(if_true));
    if (pos == expression.size()) return absl::OkStatus();
    if (expression[pos] != ':') {
      return Error(context, absl::StrCat("':' expected at '", expression.substr(pos), "'"));
    }
    ++pos;
  }
  absl::string_view if_false;
  if (starts_curly(pos)) {
    ASSIGN_OR_RETURN(if_false, curly(pos));
  } else {
    if_false = expression.substr(pos);
    pos = expression.size();
  }
  if (!non_empty) RETURN_IF_ERROR(expand(if_false));
  if (pos != expression.size()) {
    return Error(context, absl::StrCat("unexpected input at '", expression.substr(pos), "'"));
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::backends
