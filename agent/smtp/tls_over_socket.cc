#include "agent/smtp/tls_over_socket.h"

#include <string>

namespace tlsweep::agent {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

asio::awaitable<TlsDriveResult> DriveHandshake(TimedSocket& socket, backends::TlsEngine& engine,
                                               Clock::time_point deadline, size_t max_bytes) {
  size_t received = 0;
  std::string chunk;
  while (true) {
    const backends::HandshakeState state = engine.Advance();
    const std::string output = engine.TakeOutput();
    if (!output.empty()) {
      const IoResult io = co_await socket.WriteAll(output, deadline);
      if (io.timed_out) co_return TlsDriveResult::kTimeout;
      // A failed write is reported by the read below (EOF or reset), or by the engine's state.
      if (io.error && state == backends::HandshakeState::kInProgress) {
        engine.ReceiveEof();
        continue;
      }
    }
    if (state == backends::HandshakeState::kComplete) co_return TlsDriveResult::kComplete;
    if (state == backends::HandshakeState::kFailed) co_return TlsDriveResult::kFailed;
    chunk.clear();
    const IoResult io = co_await socket.ReadSome(chunk, kReadChunk, deadline);
    if (io.timed_out) co_return TlsDriveResult::kTimeout;
    if (io.error) {
      engine.ReceiveEof();  // EOF, reset, or any other transport failure ends the stream.
      continue;
    }
    received += io.bytes;
    if (received > max_bytes) co_return TlsDriveResult::kTooLarge;
    engine.ReceiveBytes(chunk);
  }
}

asio::awaitable<void> SendOverTls(TimedSocket& socket, backends::TlsEngine& engine,
                                  absl::string_view command, Clock::time_point deadline) {
  std::string line(command);
  line += "\r\n";
  if (!engine.WriteApplicationData(line).ok()) co_return;
  const std::string record = engine.TakeOutput();
  const IoResult written = co_await socket.WriteAll(record, deadline);
  if (!written.ok()) co_return;
  std::string chunk;
  const IoResult read = co_await socket.ReadSome(chunk, kReadChunk, deadline);
  if (read.ok()) {
    engine.ReceiveBytes(chunk);
    (void)engine.ReadApplicationData();
  }
  engine.Close();
  const std::string close_notify = engine.TakeOutput();
  (void)co_await socket.WriteAll(close_notify, deadline);
}

}  // namespace tlsweep::agent
