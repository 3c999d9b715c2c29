// The schedule API (ScheduleService, proto/tlsweep/v1/schedule.proto) on gRPC's synchronous API,
// like ScanService: AddSchedule streams the template's list in with the same line validation
// as CreateScan, and the same authentication applies.
#pragma once

#include "coordinator/coordinator.h"
#include "coordinator/scan_service.h"
#include "coordinator/schedule/scheduler.h"
#include "tlsweep/v1/schedule.grpc.pb.h"

namespace tlsweep::coordinator {

class ScheduleServiceImpl final : public tlsweep::v1::ScheduleService::Service {
 public:
  // `scheduler` may be null (no scheduler thread): RunScheduleNow is then unavailable.
  ScheduleServiceImpl(Coordinator& coordinator, ScanApiAuth auth, Scheduler* scheduler)
      : coordinator_(coordinator), auth_(std::move(auth)), scheduler_(scheduler) {}

  grpc::Status AddSchedule(grpc::ServerContext* context,
                           grpc::ServerReader<tlsweep::v1::AddScheduleRequest>* reader,
                           tlsweep::v1::Schedule* response) override;
  grpc::Status ListSchedules(grpc::ServerContext* context,
                             const tlsweep::v1::ListSchedulesRequest* request,
                             tlsweep::v1::ListSchedulesResponse* response) override;
  grpc::Status RemoveSchedule(grpc::ServerContext* context,
                              const tlsweep::v1::RemoveScheduleRequest* request,
                              tlsweep::v1::RemoveScheduleResponse* response) override;
  grpc::Status RunScheduleNow(grpc::ServerContext* context,
                              const tlsweep::v1::RunScheduleNowRequest* request,
                              tlsweep::v1::Scan* response) override;

 private:
  Coordinator& coordinator_;
  const ScanApiAuth auth_;
  Scheduler* scheduler_;
};

}  // namespace tlsweep::coordinator
