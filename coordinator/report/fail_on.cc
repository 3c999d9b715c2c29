#include "coordinator/report/fail_on.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace tlsweep::coordinator::report {

absl::StatusOr<FailOn> ParseFailOn(absl::string_view spec) {
  const std::string text(absl::StripAsciiWhitespace(spec));
  auto usage = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--fail-on '", text, "': ", why,
        "; expected METRIC>VALUE or METRIC>=VALUE[%], METRIC one of "
        "newly-{failing,degraded,cleartext}-{domains,volume}, e.g. newly-failing-domains>0 or "
        "newly-failing-volume>0.5%"));
  };
  const size_t op = text.find('>');
  if (op == std::string::npos) return usage("no '>'");
  FailOn gate;
  gate.text = text;
  std::string metric = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(0, op)));
  absl::string_view value = absl::string_view(text).substr(op + 1);
  if (absl::ConsumePrefix(&value, "=")) gate.or_equal = true;
  value = absl::StripAsciiWhitespace(value);
  if (absl::ConsumeSuffix(&value, "%")) gate.percent = true;
  if (!absl::SimpleAtod(value, &gate.threshold) || gate.threshold < 0) {
    return usage("the value is not a non-negative number");
  }
  const std::string dashed = absl::StrReplaceAll(metric, {{"_", "-"}});
  absl::string_view change = dashed;
  if (absl::ConsumeSuffix(&change, "-volume")) {
    gate.volume = true;
  } else if (!absl::ConsumeSuffix(&change, "-domains")) {
    return usage("the metric must end in -domains or -volume");
  }
  if (change != "newly-failing" && change != "newly-degraded" && change != "newly-cleartext") {
    return usage(absl::StrCat("unknown change '", change, "'"));
  }
  gate.change = absl::StrReplaceAll(change, {{"-", "_"}});
  if (gate.percent && gate.threshold > 100) return usage("a share above 100%");
  return gate;
}

std::vector<std::string> TrippedGates(const Report& report, const std::vector<FailOn>& gates) {
  std::vector<std::string> tripped;
  if (!report.delta.has_value()) return tripped;
  for (const FailOn& gate : gates) {
    for (const DeltaSummary& d : report.delta->summaries) {
      const Count& count = gate.change == "newly_failing"    ? d.newly_failing
                           : gate.change == "newly_degraded" ? d.newly_degraded
                                                             : d.newly_cleartext;
      double value = gate.volume ? count.weight : static_cast<double>(count.domains);
      const double whole =
          gate.volume ? d.compared.weight : static_cast<double>(d.compared.domains);
      if (gate.percent) value = whole > 0 ? 100.0 * value / whole : 0;
      const bool trips = gate.or_equal ? value >= gate.threshold : value > gate.threshold;
      if (!trips) continue;
      tripped.push_back(absl::StrFormat("%s/%s: %s %s %g%s %s %g%s (%s)", d.candidate, d.region,
                                        absl::StrReplaceAll(gate.change, {{"_", " "}}),
                                        gate.volume ? "volume" : "domains", value,
                                        gate.percent ? "%" : "", gate.or_equal ? ">=" : ">",
                                        gate.threshold, gate.percent ? "%" : "", gate.text));
    }
  }
  return tripped;
}

}  // namespace tlsweep::coordinator::report
