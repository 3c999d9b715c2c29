#include "backends/target/shard_target.h"

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

v1::TargetKind TargetKindOf(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::kDomain:
      return v1::TARGET_DOMAIN;
    case Target::Kind::kHost:
      return v1::TARGET_HOST;
    case Target::Kind::kAddress:
      return v1::TARGET_ADDRESS;
  }
  return v1::TARGET_KIND_UNSPECIFIED;
}

absl::StatusOr<Target> TargetFromShard(const v1::ShardTarget& shard) {
  Target target;
  switch (shard.kind()) {
    case v1::TARGET_DOMAIN:
      target.kind = Target::Kind::kDomain;
      break;
    case v1::TARGET_HOST:
      target.kind = Target::Kind::kHost;
      break;
    case v1::TARGET_ADDRESS:
      target.kind = Target::Kind::kAddress;
      break;
    default:
      return absl::InvalidArgumentError(
          "the coordinator sent the target without its parsed form; upgrade the coordinator");
  }
  if (shard.name().empty()) return absl::InvalidArgumentError("the target has no name");
  if (shard.port() == 0 || shard.port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", shard.port(), " out of range"));
  }
  target.input = shard.input().empty() ? shard.name() : shard.input();
  target.name = shard.name();
  target.port = static_cast<uint16_t>(shard.port());
  target.weight = shard.weight();
  if (target.kind == Target::Kind::kAddress) {
    asio::error_code error;
    target.address = asio::ip::make_address(shard.name(), error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrCat("'", shard.name(), "' is not an address"));
    }
  }
  return target;
}

}  // namespace tlsweep::backends
