// The agent stream (AgentService.Connect) on gRPC's callback API: one ServerBidiReactor per
// agent, one read and one write in flight with a queue behind the write. Reactions never touch
// the store: each message goes to the coordinator's workers, and the next read starts only
// when that message is handled, so a slow store slows the agent down through gRPC flow control
// instead of piling results up in memory.
#pragma once

#include "coordinator/coordinator.h"
#include "tlsweep/v1/agent_stream.grpc.pb.h"

namespace tlsweep::coordinator {

class AgentServiceImpl final : public tlsweep::v1::AgentService::CallbackService {
 public:
  // `require_client_certificate`: refuse peers that did not present a certificate verified
  // against the client CA (off only in --dev mode).
  AgentServiceImpl(Coordinator& coordinator, bool require_client_certificate)
      : coordinator_(coordinator), require_client_certificate_(require_client_certificate) {}

  grpc::ServerBidiReactor<tlsweep::v1::AgentMessage, tlsweep::v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  Coordinator& coordinator_;
  const bool require_client_certificate_;
};

}  // namespace tlsweep::coordinator
