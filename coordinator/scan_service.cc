#include "coordinator/scan_service.h"

#include <istream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/secret_compare.h"
#include "coordinator/list_upload.h"
#include "coordinator/peer_roles.h"
#include "coordinator/scan_spec.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::CreateScanRequest;
using ::tlsweep::v1::Scan;

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

bool IsTerminal(v1::ScanState state) {
  return state == v1::SCAN_DONE || state == v1::SCAN_CANCELLED || state == v1::SCAN_FAILED;
}

}  // namespace

grpc::Status ScanServiceImpl::Authorize(grpc::ServerContext* context) const {
  return AuthorizeScanApi(auth_, context);
}

grpc::Status AuthorizeScanApi(const ScanApiAuth& auth, grpc::ServerContext* context) {
  if (auth.open) return grpc::Status::OK;
  // Only a certificate issued for the API counts: an agent certificate is not an operator.
  bool agent_certificate = false;
  if (auth.accept_client_certificate) {
    std::shared_ptr<const grpc::AuthContext> peer = context->auth_context();
    if (peer != nullptr && peer->IsPeerAuthenticated()) {
      const PeerRoles roles = PeerRolesOf(*peer);
      if (!roles.api_clients.empty()) return grpc::Status::OK;
      agent_certificate = !roles.agents.empty();
    }
  }
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    const std::string value(it->second.data(), it->second.size());
    constexpr absl::string_view kBearer = "Bearer ";
    if (absl::StartsWith(value, kBearer)) {
      const std::string presented = value.substr(kBearer.size());
      if (backends::MatchesAnySecret(presented, auth.tokens)) return grpc::Status::OK;
    }
  }
  if (agent_certificate) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("an agent certificate does not open the scan API: send a "
                                     "bearer token, or a certificate named ",
                                     kApiUriPrefix, "NAME (deploy/dev-ca --api-client NAME)"));
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      absl::StrCat("the scan API needs a bearer token or a client certificate "
                                   "named ",
                                   kApiUriPrefix, "NAME"));
}

absl::StatusOr<std::unique_ptr<SubmissionWriter>> ScanServiceImpl::BeginWithinLimit(
    const ScanSpec& spec) {
  // The count and the new scan's row under one lock: two submissions cannot both take the
  // last place.
  std::lock_guard<std::mutex> lock(begin_mutex_);
  const int64_t limit = coordinator_.options().max_active_scans;
  absl::StatusOr<int64_t> active = coordinator_.store().ActiveScans();
  if (!active.ok()) return active.status();
  if (*active >= limit) {
    return absl::ResourceExhaustedError(
        absl::StrCat(*active,
                     " scans are submitting or running, the coordinator's limit "
                     "(--max-active-scans); wait for one to end or cancel one"));
  }
  return coordinator_.store().BeginScan(spec, NowUnixMs());
}

grpc::Status ScanServiceImpl::CreateScan(grpc::ServerContext* context,
                                         grpc::ServerReader<CreateScanRequest>* reader,
                                         Scan* response) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  CreateScanRequest first;
  if (!reader->Read(&first) || !first.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a header");
  }
  const v1::ScanHeader& header = first.header();
  const CoordinatorOptions& options = coordinator_.options();
  absl::StatusOr<ScanSpec> spec = ScanSpecFromHeader(header, options);
  if (!spec.ok()) return ToGrpc(spec.status());

  absl::StatusOr<std::unique_ptr<SubmissionWriter>> writer = BeginWithinLimit(*spec);
  if (!writer.ok()) return ToGrpc(writer.status());

  SubmissionStats stats;
  absl::Status failure = ReadSubmission(reader, context, static_cast<uint16_t>(spec->default_port),
                                        options.max_list_lines, header.reject_bad_lines(),
                                        options.upload_idle_ms, **writer, stats);
  if (!failure.ok()) {
    (*writer)->Abandon(failure.message(), NowUnixMs());
    return ToGrpc(failure);
  }
  absl::StatusOr<Scan> finished = (*writer)->Finish(stats, NowUnixMs());
  if (!finished.ok()) return ToGrpc(finished.status());
  coordinator_.NotifyChanged();
  absl::StatusOr<Scan> scan = coordinator_.store().GetScan(finished->scan_id(), true);
  if (!scan.ok()) return ToGrpc(scan.status());
  *response = *std::move(scan);
  return grpc::Status::OK;
}

grpc::Status ScanServiceImpl::GetScan(grpc::ServerContext* context,
                                      const v1::GetScanRequest* request, Scan* response) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  absl::StatusOr<Scan> scan = coordinator_.store().GetScan(request->scan_id(), true);
  if (!scan.ok()) return ToGrpc(scan.status());
  *response = *std::move(scan);
  return grpc::Status::OK;
}

grpc::Status ScanServiceImpl::ListScans(grpc::ServerContext* context,
                                        const v1::ListScansRequest* request,
                                        v1::ListScansResponse* response) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  absl::StatusOr<std::vector<Scan>> scans =
      coordinator_.store().ListScans(request->limit() == 0 ? 100 : request->limit());
  if (!scans.ok()) return ToGrpc(scans.status());
  for (Scan& scan : *scans) *response->add_scans() = std::move(scan);
  return grpc::Status::OK;
}

grpc::Status ScanServiceImpl::CancelScan(grpc::ServerContext* context,
                                         const v1::CancelScanRequest* request, Scan* response) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  absl::StatusOr<std::vector<LeaseRef>> leases =
      coordinator_.store().CancelScan(request->scan_id(), NowUnixMs());
  if (!leases.ok()) return ToGrpc(leases.status());
  coordinator_.CancelLeases(*leases, "scan cancelled");
  coordinator_.NotifyChanged();
  absl::StatusOr<Scan> scan = coordinator_.store().GetScan(request->scan_id(), false);
  if (!scan.ok()) return ToGrpc(scan.status());
  *response = *std::move(scan);
  return grpc::Status::OK;
}

grpc::Status ScanServiceImpl::WatchScan(grpc::ServerContext* context,
                                        const v1::WatchScanRequest* request,
                                        grpc::ServerWriter<Scan>* writer) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  uint64_t seen = coordinator_.change_count();
  for (;;) {
    absl::StatusOr<Scan> scan = coordinator_.store().GetScan(request->scan_id(), false);
    if (!scan.ok()) return ToGrpc(scan.status());
    if (!writer->Write(*scan)) return grpc::Status(grpc::StatusCode::CANCELLED, "");
    if (IsTerminal(scan->state())) return grpc::Status::OK;
    // At most about four updates a second, however busy the coordinator is.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    seen = coordinator_.WaitForChange(seen, 5'000);
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "");
  }
}

}  // namespace tlsweep::coordinator
