// MTA configs pasted by users: every input is read as a Momentum/Ecelerity ecelerity.conf and as
// a Postfix main.cf (each parser meets the other's syntax too), and its format is detected.
// Every candidate a reader returns must be one the rest of tlsweep accepts: it passes
// ValidateCandidate, and FormatCandidateSpec gives a spec that parses back to it (that is how
// `tlsweep candidate show` prints it for a --candidate flag).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/ecelerity_config.h"
#include "backends/candidate/postfix_main_cf.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using tlsweep::backends::CandidateSet;

void CheckCandidates(const absl::StatusOr<CandidateSet>& set) {
  if (!set.ok()) {
    FUZZ_CHECK(!set.status().message().empty());
    return;
  }
  for (const tlsweep::v1::TlsClientSettings& candidate : set->candidates) {
    tlsweep::v1::TlsClientSettings validated = candidate;
    FUZZ_CHECK(tlsweep::backends::ValidateCandidate(validated).ok());
    const std::string spec = tlsweep::backends::FormatCandidateSpec(candidate);
    absl::StatusOr<tlsweep::v1::TlsClientSettings> parsed =
        tlsweep::backends::ParseCandidateSpec(spec);
    if (!parsed.ok()) {
      std::fprintf(stderr, "spec: %s\nerror: %s\n", spec.c_str(),
                   std::string(parsed.status().message()).c_str());
    }
    FUZZ_CHECK(parsed.ok());
    parsed->set_source(candidate.source());
    FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*parsed, candidate));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  CheckCandidates(tlsweep::backends::ParseEcelerityConfig(content, "ecelerity.conf"));
  CheckCandidates(tlsweep::backends::ParsePostfixMainCf(content, "main.cf"));
  (void)tlsweep::backends::DetectCandidateFileFormat("pasted.conf", content);
  return 0;
}
