// The scan API (ScanService) on gRPC's synchronous API: a submission is a long, blocking
// pipeline (read a chunk, validate its lines, write them in batched transactions, read the
// next), which reads naturally on a thread of its own and gets back-pressure for free — the
// next chunk is read only when the previous one is stored. Calls are few; agents, which are
// many, use the callback API (agent_service.h).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/plugin_loader.h"
#include "coordinator/coordinator.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::coordinator {

// Who may use the scan API: a bearer token (authorization: Bearer <token>) or a client
// certificate verified against the client CA and named for the API (peer_roles.h; an agent
// certificate is refused). Open: anyone (--dev).
struct ScanApiAuth {
  std::vector<std::string> tokens;
  bool accept_client_certificate = true;
  bool open = false;  // --dev: no check at all.
};

// The check every operator-facing service (scans, schedules) applies.
grpc::Status AuthorizeScanApi(const ScanApiAuth& auth, grpc::ServerContext* context);

// What GetReport reads: the store (through a connection of its own) and, when loaded, the
// backends for the what-if and for failure causes from the negotiation model.
struct ReportAccess {
  std::string store_path;
  const backends::BackendRegistry* registry = nullptr;
};

class ScanServiceImpl final : public tlsweep::v1::ScanService::Service {
 public:
  ScanServiceImpl(Coordinator& coordinator, ScanApiAuth auth, ReportAccess reports = {})
      : coordinator_(coordinator), auth_(std::move(auth)), reports_(std::move(reports)) {}

  grpc::Status CreateScan(grpc::ServerContext* context,
                          grpc::ServerReader<tlsweep::v1::CreateScanRequest>* reader,
                          tlsweep::v1::Scan* response) override;
  grpc::Status GetScan(grpc::ServerContext* context, const tlsweep::v1::GetScanRequest* request,
                       tlsweep::v1::Scan* response) override;
  grpc::Status ListScans(grpc::ServerContext* context, const tlsweep::v1::ListScansRequest* request,
                         tlsweep::v1::ListScansResponse* response) override;
  grpc::Status CancelScan(grpc::ServerContext* context,
                          const tlsweep::v1::CancelScanRequest* request,
                          tlsweep::v1::Scan* response) override;
  grpc::Status WatchScan(grpc::ServerContext* context, const tlsweep::v1::WatchScanRequest* request,
                         grpc::ServerWriter<tlsweep::v1::Scan>* writer) override;
  grpc::Status GetReport(grpc::ServerContext* context, const tlsweep::v1::GetReportRequest* request,
                         grpc::ServerWriter<tlsweep::v1::ReportChunk>* writer) override;

 private:
  grpc::Status Authorize(grpc::ServerContext* context) const;
  // BeginScan, or RESOURCE_EXHAUSTED when max_active_scans are already active.
  absl::StatusOr<std::unique_ptr<SubmissionWriter>> BeginWithinLimit(const ScanSpec& spec);

  Coordinator& coordinator_;
  const ScanApiAuth auth_;
  const ReportAccess reports_;
  std::mutex begin_mutex_;
};

}  // namespace tlsweep::coordinator
