#include "coordinator/store/store_rows.h"

#include "absl/strings/str_cat.h"
#include "backends/probe_kind.h"

namespace tlsweep::coordinator {

std::string UnitStatesSql(std::initializer_list<UnitState> states) {
  std::string list = "(";
  for (UnitState state : states) {
    absl::StrAppend(&list, list.size() > 1 ? ", " : "", static_cast<int64_t>(state));
  }
  return list + ")";
}

absl::Status InsertResultRow(SqliteStatement& insert, CertificateStore& certificates,
                             const std::string& scan_id, const std::string& region, int64_t shard,
                             int64_t seq, int64_t idx, const tlsweep::v1::ProbeResult& result) {
  absl::StatusOr<std::string> bytes = certificates.Serialize(scan_id, result);
  if (!bytes.ok()) return bytes.status();
  insert.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, seq);
  insert.Bind(5, idx).Bind(6, static_cast<int64_t>(result.line_number()));
  insert.Bind(7, result.target()).Bind(8, result.domain()).Bind(9, result.mx_host());
  insert.Bind(10, result.address()).Bind(11, int64_t{result.port()});
  insert.Bind(12, result.tls_settings().name());
  insert.Bind(13, backends::ProbeKindName(backends::ProbeKindOf(result)));
  insert.Bind(14, int64_t{result.failure()}).BindBlob(15, *bytes);
  return insert.Run();
}

}  // namespace tlsweep::coordinator
