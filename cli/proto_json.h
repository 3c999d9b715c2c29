// JSON output is the protobuf JSON mapping of the schema messages, with proto field names.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace tlsweep::cli {

std::string ToJson(const google::protobuf::Message& message, bool pretty = false);

}  // namespace tlsweep::cli
