#include "coordinator/scan_service.h"

#include <algorithm>
#include <istream>
#include <ostream>
#include <streambuf>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/secret_compare.h"
#include "coordinator/list_upload.h"
#include "coordinator/peer_roles.h"
#include "coordinator/report/report_request.h"
#include "coordinator/scan_spec.h"
#include "coordinator/store/sqlite_db.h"

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

namespace {

// Sends what is written to it as ReportChunks of at most kChunkBytes.
class ChunkStreambuf final : public std::streambuf {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  explicit ChunkStreambuf(grpc::ServerWriter<v1::ReportChunk>* writer) : writer_(writer) {}

  bool failed() const { return failed_; }
  int sync() override { return Send() ? 0 : -1; }

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    buffer_.push_back(traits_type::to_char_type(c));
    if (buffer_.size() >= kChunkBytes && !Send()) return traits_type::eof();
    return c;
  }
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    buffer_.append(data, static_cast<size_t>(size));
    if (buffer_.size() >= kChunkBytes && !Send()) return 0;
    return size;
  }

 private:
  bool Send() {
    while (!buffer_.empty() && !failed_) {
      const size_t n = std::min(buffer_.size(), kChunkBytes);
      v1::ReportChunk chunk;
      chunk.set_data(buffer_.substr(0, n));
      buffer_.erase(0, n);
      failed_ = !writer_->Write(chunk);
    }
    return !failed_;
  }

  grpc::ServerWriter<v1::ReportChunk>* writer_;
  std::string buffer_;
  bool failed_ = false;
};

}  // namespace

grpc::Status ScanServiceImpl::GetReport(grpc::ServerContext* context,
                                        const v1::GetReportRequest* request,
                                        grpc::ServerWriter<v1::ReportChunk>* writer) {
  if (grpc::Status status = Authorize(context); !status.ok()) return status;
  if (reports_.store_path.empty()) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this coordinator serves no reports");
  }
  // A connection of its own: a report reads while agents write, and never holds their lock.
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(reports_.store_path);
  if (!db.ok()) return ToGrpc(db.status());
  report::ReportRequest wanted;
  wanted.scan_id = request->scan_id();
  wanted.format = request->format();
  wanted.against = request->against();
  wanted.whatif.assign(request->whatif().begin(), request->whatif().end());
  wanted.baseline = request->baseline();
  wanted.candidates.assign(request->candidates().begin(), request->candidates().end());
  wanted.top = request->top() == 0 ? 100 : request->top();
  wanted.fail_on.assign(request->fail_on().begin(), request->fail_on().end());
  ChunkStreambuf buffer(writer);
  std::ostream out(&buffer);
  absl::StatusOr<report::ReportOutcome> outcome =
      report::WriteReport(**db, wanted, reports_.registry, out);
  if (!outcome.ok()) return ToGrpc(outcome.status());
  out.flush();
  if (buffer.failed()) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  v1::ReportChunk last;
  last.set_last(true);
  for (const std::string& line : outcome->tripped) last.add_tripped(line);
  for (const report::Inconclusive& i : outcome->inconclusive) {
    last.add_inconclusive(absl::StrCat(i.region, ": ", i.unreached.domains, " of ", i.total.domains,
                                       " domains not reached (", i.why, ")"));
  }
  if (!writer->Write(last)) return grpc::Status(grpc::StatusCode::CANCELLED, "");
  return grpc::Status::OK;
}

}  // namespace tlsweep::coordinator
