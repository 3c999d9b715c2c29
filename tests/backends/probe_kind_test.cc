// The probe kind table: every kind is in it once, names round-trip, and results written
// before probe_kind existed (the string alone) read as their kind.
#include "backends/probe_kind.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/container/flat_hash_set.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::ProbeKind;
using ::tlsweep::v1::ProbeResult;

// What a store or spool written before probe_kind holds: the deprecated string alone.
ProbeResult LegacyResult(const std::string& probe) {
  ProbeResult result;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  result.set_probe(probe);
#pragma GCC diagnostic pop
  return result;
}

TEST(ProbeKindTest, EveryEnumValueButUnspecifiedIsInTheTableOnce) {
  const google::protobuf::EnumDescriptor* descriptor = tlsweep::v1::ProbeKind_descriptor();
  absl::flat_hash_set<int> in_table;
  for (const ProbeKindInfo& info : ProbeKinds()) {
    EXPECT_TRUE(in_table.insert(info.kind).second) << info.name;
    EXPECT_NE(info.kind, tlsweep::v1::PROBE_KIND_UNSPECIFIED);
    EXPECT_FALSE(info.description.empty()) << info.name;
  }
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const int kind = descriptor->value(i)->number();
    if (kind == tlsweep::v1::PROBE_KIND_UNSPECIFIED) continue;
    EXPECT_TRUE(in_table.contains(kind)) << descriptor->value(i)->name() << " has no row";
  }
  EXPECT_EQ(in_table.size(), static_cast<size_t>(descriptor->value_count() - 1));
}

TEST(ProbeKindTest, NamesAreUniqueAndRoundTrip) {
  absl::flat_hash_set<std::string> names;
  for (const ProbeKindInfo& info : ProbeKinds()) {
    EXPECT_FALSE(info.name.empty());
    EXPECT_TRUE(names.insert(std::string(info.name)).second) << info.name;
    EXPECT_EQ(ProbeKindName(info.kind), info.name);
    EXPECT_EQ(ProbeKindFromName(info.name), info.kind);
  }
  EXPECT_EQ(ProbeKindName(tlsweep::v1::PROBE_KIND_UNSPECIFIED), "");
  EXPECT_EQ(ProbeKindFromName(""), tlsweep::v1::PROBE_KIND_UNSPECIFIED);
  EXPECT_EQ(ProbeKindFromName("handshake"), tlsweep::v1::PROBE_KIND_UNSPECIFIED);
}

// Stored SQL columns, metrics labels and old spools hold these exact strings.
TEST(ProbeKindTest, NamesAreTheOnesStoresHold) {
  EXPECT_EQ(ProbeKindName(tlsweep::v1::PROBE_KIND_STARTTLS), "starttls");
  EXPECT_EQ(ProbeKindName(tlsweep::v1::PROBE_KIND_ENUMERATE), "enumerate");
  EXPECT_EQ(ProbeKindName(tlsweep::v1::PROBE_KIND_ROUTE), "route");
}

TEST(ProbeKindTest, LegacyStringOnlyResultMapsToItsKind) {
  for (const ProbeKindInfo& info : ProbeKinds()) {
    EXPECT_EQ(ProbeKindOf(LegacyResult(std::string(info.name))), info.kind) << info.name;
  }
  EXPECT_EQ(ProbeKindOf(LegacyResult("")), tlsweep::v1::PROBE_KIND_UNSPECIFIED);
  EXPECT_EQ(ProbeKindOf(ProbeResult()), tlsweep::v1::PROBE_KIND_UNSPECIFIED);
}

TEST(ProbeKindTest, LegacyResultSurvivesSerialization) {
  ProbeResult parsed;
  ASSERT_TRUE(parsed.ParseFromString(LegacyResult("enumerate").SerializeAsString()));
  EXPECT_EQ(ProbeKindOf(parsed), tlsweep::v1::PROBE_KIND_ENUMERATE);
}

TEST(ProbeKindTest, TheEnumWinsOverTheLegacyString) {
  ProbeResult result = LegacyResult("route");
  result.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  EXPECT_EQ(ProbeKindOf(result), tlsweep::v1::PROBE_KIND_STARTTLS);
}

}  // namespace
}  // namespace tlsweep::backends
