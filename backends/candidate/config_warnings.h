// What a config reader read but could not model, collected as it goes and handed back as
// "file:line: message" lines: in file order (the order files were first named), then line
// order, each message once (a scope inherited by many candidates is warned about once).
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

// A place in a config file; line 0 means the file as a whole.
struct SourceLine {
  std::string file;
  int line = 0;

  std::string ToString() const;  // "main.cf:12", or "main.cf" for line 0.
};

class ConfigWarnings {
 public:
  // Fixes the position of `file` among the files (the first one named comes first).
  void AddFile(absl::string_view file);
  // `line` 0: about the whole file ("file: message").
  void Add(absl::string_view file, int line, absl::string_view message);
  void Add(const SourceLine& where, absl::string_view message) {
    Add(where.file, where.line, message);
  }

  // A warning that may recur on thousands of table lines: the first few of each (file, kind)
  // are listed, the rest counted in one line at the end of the file's warnings.
  void AddRepeated(const SourceLine& where, absl::string_view kind, absl::string_view message);

  // Every warning so far, sorted; the list is emptied.
  std::vector<std::string> Take();

 private:
  std::map<std::string, int> file_order_;
  std::set<std::tuple<int, int, std::string>> seen_;  // (file order, line, message)
  std::vector<std::tuple<int, int, std::string>> warnings_;
  std::map<std::pair<std::string, std::string>, int> repeated_;  // (file, kind) -> count
};

}  // namespace tlsweep::backends
