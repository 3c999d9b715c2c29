#include "cli/remote_call.h"

namespace tlsweep::cli {

int ReportCommandError(absl::string_view command, const absl::Status& status) {
  std::cerr << "tlsweep " << command << ": " << status.message() << "\n";
  return 2;
}

}  // namespace tlsweep::cli
