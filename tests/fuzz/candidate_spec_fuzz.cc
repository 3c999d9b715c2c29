// --candidate 'name=... backend=... ciphers=...' specs (agent/flags/probe_flags.cc,
// report_command.cc): ParseCandidateSpec on arbitrary text. An accepted spec must pass
// ValidateCandidate again, and FormatCandidateSpec must give a spec that parses back to the same
// settings (its contract), also when the settings hold bytes no user typed (names from config
// files, proto inputs).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/captured_hello.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckRoundTrip(const tlsweep::v1::TlsClientSettings& settings) {
  const std::string spec = tlsweep::backends::FormatCandidateSpec(settings);
  absl::StatusOr<tlsweep::v1::TlsClientSettings> parsed =
      tlsweep::backends::ParseCandidateSpec(spec);
  if (!parsed.ok()) {
    std::fprintf(stderr, "spec: %s\nerror: %s\n", spec.c_str(),
                 std::string(parsed.status().message()).c_str());
  }
  FUZZ_CHECK(parsed.ok());
  parsed->set_source(settings.source());
  if (!google::protobuf::util::MessageDifferencer::Equals(*parsed, settings)) {
    std::fprintf(stderr, "spec: %s\nbefore: %s\nafter: %s\n", spec.c_str(),
                 settings.ShortDebugString().c_str(), parsed->ShortDebugString().c_str());
  }
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*parsed, settings));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view spec(reinterpret_cast<const char*>(data), size);
  // The same bytes as a `tlsweep capture` file: every capture it accepts is a valid candidate
  // that round-trips. A capture never reads another file (hello= is refused there).
  absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> captures =
      tlsweep::backends::ParseCaptures(spec);
  if (captures.ok()) {
    for (const tlsweep::v1::TlsClientSettings& capture : *captures) CheckRoundTrip(capture);
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(captures.status()));
  }
  // hello=FILE reads a file: the user's, never the fuzzer's business.
  if (absl::StrContains(absl::AsciiStrToLower(spec), "hello=")) return 0;
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings =
      tlsweep::backends::ParseCandidateSpec(spec);
  if (!settings.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(settings.status()));
    return 0;
  }
  FUZZ_CHECK(settings->source() == "--candidate");
  tlsweep::v1::TlsClientSettings validated = *settings;
  FUZZ_CHECK(tlsweep::backends::ValidateCandidate(validated).ok());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(validated, *settings));
  CheckRoundTrip(*settings);
  return 0;
}
