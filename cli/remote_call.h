// The shape every `tlsweep remote ...` and `tlsweep schedule ...` command shares: open the
// connection the flags name, make a stub, call, print the answer as text or JSON, and turn each
// failure into the command's exit code (2: flags or input, nothing called; else
// ReportRpcError's). `command` ("remote get") starts every message.
#pragma once

#include <grpcpp/grpcpp.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cli/proto_json.h"
#include "cli/remote_client.h"

namespace tlsweep::cli {

inline constexpr size_t kListChunkBytes = 256 << 10;

// Prints "tlsweep COMMAND: MESSAGE" and returns 2.
int ReportCommandError(absl::string_view command, const absl::Status& status);

// Opens the connection and a `Service` stub on it, then returns `body(stub, connection)`.
template <typename Service, typename Body>
int WithStub(absl::string_view command, const RemoteFlags& flags, Body&& body) {
  absl::StatusOr<RemoteConnection> connection = RemoteConnection::Open(flags);
  if (!connection.ok()) return ReportCommandError(command, connection.status());
  std::unique_ptr<typename Service::Stub> stub = Service::NewStub(connection->shared_channel());
  return std::forward<Body>(body)(*stub, std::as_const(*connection));
}

// One unary call: `call(stub, context, response)` with the token and deadline set. On success
// the response is printed as JSON (proto field names) when `json`, else by `print(response)`,
// and the exit code is 0.
template <typename Service, typename Response, typename Call, typename Print>
int CallAndPrint(absl::string_view command, const RemoteFlags& flags, bool json, Call&& call,
                 Print&& print) {
  return WithStub<Service>(command, flags,
                           [&](typename Service::Stub& stub, const RemoteConnection& connection) {
                             grpc::ClientContext context;
                             connection.Prepare(context);
                             Response response;
                             const grpc::Status status = call(stub, &context, &response);
                             if (!status.ok()) return ReportRpcError(command, status);
                             if (json) {
                               std::cout << ToJson(response, true) << "\n";
                             } else {
                               print(response);
                             }
                             return 0;
                           });
}

// A client-streaming upload of a target list: `header`, then the list at `path` ("-": standard
// input) in chunks, through the writer `open(context, response)` starts. A list that cannot be
// read cancels the call, so the coordinator keeps nothing of it. Returns 0 when the call
// succeeded (`response` is the answer), else the exit code, already reported.
template <typename Request, typename Response, typename Open>
int UploadList(absl::string_view command, const RemoteConnection& connection, const Request& header,
               const std::string& path, Open&& open, Response* response) {
  grpc::ClientContext context;
  connection.Prepare(context, /*streaming=*/true);
  std::unique_ptr<grpc::ClientWriter<Request>> writer = open(&context, response);
  absl::Status read = absl::OkStatus();
  if (writer->Write(header)) {
    read = StreamFile(path, kListChunkBytes, [&](std::string chunk) {
      Request part;
      part.mutable_chunk()->set_data(std::move(chunk));
      return writer->Write(part);
    });
  }
  if (!read.ok()) context.TryCancel();
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!read.ok()) return ReportCommandError(command, read);
  if (!status.ok()) return ReportRpcError(command, status);
  return 0;
}

}  // namespace tlsweep::cli
