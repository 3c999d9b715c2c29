// Postfix configuration parameters as its programs read them: the values main.cf (and a
// master.cf `-o`) set, over Postfix 3.7's defaults, with $-expansion done the way Postfix's
// mac_expand() does it, so that a value equals what `postconf -x` prints.
//
// Expansion (postconf(5)): $name, ${name}, $(name); ${name?text} / ${name?{text}} (text when
// name's value is non-empty), ${name:text} / ${name:{text}} (text when it is empty or unset),
// ${name?{text1}:{text2}} / ${name?{text1}:text2}, and ${{a} == {b} ? {t} : {f}} with == != < <=
// >= > (numeric when both sides are all digits). The test looks at the raw value (`a = $b` with b
// empty is non-empty); the chosen text, and a referenced value, are expanded in turn. Unbraced
// text runs to the closing brace, ':' and '?' included (Postfix 2.x compatibility); `$$` is a
// literal '$'. An unset name expands as empty (warned when used unconditionally). Postfix stops
// ("macro processing error") on a syntax error, a reference loop, or nesting deeper than 100
// calls: so does Get, with the parameter's file:line. A value is expanded once per name and cut
// at 64 KiB (warned): references that double at every level would otherwise grow exponentially.
#pragma once

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/config_warnings.h"

namespace tlsweep::backends {

// Postfix 3.7 defaults (`postconf -d` on Debian 12, Postfix 3.7.11) of every parameter tlsweep
// reads; other parameters have none here (they expand as empty).
const std::map<std::string, std::string>& PostfixDefaults();

class PostfixParameters {
 public:
  struct Parameter {
    std::string value;  // As written (joined continuation lines), not expanded.
    std::string file;
    int line = 0;
  };

  // `main_file` is the main.cf's name (where defaults are said to come from); $config_directory
  // expands to `config_directory`, the main.cf's directory (as `postconf -c DIR` has it).
  // Warnings go to `warnings`, which must outlive this object.
  PostfixParameters(std::string main_file, std::string config_directory, ConfigWarnings& warnings);

  // Sets every parameter of a main.cf (named `main_file`), as postconf(5) reads it: `name =
  // value`, a line starting with whitespace continues the previous one, `#` comment lines and
  // empty lines are skipped; a parameter set twice is warned about (the last one counts).
  // Errors (no '=', a bad name, a continuation line first) carry file:line.
  absl::Status ReadMainCf(absl::string_view content);

  // Sets `name` as written at file:line. A later Set replaces the value (Postfix uses the last
  // one; the caller warns). Expansions made before are forgotten.
  void Set(const std::string& name, std::string value, std::string file, int line);
  // A value Postfix computes rather than reads (service_name for a master.cf service).
  void SetComputed(const std::string& name, std::string value);

  bool IsSet(const std::string& name) const { return set_.count(name) > 0; }
  // Where `name` was set; nullptr for a default or computed value.
  const Parameter* Find(const std::string& name) const;
  const std::map<std::string, Parameter>& set() const { return set_; }
  // Where `name` was set; the main.cf as a whole (line 0) for a default.
  SourceLine Where(const std::string& name) const;

  // `name`'s value after expansion: the value set, else the computed or default one, else "".
  absl::StatusOr<std::string> Get(const std::string& name);

 private:
  struct Expansion {
    std::string value;
    int height = 0;  // Call nesting levels the expansion used below its own.
  };
  struct Context;

  // The raw value, or nullptr when `name` is not defined at all.
  const std::string* Raw(const std::string& name) const;
  absl::StatusOr<Expansion> ExpandName(const std::string& name, Context& context);
  absl::Status ExpandText(absl::string_view text, int level, Context& context, std::string& out,
                          int& max_level);
  absl::Status ExpandExpression(absl::string_view expression, int level, Context& context,
                                std::string& out, int& max_level);
  absl::Status Error(const Context& context, absl::string_view problem) const;
  void Warn(const std::string& name, absl::string_view message);

  std::string main_file_;
  std::string config_directory_;
  ConfigWarnings& warnings_;
  std::map<std::string, Parameter> set_;
  std::map<std::string, std::string> computed_;
  std::map<std::string, Expansion> expanded_;
  std::set<std::string> warned_cut_;
};

}  // namespace tlsweep::backends
