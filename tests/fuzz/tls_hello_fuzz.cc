// Raw TLS bytes from a server (or a library's own ClientHello): MayBeTlsRecord, the ClientHello
// and ServerHello readers (backends/hello_parser) and the enumeration's reading of a server's
// answer as it arrives (agent/enumerate ClassifyServerBytes, on every prefix boundary a socket
// might deliver). The whole input is the records (seeds are captured records); the read size
// varies with its length.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/enumerate/hello_exchange.h"
#include "backends/hello_parser.h"
#include "backends/tls_record.h"
#include "tests/fuzz/fuzz_check.h"

using tlsweep::agent::ServerAnswer;

namespace {

void CheckStatus(const absl::Status& status) {
  FUZZ_CHECK(absl::IsUnavailable(status) || absl::IsInvalidArgument(status));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t step = size % 61 + 1;
  const absl::string_view records(reinterpret_cast<const char*>(data), size);

  (void)tlsweep::backends::MayBeTlsRecord(records);

  absl::StatusOr<tlsweep::backends::ClientHello> client =
      tlsweep::backends::ParseClientHello(records);
  if (client.ok()) {
    for (uint16_t suite : client->cipher_suites) {
      FUZZ_CHECK(!tlsweep::backends::IsGrease(suite) && suite != 0x00FF && suite != 0x5600);
    }
    for (uint16_t group : client->supported_groups) {
      FUZZ_CHECK(!tlsweep::backends::IsGrease(group));
    }
  } else {
    CheckStatus(client.status());
  }

  absl::StatusOr<tlsweep::backends::ServerHello> server =
      tlsweep::backends::ParseServerHello(records);
  if (!server.ok()) CheckStatus(server.status());

  // The enumeration reads until the answer is decisive; more bytes never undo a decision.
  ServerAnswer::Kind decided = ServerAnswer::Kind::kNeedMore;
  for (size_t end = 0; end <= records.size(); end += step) {
    const ServerAnswer answer = tlsweep::agent::ClassifyServerBytes(records.substr(0, end), false);
    FUZZ_CHECK(answer.kind != ServerAnswer::Kind::kClosed);  // Not at eof.
    if (answer.kind != ServerAnswer::Kind::kNeedMore) {
      decided = answer.kind;
      if (answer.kind == ServerAnswer::Kind::kAlert) {
        FUZZ_CHECK(answer.alert_code >= 0 && answer.alert_code <= 255);
      }
      break;
    }
  }
  const ServerAnswer last = tlsweep::agent::ClassifyServerBytes(records, true);
  FUZZ_CHECK(last.kind != ServerAnswer::Kind::kNeedMore);
  if (decided == ServerAnswer::Kind::kServerHello) {
    FUZZ_CHECK(last.kind == ServerAnswer::Kind::kServerHello);
  }
  if (server.ok() && (records.empty() || static_cast<uint8_t>(records[0]) == 22)) {
    FUZZ_CHECK(last.kind == ServerAnswer::Kind::kServerHello ||
               last.kind == ServerAnswer::Kind::kNotTls);
  }
  return 0;
}
