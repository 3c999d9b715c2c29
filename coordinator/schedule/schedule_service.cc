#include "coordinator/schedule/schedule_service.h"

#include <istream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/list_upload.h"
#include "coordinator/scan_spec.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::AddScheduleRequest;
using ::tlsweep::v1::Schedule;

constexpr size_t kErrorsInStatus = 20;
constexpr uint32_t kDefaultRetention = 10;
constexpr uint32_t kMaxRetention = 1000;

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace

grpc::Status ScheduleServiceImpl::AddSchedule(grpc::ServerContext* context,
                                              grpc::ServerReader<AddScheduleRequest>* reader,
                                              Schedule* response) {
  if (grpc::Status status = AuthorizeScanApi(auth_, context); !status.ok()) return status;
  AddScheduleRequest first;
  if (!reader->Read(&first) || !first.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a header");
  }
  const v1::ScheduleHeader& header = first.header();
  const CoordinatorOptions& options = coordinator_.options();
  const int64_t now_ms = NowUnixMs();
  ScheduleSpec spec;
  spec.name = header.name();
  spec.cron = header.cron();
  absl::StatusOr<int64_t> next_run = NextCronRunMs(spec.cron, now_ms);
  if (!next_run.ok()) return ToGrpc(next_run.status());
  if (*next_run == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("'", spec.cron, "' matches no time in the next five years"));
  }
  spec.next_run_ms = *next_run;
  spec.retention = header.retention() == 0 ? kDefaultRetention : header.retention();
  if (spec.retention > kMaxRetention) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("retention above ", kMaxRetention));
  }
  absl::StatusOr<ScanSpec> scan = ScanSpecFromHeader(header, options);
  if (!scan.ok()) return ToGrpc(scan.status());
  spec.scan = *std::move(scan);

  absl::StatusOr<std::unique_ptr<SubmissionWriter>> writer =
      coordinator_.store().BeginSchedule(spec, now_ms);
  if (!writer.ok()) return ToGrpc(writer.status());

  SubmissionStats stats;
  absl::Status failure = ReadSubmission(
      reader, context, static_cast<uint16_t>(spec.scan.default_port), options.max_list_lines,
      header.reject_bad_lines(), options.upload_idle_ms, **writer, stats);
  if (failure.ok() && stats.lines > 0 && stats.bad_line_count == stats.lines) {
    failure = absl::InvalidArgumentError("no valid target in the list");
  }
  if (!failure.ok()) {
    (*writer)->Abandon(failure.message(), NowUnixMs());
    return ToGrpc(failure);
  }
  absl::StatusOr<v1::Scan> finished = (*writer)->Finish(stats, NowUnixMs());
  if (!finished.ok()) {
    (*writer)->Abandon(finished.status().message(), NowUnixMs());
    return ToGrpc(finished.status());
  }
  if (scheduler_ != nullptr) scheduler_->Wake();
  absl::StatusOr<Schedule> schedule =
      coordinator_.store().GetSchedule(finished->scan_id(), /*max_runs=*/0);
  if (!schedule.ok()) return ToGrpc(schedule.status());
  *response = *std::move(schedule);
  return grpc::Status::OK;
}

grpc::Status ScheduleServiceImpl::ListSchedules(grpc::ServerContext* context,
                                                const v1::ListSchedulesRequest* request,
                                                v1::ListSchedulesResponse* response) {
  (void)request;
  if (grpc::Status status = AuthorizeScanApi(auth_, context); !status.ok()) return status;
  absl::StatusOr<std::vector<Schedule>> schedules =
      coordinator_.store().ListSchedules(/*max_runs=*/0);
  if (!schedules.ok()) return ToGrpc(schedules.status());
  for (Schedule& schedule : *schedules) *response->add_schedules() = std::move(schedule);
  return grpc::Status::OK;
}

grpc::Status ScheduleServiceImpl::RemoveSchedule(grpc::ServerContext* context,
                                                 const v1::RemoveScheduleRequest* request,
                                                 v1::RemoveScheduleResponse* response) {
  (void)response;
  if (grpc::Status status = AuthorizeScanApi(auth_, context); !status.ok()) return status;
  absl::StatusOr<std::vector<LeaseRef>> leases =
      coordinator_.store().RemoveSchedule(request->schedule_id(), request->delete_runs());
  if (!leases.ok()) return ToGrpc(leases.status());
  if (!leases->empty()) coordinator_.CancelLeases(*leases, "scan deleted with its schedule");
  coordinator_.NotifyChanged();
  if (scheduler_ != nullptr) scheduler_->Wake();
  return grpc::Status::OK;
}

grpc::Status ScheduleServiceImpl::RunScheduleNow(grpc::ServerContext* context,
                                                 const v1::RunScheduleNowRequest* request,
                                                 v1::Scan* response) {
  if (grpc::Status status = AuthorizeScanApi(auth_, context); !status.ok()) return status;
  if (scheduler_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the scheduler is not running");
  }
  absl::StatusOr<std::string> scan_id = scheduler_->RunNow(request->schedule_id());
  if (!scan_id.ok()) return ToGrpc(scan_id.status());
  absl::StatusOr<v1::Scan> scan = coordinator_.store().GetScan(*scan_id, false);
  if (!scan.ok()) return ToGrpc(scan.status());
  *response = *std::move(scan);
  return grpc::Status::OK;
}

}  // namespace tlsweep::coordinator
