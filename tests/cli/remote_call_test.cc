#include "cli/remote_call.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/cert_factory.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::cli {
namespace {

// A ScanService on loopback that answers GetScan from a fixed scan and records what it got.
class FakeScanService final : public v1::ScanService::Service {
 public:
  grpc::Status GetScan(grpc::ServerContext* context, const v1::GetScanRequest* request,
                       v1::Scan* scan) override {
    std::lock_guard<std::mutex> lock(mutex_);
    has_deadline_ = context->deadline() != std::chrono::system_clock::time_point::max();
    if (request->scan_id() != "s-1") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no scan 's-2'");
    }
    scan->set_scan_id("s-1");
    scan->set_name("weekly");
    return grpc::Status::OK;
  }

  grpc::Status CreateScan(grpc::ServerContext* /*context*/,
                          grpc::ServerReader<v1::CreateScanRequest>* reader,
                          v1::Scan* scan) override {
    v1::CreateScanRequest part;
    std::string header_name;
    std::string list;
    while (reader->Read(&part)) {
      if (part.has_header()) header_name = part.header().name();
      if (part.has_chunk()) list += part.chunk().data();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    header_name_ = header_name;
    list_ = list;
    scan->set_scan_id("s-9");
    scan->set_name(header_name);
    return grpc::Status::OK;
  }

  bool has_deadline() {
    std::lock_guard<std::mutex> lock(mutex_);
    return has_deadline_;
  }
  std::string header_name() {
    std::lock_guard<std::mutex> lock(mutex_);
    return header_name_;
  }
  std::string list() {
    std::lock_guard<std::mutex> lock(mutex_);
    return list_;
  }

 private:
  std::mutex mutex_;
  bool has_deadline_ = false;
  std::string header_name_;
  std::string list_;
};

// Swaps std::cout and std::cerr for strings while alive.
class CapturedOutput {
 public:
  CapturedOutput()
      : out_(std::cout.rdbuf(stdout_.rdbuf())), err_(std::cerr.rdbuf(stderr_.rdbuf())) {}
  ~CapturedOutput() {
    std::cout.rdbuf(out_);
    std::cerr.rdbuf(err_);
  }
  std::string out() const { return stdout_.str(); }
  std::string err() const { return stderr_.str(); }

 private:
  std::ostringstream stdout_;
  std::ostringstream stderr_;
  std::streambuf* out_;
  std::streambuf* err_;
};

class RemoteCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("TLSWEEP_TOKEN");
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    flags_.coordinator = absl::StrCat("127.0.0.1:", port);
    flags_.insecure_dev = true;
  }
  void TearDown() override { server_->Shutdown(); }

  int Get(const std::string& scan_id, bool json) {
    v1::GetScanRequest request;
    request.set_scan_id(scan_id);
    return CallAndPrint<v1::ScanService, v1::Scan>(
        "remote get", flags_, json,
        [&](v1::ScanService::Stub& stub, grpc::ClientContext* context, v1::Scan* scan) {
          return stub.GetScan(context, request, scan);
        },
        [](const v1::Scan& scan) { std::cout << "text " << scan.scan_id() << "\n"; });
  }

  FakeScanService service_;
  std::unique_ptr<grpc::Server> server_;
  RemoteFlags flags_;
};

TEST_F(RemoteCallTest, TextModePrintsThroughPrintWithTheCallDeadline) {
  CapturedOutput output;
  EXPECT_EQ(Get("s-1", /*json=*/false), 0);
  EXPECT_EQ(output.out(), "text s-1\n");
  EXPECT_EQ(output.err(), "");
  EXPECT_TRUE(service_.has_deadline());
}

TEST_F(RemoteCallTest, JsonModePrintsTheResponseWithProtoFieldNames) {
  CapturedOutput output;
  EXPECT_EQ(Get("s-1", /*json=*/true), 0);
  EXPECT_FALSE(absl::StrContains(output.out(), "text ")) << output.out();
  EXPECT_TRUE(absl::StrContains(output.out(), "\"scan_id\": \"s-1\"")) << output.out();
  EXPECT_TRUE(absl::StrContains(output.out(), "\"name\": \"weekly\"")) << output.out();
}

TEST_F(RemoteCallTest, NotFoundExits5AndSaysWhichCommand) {
  CapturedOutput output;
  EXPECT_EQ(Get("s-2", /*json=*/false), 5);
  EXPECT_EQ(output.out(), "");
  EXPECT_EQ(output.err(), "tlsweep remote get: no scan 's-2'\n");
}

TEST_F(RemoteCallTest, ConnectionThatCannotOpenExits2WithoutCalling) {
  flags_.coordinator = "192.0.2.1:7443";  // --dev refuses it before any connection.
  CapturedOutput output;
  bool called = false;
  const int code = WithStub<v1::ScanService>("remote list", flags_,
                                             [&](v1::ScanService::Stub&, const RemoteConnection&) {
                                               called = true;
                                               return 0;
                                             });
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(called);
  EXPECT_TRUE(absl::StartsWith(output.err(), "tlsweep remote list: --dev")) << output.err();
}

TEST_F(RemoteCallTest, UploadSendsTheHeaderThenTheWholeList) {
  const std::string directory = tlsweep::testing::MakeTempDirectory("remote-call");
  const std::string path = directory + "/domains.txt";
  std::string list;
  // More than one chunk, so the pieces must arrive in order.
  for (int i = 0; list.size() < kListChunkBytes + 1000; ++i) {
    absl::StrAppend(&list, "domain-", i, ".example,", i, "\n");
  }
  std::ofstream(path) << list;
  v1::CreateScanRequest header;
  header.mutable_header()->set_name("upload");
  v1::Scan scan;
  CapturedOutput output;
  const int code = WithStub<v1::ScanService>(
      "remote submit", flags_, [&](v1::ScanService::Stub& stub, const RemoteConnection& c) {
        return UploadList(
            "remote submit", c, header, path,
            [&](grpc::ClientContext* context, v1::Scan* response) {
              return stub.CreateScan(context, response);
            },
            &scan);
      });
  EXPECT_EQ(code, 0) << output.err();
  EXPECT_EQ(scan.scan_id(), "s-9");
  EXPECT_EQ(service_.header_name(), "upload");
  EXPECT_EQ(service_.list(), list);
}

TEST_F(RemoteCallTest, UnreadableListExits2AndNamesTheFile) {
  v1::CreateScanRequest header;
  header.mutable_header()->set_name("upload");
  v1::Scan scan;
  CapturedOutput output;
  const int code = WithStub<v1::ScanService>(
      "schedule add", flags_, [&](v1::ScanService::Stub& stub, const RemoteConnection& c) {
        return UploadList(
            "schedule add", c, header, "/nonexistent/domains.txt",
            [&](grpc::ClientContext* context, v1::Scan* response) {
              return stub.CreateScan(context, response);
            },
            &scan);
      });
  EXPECT_EQ(code, 2);
  EXPECT_EQ(output.err(), "tlsweep schedule add: cannot read '/nonexistent/domains.txt'\n");
  EXPECT_EQ(service_.list(), "");
}

}  // namespace
}  // namespace tlsweep::cli
