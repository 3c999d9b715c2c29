// The rawhello client engine: sends one prepared ClientHello, reads the server's answer until the
// server has chosen (server_answer.h), checks the choice against the offer as a client would, and
// stops. It never does a key exchange: a successful outcome means "the server chose", and says so
// in library_error, which begins with kServerHelloOnly. Private to the plugin.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "backends/rawhello/hello_plan.h"
#include "backends/rawhello/server_answer.h"
#include "backends/rawhello/trust_store.h"
#include "backends/tls_engine.h"

namespace tlsweep::backends::rawhello {

// The agreed marker: a successful rawhello outcome's library_error is this, optionally followed
// by "; key=value" details (hrr, sigalg, flight...). See README.md.
inline constexpr char kServerHelloOnly[] = "serverhello-only";

// The most the engine buffers of a server's first flight. A certificate chain rarely passes
// 16 KiB; past this cap the engine decides with what it has.
inline constexpr size_t kMaxAnswerBytes = 256 * 1024;

class RawHelloEngine final : public TlsEngine {
 public:
  // `hello`: the records WriteClientHello made from `plan`. `trust`: null, or the CA bundle to
  // verify a TLS <= 1.2 chain with, against `verify_name`.
  RawHelloEngine(HelloPlan plan, std::string hello, std::shared_ptr<const TrustStore> trust,
                 std::string verify_name);

  void ReceiveBytes(absl::string_view bytes) override;
  void ReceiveEof() override;
  HandshakeState Advance() override;
  std::string TakeOutput() override;
  const HandshakeOutcome& Outcome() const override { return outcome_; }
  // There is no record protection to speak of: the engine stops before any key exists.
  absl::Status WriteApplicationData(absl::string_view plaintext) override;
  absl::StatusOr<std::string> ReadApplicationData() override;
  // Nothing to send: an alert after a TLS 1.3 ServerHello would have to be encrypted. The caller
  // closes the connection.
  void Close() override {}

 private:
  void Decide(const ServerAnswer& answer);
  void Chosen(const ServerAnswer& answer);
  void ChosenSslv2(const ServerAnswer& answer);
  // Why a client must refuse the server's TLS choice; empty when it may accept it.
  std::string RefuseChoice(const ParsedServerHello& hello, int& alert) const;
  void Succeed(std::string details);
  void Fail(FailureClass failure, std::string error);
  // Fails and queues a fatal alert, as a client that objects to what it received does.
  void FailWithAlert(FailureClass failure, int alert, std::string error);

  HelloPlan plan_;
  std::string hello_;
  std::shared_ptr<const TrustStore> trust_;
  std::string verify_name_;
  bool hello_sent_ = false;
  std::string received_;
  ServerAnswerReader reader_;  // Resumes where it stopped: received_ only grows.
  bool overflow_ = false;
  bool eof_ = false;
  std::string output_;
  HandshakeState state_ = HandshakeState::kInProgress;
  HandshakeOutcome outcome_;
};

}  // namespace tlsweep::backends::rawhello
