// Advice: for each candidate that newly breaks domains against the baseline, the smallest
// additions to it (a suite, a lower minimum version, OpenSSL security level 0) that would
// rescue the most newly failing mail, found from the stored enumerations with the negotiation
// model. Greedy, up to three steps; each step is checked by expanding the advised config with
// its real backend and predicting every newly failing domain again, and is written as config
// an engineer can paste (a tlsweep candidate spec, an OpenSSL string or GnuTLS priority, the
// main.cf and ecelerity.conf lines).
#pragma once

#include "absl/status/status.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/report/report.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator::report {

// Fills report.advice from report.delta (LoadDelta first). Needs the scan to have run with
// --enumerate; without enumerations of the newly failing domains it adds nothing.
absl::Status LoadAdvice(SqliteDb& db, const ReportOptions& options, CandidateOffers& offers,
                        Report& report);

}  // namespace tlsweep::coordinator::report
