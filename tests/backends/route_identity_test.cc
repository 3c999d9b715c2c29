// A shared probe's answer takes a route's identity and keeps its own observations.
#include "backends/route_identity.h"

#include <gtest/gtest.h>

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::ProbeResult;

ProbeResult Route() {
  ProbeResult route;
  route.set_target("b.example");
  route.set_domain("b.example");
  route.set_mx_host("mx.b.example");
  route.set_mx_preference(20);
  route.set_implicit_mx(true);
  route.set_line_number(7);
  route.set_provider("b.example");
  route.set_address("192.0.2.1");  // Not identity: the observed result's own stays.
  return route;
}

ProbeResult Observed() {
  ProbeResult observed;
  observed.set_target("a.example");
  observed.set_domain("a.example");
  observed.set_mx_host("mx.a.example");
  observed.set_mx_preference(10);
  observed.set_line_number(3);
  observed.set_provider("a.example");
  observed.set_address("192.0.2.9");
  observed.set_port(25);
  observed.set_failure(tlsweep::v1::STARTTLS_NOT_OFFERED);
  observed.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  return observed;
}

TEST(RouteIdentityTest, IdentityFromTheRouteObservationsKept) {
  ProbeResult observed = Observed();
  TakeRouteIdentity(Route(), observed);
  EXPECT_EQ(observed.target(), "b.example");
  EXPECT_EQ(observed.domain(), "b.example");
  EXPECT_EQ(observed.mx_host(), "mx.b.example");
  EXPECT_EQ(observed.mx_preference(), 20u);
  EXPECT_TRUE(observed.implicit_mx());
  EXPECT_EQ(observed.line_number(), 7u);
  EXPECT_EQ(observed.provider(), "b.example");
  EXPECT_EQ(observed.address(), "192.0.2.9");
  EXPECT_EQ(observed.port(), 25u);
  EXPECT_EQ(observed.failure(), tlsweep::v1::STARTTLS_NOT_OFFERED);
  EXPECT_EQ(observed.probe_kind(), tlsweep::v1::PROBE_KIND_STARTTLS);
  EXPECT_FALSE(observed.reused());  // The caller decides whether the copy counts as reused.
}

TEST(RouteIdentityTest, ARouteWithoutProviderKeepsTheProbesOwn) {
  ProbeResult route = Route();
  route.clear_provider();
  ProbeResult observed = Observed();
  TakeRouteIdentity(route, observed);
  EXPECT_EQ(observed.provider(), "a.example");
}

}  // namespace
}  // namespace tlsweep::backends
