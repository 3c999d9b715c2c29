#include "backends/openssl/openssl_engine.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/failure_rules.h"
#include "backends/openssl/openssl_certificate.h"
#include "backends/tls_record.h"

namespace tlsweep::backends::openssl {
namespace {

std::string CertificateDer(X509* certificate) {
  const int length = i2d_X509(certificate, nullptr);
  if (length <= 0) return {};
  std::string der(static_cast<size_t>(length), '\0');
  auto* cursor = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(certificate, &cursor);
  return der;
}

bool IsVersionReason(int reason) {
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<OpensslEngine>> OpensslEngine::NewClient(SslCtxPtr ctx,
                                                                        const std::string& sni,
                                                                        bool verify,
                                                                        std::string verify_name) {
  SSL* ssl = SSL_new(ctx.get());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    return absl::ResourceExhaustedError("cannot allocate an OpenSSL session");
  }
  std::unique_ptr<OpensslEngine> engine(new OpensslEngine(std::move(ctx), ssl, in, out));
  engine->is_client_ = true;
  engine->verify_ = verify;
  engine->verify_name_ = std::move(verify_name);
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("invalid SNI name '", sni, "'"));
  }
  SSL_set_connect_state(ssl);
  return engine;
}

absl::StatusOr<std::unique_ptr<OpensslEngine>> OpensslEngine::NewServer(SslCtxPtr ctx) {
  SSL* ssl = SSL_new(ctx.get());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    return absl::ResourceExhaustedError("cannot allocate an OpenSSL session");
  }
  std::unique_ptr<OpensslEngine> engine(new OpensslEngine(std::move(ctx), ssl, in, out));
  SSL_set_accept_state(ssl);
  return engine;
}

OpensslEngine::OpensslEngine(SslCtxPtr ctx, SSL* ssl, BIO* network_in, BIO* network_out)
    : ctx_(std::move(ctx)), ssl_(ssl), network_in_(network_in), network_out_(network_out) {
  // An empty input BIO means "no data yet" (retry), not end of stream, until ReceiveEof().
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);
  SSL_set_app_data(ssl_, this);
  SSL_set_info_callback(ssl_, &OpensslEngine::InfoCallback);
}

OpensslEngine::~OpensslEngine() { SSL_free(ssl_); }

void OpensslEngine::InfoCallback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0) return;
  auto* engine = static_cast<OpensslEngine*>(SSL_get_app_data(ssl));
  const int level = (ret >> 8) & 0xff;
  const int code = ret & 0xff;
  if (code == 0 || level != 2) return;  // Only fatal alerts explain a failure.
  if ((where & SSL_CB_READ) != 0) {
    engine->alert_received_ = code;
  } else if (engine->alert_sent_ < 0) {
    engine->alert_sent_ = code;
  }
}

void OpensslEngine::ReceiveBytes(absl::string_view bytes) {
  if (bytes.empty()) return;
  if (!saw_first_bytes_) {
    saw_first_bytes_ = true;
    not_tls_ = !MayBeTlsRecord(bytes);
  }
  BIO_write(network_in_, bytes.data(), static_cast<int>(bytes.size()));
}

void OpensslEngine::ReceiveEof() {
  eof_ = true;
  BIO_set_mem_eof_return(network_in_, 0);
}

HandshakeState OpensslEngine::Advance() {
  if (state_ != HandshakeState::kInProgress) return state_;
  if (not_tls_) {
    Fail(FailureClass::kNotTls, "peer did not answer with TLS records");
    return state_;
  }
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    RecordSuccess();
    return state_;
  }
  const int ssl_error = SSL_get_error(ssl_, result);
  if ((ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) && !eof_) {
    return state_;
  }
  ClassifyFailure(ssl_error);
  return state_;
}

void OpensslEngine::Fail(FailureClass failure, std::string error) {
  state_ = HandshakeState::kFailed;
  outcome_.success = false;
  outcome_.failure = failure;
  outcome_.library_error = std::move(error);
}

void OpensslEngine::ClassifyFailure(int ssl_error) {
  const unsigned long first_error = ERR_peek_error();
  const int reason = ERR_GET_REASON(first_error);
  std::string text = DrainErrorQueue();
  if (text.empty() && ssl_error == SSL_ERROR_SYSCALL) text = "unexpected end of stream";
  if (text.empty()) text = absl::StrCat("SSL_get_error ", ssl_error);

  if (alert_received_ >= 0) {
    outcome_.alert_code = alert_received_;
    outcome_.alert_sent = false;
    Fail(ClassifyReceivedAlert(alert_received_), std::move(text));
    return;
  }
  if (alert_sent_ >= 0) {
    outcome_.alert_code = alert_sent_;
    outcome_.alert_sent = true;
  }
  if (reason == SSL_R_NO_SHARED_CIPHER || reason == SSL_R_NO_SHARED_GROUPS ||
      reason == SSL_R_NO_SUITABLE_KEY_SHARE || reason == SSL_R_NO_CIPHERS_AVAILABLE) {
    Fail(FailureClass::kNoSharedCipher, std::move(text));
  } else if (IsVersionReason(reason)) {
    Fail(FailureClass::kProtocolVersion, std::move(text));
  } else if (eof_ && (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING || first_error == 0 ||
                      ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_WANT_READ)) {
    Fail(FailureClass::kUnexpectedEof, std::move(text));
  } else if (alert_sent_ >= 0) {
    Fail(FailureClass::kAlertSent, std::move(text));
  } else {
    Fail(FailureClass::kInternalError, std::move(text));
  }
}

void OpensslEngine::RecordSuccess() {
  state_ = HandshakeState::kComplete;
  outcome_.success = true;
  outcome_.failure = FailureClass::kNone;
  outcome_.version = static_cast<TlsVersion>(SSL_version(ssl_));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_); cipher != nullptr) {
    outcome_.suite_code = SSL_CIPHER_get_protocol_id(cipher);
    outcome_.library_suite_name = SSL_CIPHER_get_name(cipher);
  }
  const int group_nid = SSL_get_negotiated_group(ssl_);
  outcome_.group = group_nid > 0 ? GroupIdFromNid(group_nid) : 0;
  if (is_client_) {
    if (EVP_PKEY* peer_key = nullptr; SSL_get_peer_tmp_key(ssl_, &peer_key) == 1) {
      if (EVP_PKEY_get_base_id(peer_key) == EVP_PKEY_DH) {
        outcome_.dh_bits = static_cast<uint32_t>(EVP_PKEY_get_bits(peer_key));
      }
      EVP_PKEY_free(peer_key);
    }
    // On the client side the chain includes the leaf, in the order the server sent it.
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_); chain != nullptr) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        outcome_.peer_chain.push_back(
            DescribeCertificateWithOpenssl(CertificateDer(sk_X509_value(chain, i))));
      }
    }
    if (verify_) RecordVerification();
  }
}

void OpensslEngine::RecordVerification() {
  Verification& verification = outcome_.verification;
  verification.performed = true;
  const long result = SSL_get_verify_result(ssl_);
  verification.trusted = result == X509_V_OK;
  if (!verification.trusted) verification.error = X509_verify_cert_error_string(result);
  X509* leaf = SSL_get0_peer_certificate(ssl_);
  if (leaf == nullptr) {
    verification.trusted = false;
    verification.error = "no peer certificate";
    return;
  }
  verification.expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
  if (!verify_name_.empty()) {
    const bool is_ip = X509_check_ip_asc(leaf, verify_name_.c_str(), 0) == 1;
    verification.hostname_match =
        is_ip || X509_check_host(leaf, verify_name_.c_str(), verify_name_.size(), 0, nullptr) == 1;
  }
  ERR_clear_error();
}

std::string OpensslEngine::TakeOutput() {
  std::string output;
  const size_t pending = BIO_ctrl_pending(network_out_);
  if (pending == 0) return output;
  output.resize(pending);
  const int read = BIO_read(network_out_, output.data(), static_cast<int>(pending));
  output.resize(read > 0 ? static_cast<size_t>(read) : 0);
  return output;
}

absl::Status OpensslEngine::WriteApplicationData(absl::string_view plaintext) {
  if (state_ != HandshakeState::kComplete) {
    return absl::FailedPreconditionError("the handshake has not completed");
  }
  ERR_clear_error();
  size_t written = 0;
  if (SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) != 1) {
    return absl::UnavailableError(absl::StrCat("SSL_write: ", DrainErrorQueue()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OpensslEngine::ReadApplicationData() {
  if (state_ != HandshakeState::kComplete) {
    return absl::FailedPreconditionError("the handshake has not completed");
  }
  std::string plaintext;
  char buffer[4096];
  while (true) {
    ERR_clear_error();
    size_t read = 0;
    if (SSL_read_ex(ssl_, buffer, sizeof(buffer), &read) == 1) {
      plaintext.append(buffer, read);
      continue;
    }
    const int error = SSL_get_error(ssl_, 0);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_ZERO_RETURN) return plaintext;
    if (!plaintext.empty()) return plaintext;
    return absl::UnavailableError(absl::StrCat("SSL_read: ", DrainErrorQueue()));
  }
}

void OpensslEngine::Close() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace tlsweep::backends::openssl
