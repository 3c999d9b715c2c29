#include "backends/target/shard_target.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::backends {
namespace {

v1::ShardTarget AsSent(const std::string& line, uint16_t default_port) {
  const Target parsed = ParseTarget(line, default_port).value();
  v1::ShardTarget shard;
  shard.set_line_number(7);
  shard.set_input(parsed.input);
  shard.set_weight(parsed.weight);
  shard.set_kind(TargetKindOf(parsed.kind));
  shard.set_name(parsed.name);
  shard.set_port(parsed.port);
  return shard;
}

TEST(ShardTargetTest, EveryKindComesBackAsTheCoordinatorParsedIt) {
  for (const char* line : {"Example.COM,12.5", "[mx.example.com]:587", "mx.example.com:2525",
                           "192.0.2.1", "[2001:db8::1]:465", "bücher.example"}) {
    const Target parsed = ParseTarget(line, 2525).value();
    const absl::StatusOr<Target> rebuilt = TargetFromShard(AsSent(line, 2525));
    ASSERT_TRUE(rebuilt.ok()) << line << ": " << rebuilt.status();
    EXPECT_EQ(rebuilt->kind, parsed.kind) << line;
    EXPECT_EQ(rebuilt->name, parsed.name) << line;
    EXPECT_EQ(rebuilt->port, parsed.port) << line;
    EXPECT_EQ(rebuilt->weight, parsed.weight) << line;
    EXPECT_EQ(rebuilt->input, parsed.input) << line;
    EXPECT_EQ(rebuilt->address, parsed.address) << line;
  }
}

TEST(ShardTargetTest, ATargetWithoutItsParsedFormIsRefusedNotGuessed) {
  v1::ShardTarget only_line;
  only_line.set_input("example.com");
  const absl::StatusOr<Target> unparsed = TargetFromShard(only_line);
  ASSERT_FALSE(unparsed.ok());
  EXPECT_NE(unparsed.status().message().find("upgrade the coordinator"), std::string::npos);

  v1::ShardTarget bad_address = AsSent("192.0.2.1", 25);
  bad_address.set_name("not-an-address");
  EXPECT_FALSE(TargetFromShard(bad_address).ok());
  v1::ShardTarget no_port = AsSent("example.com", 25);
  no_port.set_port(0);
  EXPECT_FALSE(TargetFromShard(no_port).ok());
  v1::ShardTarget big_port = AsSent("example.com", 25);
  big_port.set_port(70000);
  EXPECT_FALSE(TargetFromShard(big_port).ok());
}

}  // namespace
}  // namespace tlsweep::backends
