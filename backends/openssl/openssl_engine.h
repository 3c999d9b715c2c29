// The OpenSSL TLS engine: an SSL object between two memory BIOs. Private to the plugin.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "backends/openssl/openssl_context.h"
#include "backends/tls_engine.h"

namespace tlsweep::backends::openssl {

class OpensslEngine final : public TlsEngine {
 public:
  // Client: `sni` may be empty; verification runs when the context has a CA bundle
  // (`verify`), against `verify_name`.
  static absl::StatusOr<std::unique_ptr<OpensslEngine>> NewClient(SslCtxPtr ctx,
                                                                  const std::string& sni,
                                                                  bool verify,
                                                                  std::string verify_name);
  static absl::StatusOr<std::unique_ptr<OpensslEngine>> NewServer(SslCtxPtr ctx);
  ~OpensslEngine() override;

  void ReceiveBytes(absl::string_view bytes) override;
  void ReceiveEof() override;
  HandshakeState Advance() override;
  std::string TakeOutput() override;
  const HandshakeOutcome& Outcome() const override { return outcome_; }
  absl::Status WriteApplicationData(absl::string_view plaintext) override;
  absl::StatusOr<std::string> ReadApplicationData() override;
  void Close() override;

 private:
  OpensslEngine(SslCtxPtr ctx, SSL* ssl, BIO* network_in, BIO* network_out);
  static void InfoCallback(const SSL* ssl, int where, int ret);
  void Fail(FailureClass failure, std::string error);
  void ClassifyFailure(int ssl_error);
  void RecordSuccess();
  void RecordVerification();

  SslCtxPtr ctx_;
  SSL* ssl_;
  BIO* network_in_;   // Bytes from the peer; owned by ssl_.
  BIO* network_out_;  // Bytes for the peer; owned by ssl_.
  bool is_client_ = false;
  bool verify_ = false;
  std::string verify_name_;
  bool saw_first_bytes_ = false;
  bool not_tls_ = false;
  bool eof_ = false;
  HandshakeState state_ = HandshakeState::kInProgress;
  int alert_received_ = -1;
  int alert_sent_ = -1;
  HandshakeOutcome outcome_;
};

}  // namespace tlsweep::backends::openssl
