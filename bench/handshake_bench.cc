// In-memory handshakes per second for every (client, server) backend pairing: the floor that
// network probes are later compared with (agent CPU per handshake / this figure).
//
//   build/bin/handshake_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>

#include "backends/memory_pump.h"
#include "tests/testing/backend_fixture.h"

namespace {

using tlsweep::backends::ClientConfig;
using tlsweep::backends::HandshakeState;
using tlsweep::backends::TlsVersion;
using tlsweep::testing::GetBackend;
using tlsweep::testing::MakeServerConfig;
using tlsweep::testing::SharedPki;

void BM_InMemoryHandshake(benchmark::State& state, const std::string& client_name,
                          const std::string& server_name, TlsVersion version, bool ecdsa) {
  ClientConfig client_config;
  client_config.min_version = version;
  client_config.max_version = version;
  const auto server_config =
      MakeServerConfig(server_name, ecdsa ? SharedPki().ecdsa : SharedPki().rsa);
  auto& client_backend = GetBackend(client_name);
  auto& server_backend = GetBackend(server_name);
  for (auto _ : state) {
    auto client = client_backend.NewClient(client_config);
    auto server = server_backend.NewServer(server_config);
    const auto result = tlsweep::backends::PumpHandshake(**client, **server);
    if (result.client != HandshakeState::kComplete) {
      state.SkipWithError((*client)->Outcome().library_error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void RegisterAll() {
  for (const std::string& client : tlsweep::testing::BuiltBackendNames()) {
    for (const std::string& server : tlsweep::testing::BuiltBackendNames()) {
      for (bool ecdsa : {false, true}) {
        for (TlsVersion version : {TlsVersion::kTls1_2, TlsVersion::kTls1_3}) {
          const std::string name = client + "->" + server + "/" +
                                   (version == TlsVersion::kTls1_3 ? "TLSv1.3" : "TLSv1.2") +
                                   (ecdsa ? "/ECDSA" : "/RSA");
          benchmark::RegisterBenchmark(name.c_str(), BM_InMemoryHandshake, client, server, version,
                                       ecdsa)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
