#include "coordinator/store/sqlite_submission_writer.h"

namespace tlsweep::coordinator {
namespace {

constexpr size_t kMaxStoredBadLines = 1000;

}  // namespace

std::string TemplateKey(absl::string_view schedule_id) {
  return absl::StrCat("template:", schedule_id);
}

std::string BadLinesBlob(const SubmissionStats& stats) {
  v1::Scan errors;
  for (size_t i = 0; i < stats.bad_lines.size() && i < kMaxStoredBadLines; ++i) {
    *errors.add_bad_lines() = stats.bad_lines[i];
  }
  return errors.SerializeAsString();
}

}  // namespace tlsweep::coordinator
