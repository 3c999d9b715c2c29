#include "coordinator/store/store_rows.h"

#include "backends/probe_kind.h"

namespace tlsweep::coordinator {

absl::Status InsertResultRow(SqliteStatement& insert, const std::string& scan_id,
                             const std::string& region, int64_t shard, int64_t seq, int64_t idx,
                             const tlsweep::v1::ProbeResult& result) {
  insert.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, seq);
  insert.Bind(5, idx).Bind(6, static_cast<int64_t>(result.line_number()));
  insert.Bind(7, result.target()).Bind(8, result.domain()).Bind(9, result.mx_host());
  insert.Bind(10, result.address()).Bind(11, int64_t{result.port()});
  insert.Bind(12, result.tls_settings().name());
  insert.Bind(13, backends::ProbeKindName(backends::ProbeKindOf(result)));
  insert.Bind(14, int64_t{result.failure()}).BindBlob(15, result.SerializeAsString());
  return insert.Run();
}

}  // namespace tlsweep::coordinator
