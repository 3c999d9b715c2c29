#include "backends/candidate/config_warnings.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

std::string SourceLine::ToString() const { return line > 0 ? absl::StrCat(file, ":", line) : file; }

void ConfigWarnings::AddFile(absl::string_view file) {
  file_order_.try_emplace(std::string(file), static_cast<int>(file_order_.size()));
}

void ConfigWarnings::Add(absl::string_view file, int line, absl::string_view message) {
  AddFile(file);
  std::tuple<int, int, std::string> warning(file_order_[std::string(file)], line,
                                            std::string(message));
  if (seen_.insert(warning).second) warnings_.push_back(std::move(warning));
}

namespace {
constexpr int kRepeatedListed = 3;
}  // namespace

void ConfigWarnings::AddRepeated(const SourceLine& where, absl::string_view kind,
                                 absl::string_view message) {
  int& count = repeated_[{where.file, std::string(kind)}];
  if (++count <= kRepeatedListed) Add(where, message);
}

std::vector<std::string> ConfigWarnings::Take() {
  for (const auto& [file_kind, count] : repeated_) {
    if (count > kRepeatedListed) {
      // Line INT_MAX: after the file's other warnings.
      Add(file_kind.first, std::numeric_limits<int>::max(),
          absl::StrCat(count - kRepeatedListed, " more lines with ", file_kind.second,
                       " (not listed)"));
    }
  }
  repeated_.clear();
  std::stable_sort(warnings_.begin(), warnings_.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  std::vector<std::string> names(file_order_.size());
  for (const auto& [name, order] : file_order_) names[order] = name;
  std::vector<std::string> out;
  for (const auto& [order, line, message] : warnings_) {
    out.push_back(line > 0 && line < std::numeric_limits<int>::max()
                      ? absl::StrCat(names[order], ":", line, ": ", message)
                      : absl::StrCat(names[order], ": ", message));
  }
  warnings_.clear();
  seen_.clear();
  return out;
}

}  // namespace tlsweep::backends
