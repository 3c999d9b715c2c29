// The sans-I/O TlsEngine on top of a non-blocking GnuTLS session whose transport functions read
// from and write to in-memory buffers.
#pragma once

#include <gnutls/gnutls.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/gnutls/gnutls_util.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_config.h"
#include "backends/tls_engine.h"

namespace tlsweep::backends::gnutls_backend {

class GnutlsEngine final : public TlsEngine {
 public:
  // Configuration errors (unreadable files, a bad priority string...) are returned here, before
  // any byte is exchanged.
  static absl::StatusOr<std::unique_ptr<TlsEngine>> NewClient(const ClientConfig& config);
  static absl::StatusOr<std::unique_ptr<TlsEngine>> NewServer(const ServerConfig& config);

  ~GnutlsEngine() override;
  GnutlsEngine(const GnutlsEngine&) = delete;
  GnutlsEngine& operator=(const GnutlsEngine&) = delete;

  void ReceiveBytes(absl::string_view bytes) override;
  void ReceiveEof() override;
  HandshakeState Advance() override;
  std::string TakeOutput() override;
  const HandshakeOutcome& Outcome() const override { return outcome_; }

  absl::Status WriteApplicationData(absl::string_view plaintext) override;
  absl::StatusOr<std::string> ReadApplicationData() override;
  void Close() override;

 private:
  enum class Role { kClient, kServer };

  explicit GnutlsEngine(Role role) : role_(role) {}

  // Creates the session and installs the transport callbacks, `priority_` and the credentials.
  absl::Status InitSession();

  static ssize_t Push(gnutls_transport_ptr_t self, const void* data, size_t size);
  static ssize_t Pull(gnutls_transport_ptr_t self, void* data, size_t size);
  static int PullTimeout(gnutls_transport_ptr_t self, unsigned int ms);

  HandshakeState Fail(FailureClass failure, std::string library_error);
  HandshakeState FailWithGnutlsError(int error);
  // Sends the alert GnuTLS associates with `error`; records it in the outcome when it went out.
  bool SendAppropriateAlert(int error);
  // Sends a fatal alert of our choosing; records it in the outcome when it went out.
  bool SendAlert(gnutls_alert_description_t alert);
  // Server: true when the ClientHello received so far offers no version this server enables.
  bool ClientVersionsDisjoint() const;
  void FillSuccess();
  void Verify();

  const Role role_;
  gnutls_session_t session_ = nullptr;
  gnutls_certificate_credentials_t certificate_credentials_ = nullptr;
  // Set when certificate_credentials_ is a shared client trust store (not freed here).
  std::shared_ptr<gnutls_certificate_credentials_st> shared_credentials_;
  gnutls_anon_client_credentials_t anon_client_credentials_ = nullptr;
  gnutls_anon_server_credentials_t anon_server_credentials_ = nullptr;
  PriorityPtr priority_;

  // Client verification settings.
  bool verify_ = false;
  std::string verify_name_;

  std::string input_;  // Received, not yet read by GnuTLS.
  size_t input_pos_ = 0;
  bool eof_ = false;
  bool received_any_ = false;
  bool sent_any_ = false;
  // False until the first received bytes were checked by MayBeTlsRecord(); GnuTLS reads nothing
  // before that.
  bool tls_checked_ = false;
  std::string output_;
  // Server: the first bytes received, to read the ClientHello when GnuTLS rejects it.
  std::string client_hello_log_;

  HandshakeState state_ = HandshakeState::kInProgress;
  HandshakeOutcome outcome_;

  bool peer_closed_ = false;         // close_notify received.
  absl::Status pending_read_error_;  // Reported by the next ReadApplicationData().
};

}  // namespace tlsweep::backends::gnutls_backend
