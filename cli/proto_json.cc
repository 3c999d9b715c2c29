#include "cli/proto_json.h"

#include <google/protobuf/util/json_util.h>

namespace tlsweep::cli {

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string json;
  // Printing a well-formed message cannot fail; an empty object is the safe fallback.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) json = "{}";
  if (pretty && !json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

}  // namespace tlsweep::cli
