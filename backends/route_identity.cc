#include "backends/route_identity.h"

namespace tlsweep::backends {

void TakeRouteIdentity(const tlsweep::v1::ProbeResult& route, tlsweep::v1::ProbeResult& observed) {
  observed.set_target(route.target());
  observed.set_domain(route.domain());
  observed.set_mx_host(route.mx_host());
  observed.set_mx_preference(route.mx_preference());
  observed.set_implicit_mx(route.implicit_mx());
  observed.set_line_number(route.line_number());
  if (!route.provider().empty()) observed.set_provider(route.provider());
}

}  // namespace tlsweep::backends
