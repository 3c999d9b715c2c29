#include "backends/candidate/profile_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/file_contents.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

// Collects text-format errors with their 1-based line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(absl::string_view file_name) : file_name_(file_name) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(absl::StrCat(file_name_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, message);
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string file_name_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<tlsweep::v1::ProbeProfile> ParseProbeProfile(absl::string_view content,
                                                            absl::string_view file_name) {
  tlsweep::v1::ProbeProfile profile;
  const std::string text(content);
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(content);
  if (!trimmed.empty() && trimmed[0] == '{') {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(text, &profile, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ": not a valid ProbeProfile in JSON: ", std::string(status.message())));
    }
  } else {
    ErrorCollector errors(file_name);
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(text, &profile)) {
      return absl::InvalidArgumentError(
          errors.errors().empty()
              ? absl::StrCat(file_name, ": not a valid ProbeProfile in protobuf text format")
              : absl::StrJoin(errors.errors(), "\n"));
    }
  }
  std::set<std::string> names;
  for (int i = 0; i < profile.candidates_size(); ++i) {
    tlsweep::v1::TlsClientSettings& candidate = *profile.mutable_candidates(i);
    if (candidate.name().empty()) candidate.set_name(absl::StrCat("candidate", i + 1));
    if (candidate.source().empty()) candidate.set_source(std::string(file_name));
    if (absl::Status status = ValidateCandidate(candidate); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file_name, ": candidate ", i + 1, " ('",
                                                     candidate.name(), "'): ", status.message()));
    }
    if (!names.insert(candidate.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(file_name, ": candidate ", i + 1,
                                                     ": the name '", candidate.name(),
                                                     "' is used twice; names must be unique"));
    }
  }
  return profile;
}

absl::StatusOr<tlsweep::v1::ProbeProfile> ReadProbeProfile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string content, ReadFileContents(path));
  return ParseProbeProfile(content, path);
}

}  // namespace tlsweep::backends
