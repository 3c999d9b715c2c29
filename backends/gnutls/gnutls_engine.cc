#include "backends/gnutls/gnutls_engine.h"

#include <gnutls/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "backends/failure_rules.h"
#include "backends/gnutls/gnutls_certificate.h"
#include "backends/hello_parser.h"
#include "backends/tls_record.h"

namespace tlsweep::backends::gnutls_backend {
namespace {

// Bounds the loops that retry GnuTLS after a non-fatal error (warning alerts and the like).
constexpr int kMaxNonFatalRetries = 64;

// Enough for any ClientHello a scanner will meet (GnuTLS itself caps it near 64 KiB).
constexpr size_t kClientHelloLogLimit = 1 << 16;

absl::Status CheckReadableFile(const std::string& path, absl::string_view what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(what, " not found: ", path));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is a directory: ", path));
  }
  return absl::OkStatus();
}

// Errors meaning "the peer offered nothing we can accept": no suite, no group, or no suite our
// credentials can serve.
bool IsNoSharedCipherError(int error) {
  switch (error) {
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_ECC_NO_SUPPORTED_CURVES:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
      return true;
    default:
      return false;
  }
}

// Errors with a purely local cause: nothing the peer sent explains them.
bool IsLocalError(int error) {
  switch (error) {
    case GNUTLS_E_MEMORY_ERROR:
    case GNUTLS_E_INTERNAL_ERROR:
    case GNUTLS_E_INVALID_REQUEST:
    case GNUTLS_E_NO_PRIORITIES_WERE_SET:
    case GNUTLS_E_PUSH_ERROR:
    case GNUTLS_E_RANDOM_FAILED:
    case GNUTLS_E_LIB_IN_ERROR_STATE:
    case GNUTLS_E_FILE_ERROR:
    case GNUTLS_E_CERTIFICATE_KEY_MISMATCH:
    case GNUTLS_E_TIMEDOUT:  // Timeouts are disabled; the caller owns the timers.
      return true;
    default:
      return false;
  }
}

std::string AlertNameOrNumber(int code) {
  const char* name = gnutls_alert_get_strname(static_cast<gnutls_alert_description_t>(code));
  return name != nullptr ? std::string(name) : absl::StrCat(code);
}

// Client credentials per CA bundle, shared by every client session: loading a bundle of ~150
// certificates costs several times a handshake. GnuTLS allows sharing credentials between
// sessions and threads as long as nobody modifies them.
absl::StatusOr<std::shared_ptr<gnutls_certificate_credentials_st>> ClientCredentialsFor(
    const std::string& ca_file) {
  static std::mutex mutex;
  static auto* cache =
      new absl::flat_hash_map<std::string, std::shared_ptr<gnutls_certificate_credentials_st>>();
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache->find(ca_file);
    if (it != cache->end()) return it->second;
  }
  gnutls_certificate_credentials_t raw = nullptr;
  int ret = gnutls_certificate_allocate_credentials(&raw);
  if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  std::shared_ptr<gnutls_certificate_credentials_st> credentials(
      raw, [](gnutls_certificate_credentials_t c) { gnutls_certificate_free_credentials(c); });
  if (!ca_file.empty()) {
    if (absl::Status s = CheckReadableFile(ca_file, "CA file"); !s.ok()) return s;
    ret = gnutls_certificate_set_x509_trust_file(raw, ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (ret < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA file ", ca_file, ": ", GnutlsErrorText(ret)));
    }
    if (ret == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("CA file ", ca_file, " holds no PEM certificate"));
    }
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (cache->size() >= 64) cache->clear();
  (*cache)[ca_file] = credentials;
  return credentials;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsEngine>> GnutlsEngine::NewClient(const ClientConfig& config) {
  auto priority_string = BuildPriorityString(config.ciphers, config.min_version, config.max_version,
                                             config.groups, config.legacy,
                                             /*server_precedence=*/false);
  if (!priority_string.ok()) return priority_string.status();
  auto priority = InitPriority(*priority_string);
  if (!priority.ok()) return priority.status();

  std::unique_ptr<GnutlsEngine> engine(new GnutlsEngine(Role::kClient));
  engine->priority_ = *std::move(priority);

  absl::StatusOr<std::shared_ptr<gnutls_certificate_credentials_st>> credentials =
      ClientCredentialsFor(config.ca_file);
  if (!credentials.ok()) return credentials.status();
  engine->shared_credentials_ = *std::move(credentials);
  engine->certificate_credentials_ = engine->shared_credentials_.get();
  int ret = 0;
  if (!config.ca_file.empty()) {
    engine->verify_ = true;
    engine->verify_name_ = config.verify_name.empty() ? config.sni : config.verify_name;
  }
  // Anonymous suites are offered only when the client holds anonymous credentials; with them the
  // live ClientHello matches what Expand() reports for a priority that enables ANON-(EC)DH.
  if (PriorityHasAnonKx(engine->priority_.get())) {
    ret = gnutls_anon_allocate_client_credentials(&engine->anon_client_credentials_);
    if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  }

  if (absl::Status s = engine->InitSession(); !s.ok()) return s;
  if (!config.sni.empty()) {
    ret = gnutls_server_name_set(engine->session_, GNUTLS_NAME_DNS, config.sni.data(),
                                 config.sni.size());
    if (ret < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot use server name \"", config.sni, "\": ", GnutlsErrorText(ret)));
    }
  }
  return std::unique_ptr<TlsEngine>(std::move(engine));
}

absl::StatusOr<std::unique_ptr<TlsEngine>> GnutlsEngine::NewServer(const ServerConfig& config) {
  auto priority_string =
      BuildPriorityString(config.ciphers, config.min_version, config.max_version, config.groups,
                          config.legacy, config.prefer_server_ciphers);
  if (!priority_string.ok()) return priority_string.status();
  auto priority = InitPriority(*priority_string);
  if (!priority.ok()) return priority.status();

  std::unique_ptr<GnutlsEngine> engine(new GnutlsEngine(Role::kServer));
  engine->priority_ = *std::move(priority);

  if (config.certificate_chain_file.empty() || config.private_key_file.empty()) {
    return absl::InvalidArgumentError("a server needs a certificate chain file and a key file");
  }
  if (absl::Status s = CheckReadableFile(config.certificate_chain_file, "certificate chain file");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadableFile(config.private_key_file, "private key file"); !s.ok()) {
    return s;
  }
  int ret = gnutls_certificate_allocate_credentials(&engine->certificate_credentials_);
  if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  ret = gnutls_certificate_set_x509_key_file2(
      engine->certificate_credentials_, config.certificate_chain_file.c_str(),
      config.private_key_file.c_str(), GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (ret < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load certificate chain ", config.certificate_chain_file, " with key ",
                     config.private_key_file, ": ", GnutlsErrorText(ret)));
  }
  // DHE suites with a client that sends no FFDHE group need parameters of their own.
  ret = gnutls_certificate_set_known_dh_params(engine->certificate_credentials_,
                                               GNUTLS_SEC_PARAM_MEDIUM);
  if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  if (PriorityHasAnonKx(engine->priority_.get())) {
    ret = gnutls_anon_allocate_server_credentials(&engine->anon_server_credentials_);
    if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
    ret = gnutls_anon_set_server_known_dh_params(engine->anon_server_credentials_,
                                                 GNUTLS_SEC_PARAM_MEDIUM);
    if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  }

  if (absl::Status s = engine->InitSession(); !s.ok()) return s;
  return std::unique_ptr<TlsEngine>(std::move(engine));
}

absl::Status GnutlsEngine::InitSession() {
  const unsigned int flags =
      (role_ == Role::kClient ? GNUTLS_CLIENT : GNUTLS_SERVER) | GNUTLS_NONBLOCK;
  int ret = gnutls_init(&session_, flags);
  if (ret < 0) {
    session_ = nullptr;
    return absl::InternalError(absl::StrCat("gnutls_init: ", GnutlsErrorText(ret)));
  }
  ret = gnutls_priority_set(session_, priority_.get());
  if (ret < 0)
    return absl::InternalError(absl::StrCat("gnutls_priority_set: ", GnutlsErrorText(ret)));
  ret = gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, certificate_credentials_);
  if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  if (anon_client_credentials_ != nullptr) {
    ret = gnutls_credentials_set(session_, GNUTLS_CRD_ANON, anon_client_credentials_);
    if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  }
  if (anon_server_credentials_ != nullptr) {
    ret = gnutls_credentials_set(session_, GNUTLS_CRD_ANON, anon_server_credentials_);
    if (ret < 0) return absl::InternalError(GnutlsErrorText(ret));
  }
  gnutls_transport_set_ptr(session_, this);
  gnutls_transport_set_push_function(session_, &GnutlsEngine::Push);
  gnutls_transport_set_pull_function(session_, &GnutlsEngine::Pull);
  gnutls_transport_set_pull_timeout_function(session_, &GnutlsEngine::PullTimeout);
  // The caller owns every timer; GnuTLS's default handshake timeout would fire on its own.
  gnutls_handshake_set_timeout(session_, 0);
  return absl::OkStatus();
}

GnutlsEngine::~GnutlsEngine() {
  // The session refers to the credentials and the priority: it goes first.
  if (session_ != nullptr) gnutls_deinit(session_);
  if (certificate_credentials_ != nullptr && shared_credentials_ == nullptr) {
    gnutls_certificate_free_credentials(certificate_credentials_);
  }
  if (anon_client_credentials_ != nullptr) {
    gnutls_anon_free_client_credentials(anon_client_credentials_);
  }
  if (anon_server_credentials_ != nullptr) {
    gnutls_anon_free_server_credentials(anon_server_credentials_);
  }
}

ssize_t GnutlsEngine::Push(gnutls_transport_ptr_t self, const void* data, size_t size) {
  auto* engine = static_cast<GnutlsEngine*>(self);
  engine->output_.append(static_cast<const char*>(data), size);
  if (size > 0) engine->sent_any_ = true;
  return static_cast<ssize_t>(size);
}

ssize_t GnutlsEngine::Pull(gnutls_transport_ptr_t self, void* data, size_t size) {
  auto* engine = static_cast<GnutlsEngine*>(self);
  const size_t available = engine->input_.size() - engine->input_pos_;
  if (engine->tls_checked_ && available > 0) {
    const size_t n = std::min(size, available);
    std::memcpy(data, engine->input_.data() + engine->input_pos_, n);
    engine->input_pos_ += n;
    if (engine->input_pos_ == engine->input_.size()) {
      engine->input_.clear();
      engine->input_pos_ = 0;
    }
    return static_cast<ssize_t>(n);
  }
  if (engine->eof_ && available == 0) return 0;
  gnutls_transport_set_errno(engine->session_, EAGAIN);
  return -1;
}

// Only reached when a timeout is set, which this engine never does: report what is buffered.
int GnutlsEngine::PullTimeout(gnutls_transport_ptr_t self, unsigned int /*ms*/) {
  auto* engine = static_cast<GnutlsEngine*>(self);
  const bool readable =
      (engine->tls_checked_ && engine->input_pos_ < engine->input_.size()) || engine->eof_;
  return readable ? 1 : 0;
}

void GnutlsEngine::ReceiveBytes(absl::string_view bytes) {
  if (bytes.empty()) return;
  received_any_ = true;
  input_.append(bytes.data(), bytes.size());
  if (role_ == Role::kServer && state_ == HandshakeState::kInProgress &&
      client_hello_log_.size() < kClientHelloLogLimit) {
    client_hello_log_.append(
        bytes.data(), std::min(bytes.size(), kClientHelloLogLimit - client_hello_log_.size()));
  }
}

void GnutlsEngine::ReceiveEof() { eof_ = true; }

std::string GnutlsEngine::TakeOutput() {
  std::string out;
  out.swap(output_);
  return out;
}

HandshakeState GnutlsEngine::Advance() {
  if (state_ != HandshakeState::kInProgress) return state_;

  if (!tls_checked_ && input_pos_ < input_.size()) {
    if (!MayBeTlsRecord(absl::string_view(input_).substr(input_pos_))) {
      return Fail(FailureClass::kNotTls, "peer did not answer with TLS records");
    }
    // One byte proves little: wait for the second (the version's major byte) before GnuTLS
    // reads anything.
    if (input_.size() - input_pos_ >= 2) tls_checked_ = true;
  }
  if (eof_) tls_checked_ = true;  // A lone byte before EOF: GnuTLS sees a truncated record.

  int ret = 0;
  for (int attempt = 0; attempt < kMaxNonFatalRetries; ++attempt) {
    ret = gnutls_handshake(session_);
    // Warning alerts (unrecognized_name...) and similar: the handshake goes on.
    if (ret >= 0 || ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED ||
        gnutls_error_is_fatal(ret)) {
      break;
    }
  }
  if (ret == GNUTLS_E_SUCCESS) {
    FillSuccess();
    state_ = HandshakeState::kComplete;
    return state_;
  }
  if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
    if (eof_) {
      return Fail(FailureClass::kUnexpectedEof, "the connection closed during the handshake");
    }
    return HandshakeState::kInProgress;
  }
  return FailWithGnutlsError(ret);
}

HandshakeState GnutlsEngine::Fail(FailureClass failure, std::string library_error) {
  outcome_.success = false;
  outcome_.failure = failure;
  outcome_.library_error = std::move(library_error);
  state_ = HandshakeState::kFailed;
  return state_;
}

bool GnutlsEngine::SendAppropriateAlert(int error) {
  int level = 0;
  const int alert = gnutls_error_to_alert(error, &level);
  if (alert < 0) return false;
  const int ret = gnutls_alert_send_appropriate(session_, error);
  if (ret < 0) {
    absl::StrAppend(&outcome_.library_error, "; could not send alert ", AlertNameOrNumber(alert),
                    ": ", GnutlsErrorText(ret));
    return false;
  }
  outcome_.alert_code = alert;
  outcome_.alert_sent = true;
  return true;
}

bool GnutlsEngine::SendAlert(gnutls_alert_description_t alert) {
  const int ret = gnutls_alert_send(session_, GNUTLS_AL_FATAL, alert);
  if (ret < 0) {
    absl::StrAppend(&outcome_.library_error, "; could not send alert ",
                    AlertNameOrNumber(static_cast<int>(alert)), ": ", GnutlsErrorText(ret));
    return false;
  }
  outcome_.alert_code = static_cast<int>(alert);
  outcome_.alert_sent = true;
  return true;
}

bool GnutlsEngine::ClientVersionsDisjoint() const {
  const absl::StatusOr<ClientHello> hello = ParseClientHello(client_hello_log_);
  if (!hello.ok()) return false;
  std::vector<TlsVersion> offered = hello->supported_versions;
  if (offered.empty()) {
    // No supported_versions extension: every version up to legacy_version.
    for (TlsVersion v : AllTlsVersions()) {
      if (v <= hello->legacy_version) offered.push_back(v);
    }
  }
  const unsigned int* protocols = nullptr;
  const int count = gnutls_priority_protocol_list(priority_.get(), &protocols);
  for (int i = 0; i < count; ++i) {
    const TlsVersion enabled = FromGnutlsProtocol(static_cast<gnutls_protocol_t>(protocols[i]));
    if (enabled == TlsVersion::kUnknown) continue;
    for (TlsVersion v : offered) {
      if (v == enabled) return false;
    }
  }
  return true;
}

HandshakeState GnutlsEngine::FailWithGnutlsError(int error) {
  Fail(FailureClass::kInternalError, GnutlsErrorText(error));

  if (error == GNUTLS_E_FATAL_ALERT_RECEIVED) {
    const int code = static_cast<int>(gnutls_alert_get(session_));
    outcome_.alert_code = code;
    outcome_.alert_sent = false;
    outcome_.failure = ClassifyReceivedAlert(code);
    absl::StrAppend(&outcome_.library_error, ": ", AlertNameOrNumber(code));
    return state_;
  }

  const bool at_eof = eof_ && input_pos_ >= input_.size();
  if (error == GNUTLS_E_PREMATURE_TERMINATION || error == GNUTLS_E_PULL_ERROR ||
      (at_eof && error == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)) {
    outcome_.failure = FailureClass::kUnexpectedEof;
    return state_;
  }

  if (IsNoSharedCipherError(error)) {
    if (role_ == Role::kClient) {
      if (!sent_any_) {
        // No ClientHello could be built from the priority: configuration, no wire event.
        absl::StrAppend(&outcome_.library_error,
                        " (the priority string leaves nothing to offer for its versions)");
        return state_;
      }
      // The server chose a suite, group or key exchange this client did not offer: the server
      // broke the protocol, this side aborts.
      SendAppropriateAlert(error);
      outcome_.failure = FailureClass::kAlertSent;
      return state_;
    }
    // Server: nothing the client offered is acceptable. GnuTLS reports a version mismatch the
    // same way (it settles on a version first, then finds no suite for it), so the ClientHello
    // decides: no version in common is protocol_version, as OpenSSL answers it.
    if (ClientVersionsDisjoint()) {
      SendAlert(GNUTLS_A_PROTOCOL_VERSION);
      outcome_.failure = FailureClass::kProtocolVersion;
      absl::StrAppend(&outcome_.library_error,
                      " (the client offers no protocol version this server enables)");
      return state_;
    }
    SendAppropriateAlert(error);
    outcome_.failure = FailureClass::kNoSharedCipher;
    return state_;
  }

  if (error == GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
    SendAppropriateAlert(error);
    outcome_.failure = FailureClass::kProtocolVersion;
    return state_;
  }

  if (IsLocalError(error)) {
    // Tell a peer that already talked to us why the connection ends.
    if (received_any_ || sent_any_) SendAppropriateAlert(error);
    outcome_.failure = FailureClass::kInternalError;
    return state_;
  }

  // Anything else is this side rejecting what the peer sent (a bad message, certificate,
  // parameter...). The class holds even if GnuTLS refused to send the alert (alert_sent false).
  SendAppropriateAlert(error);
  outcome_.failure = FailureClass::kAlertSent;
  return state_;
}

void GnutlsEngine::FillSuccess() {
  outcome_.success = true;
  outcome_.failure = FailureClass::kNone;
  const gnutls_protocol_t protocol = gnutls_protocol_get_version(session_);
  outcome_.version = FromGnutlsProtocol(protocol);
  if (std::optional<GnutlsSuite> suite = NegotiatedSuite(session_); suite.has_value()) {
    outcome_.suite_code = suite->code_point;
    outcome_.library_suite_name = suite->name;
  } else {
    const char* name = gnutls_ciphersuite_get(session_);
    outcome_.library_suite_name = name != nullptr ? name : "";
  }

  // The group of an (EC)DHE exchange; RSA and PSK key transport have none. In TLS 1.2, DHE with
  // server-chosen (not FFDHE-named) parameters also reports no group.
  bool uses_group = protocol == GNUTLS_TLS1_3;
  const gnutls_kx_algorithm_t kx = gnutls_kx_get(session_);
  switch (kx) {
    case GNUTLS_KX_DHE_DSS:
    case GNUTLS_KX_DHE_RSA:
    case GNUTLS_KX_ECDHE_RSA:
    case GNUTLS_KX_ECDHE_ECDSA:
    case GNUTLS_KX_ANON_DH:
    case GNUTLS_KX_ANON_ECDH:
    case GNUTLS_KX_DHE_PSK:
    case GNUTLS_KX_ECDHE_PSK:
      uses_group = true;
      break;
    default:
      break;
  }
  outcome_.group = uses_group ? IanaGroupId(gnutls_group_get(session_)) : 0;
  if (protocol != GNUTLS_TLS1_3 &&
      (kx == GNUTLS_KX_DHE_DSS || kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_ANON_DH)) {
    const int bits = gnutls_dh_get_prime_bits(session_);
    outcome_.dh_bits = bits > 0 ? static_cast<uint32_t>(bits) : 0;
  }

  unsigned int count = 0;
  const gnutls_datum_t* peers = gnutls_certificate_get_peers(session_, &count);
  outcome_.peer_chain.clear();
  for (unsigned int i = 0; peers != nullptr && i < count; ++i) {
    outcome_.peer_chain.push_back(DescribeCertificateWithGnutls(
        absl::string_view(reinterpret_cast<const char*>(peers[i].data), peers[i].size)));
  }

  if (role_ == Role::kClient && verify_) Verify();
}

void GnutlsEngine::Verify() {
  Verification& v = outcome_.verification;
  v = Verification();
  v.performed = true;

  if (outcome_.peer_chain.empty()) {
    v.error = "the peer sent no certificate";
    return;
  }
  unsigned int status = 0;
  const int ret = gnutls_certificate_verify_peers2(session_, &status);
  if (ret < 0) {
    v.trusted = false;
    v.error = GnutlsErrorText(ret);
  } else {
    v.trusted = status == 0;
    if (status != 0) {
      gnutls_datum_t text = {nullptr, 0};
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
        v.error.assign(reinterpret_cast<const char*>(text.data), text.size);
        gnutls_free(text.data);
        absl::StripTrailingAsciiWhitespace(&v.error);
      } else {
        v.error = absl::StrCat("verification status 0x", absl::Hex(status));
      }
    }
  }

  gnutls_x509_crt_t leaf = nullptr;
  if (gnutls_x509_crt_init(&leaf) < 0) return;
  const std::string& der = outcome_.peer_chain.front().der;
  gnutls_datum_t datum = {reinterpret_cast<unsigned char*>(const_cast<char*>(der.data())),
                          static_cast<unsigned int>(der.size())};
  if (gnutls_x509_crt_import(leaf, &datum, GNUTLS_X509_FMT_DER) >= 0) {
    v.hostname_match =
        !verify_name_.empty() && gnutls_x509_crt_check_hostname(leaf, verify_name_.c_str()) != 0;
    const time_t not_after = gnutls_x509_crt_get_expiration_time(leaf);
    v.expired = not_after != static_cast<time_t>(-1) && not_after < std::time(nullptr);
  } else if (v.error.empty()) {
    v.error = "the peer's leaf certificate cannot be parsed";
  }
  gnutls_x509_crt_deinit(leaf);
}

absl::Status GnutlsEngine::WriteApplicationData(absl::string_view plaintext) {
  if (state_ != HandshakeState::kComplete) {
    return absl::FailedPreconditionError("the handshake has not completed");
  }
  size_t offset = 0;
  int retries = 0;
  while (offset < plaintext.size()) {
    const ssize_t ret =
        gnutls_record_send(session_, plaintext.data() + offset, plaintext.size() - offset);
    if (ret > 0) {
      offset += static_cast<size_t>(ret);
      continue;
    }
    if ((ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) && ++retries < kMaxNonFatalRetries) {
      continue;  // Push never blocks, so this does not repeat.
    }
    return absl::InternalError(
        absl::StrCat("gnutls_record_send: ", GnutlsErrorText(static_cast<int>(ret))));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GnutlsEngine::ReadApplicationData() {
  if (state_ != HandshakeState::kComplete) {
    return absl::FailedPreconditionError("the handshake has not completed");
  }
  if (!pending_read_error_.ok()) return std::exchange(pending_read_error_, absl::OkStatus());
  std::string plaintext;
  char buffer[16384];
  int retries = 0;
  while (!peer_closed_) {
    const ssize_t ret = gnutls_record_recv(session_, buffer, sizeof(buffer));
    if (ret > 0) {
      plaintext.append(buffer, static_cast<size_t>(ret));
      continue;
    }
    if (ret == 0) {
      peer_closed_ = true;  // close_notify.
      break;
    }
    const int error = static_cast<int>(ret);
    if (error == GNUTLS_E_AGAIN || error == GNUTLS_E_INTERRUPTED) break;
    if (!gnutls_error_is_fatal(error) && ++retries < kMaxNonFatalRetries) {
      continue;  // Warning alert, renegotiation request (ignored)...
    }
    absl::Status status;
    if (error == GNUTLS_E_PREMATURE_TERMINATION) {
      status = absl::UnavailableError(
          absl::StrCat("the connection closed without close_notify: ", GnutlsErrorText(error)));
    } else if (error == GNUTLS_E_FATAL_ALERT_RECEIVED) {
      status = absl::AbortedError(
          absl::StrCat("the peer sent a fatal alert: ",
                       AlertNameOrNumber(static_cast<int>(gnutls_alert_get(session_)))));
    } else {
      status = absl::DataLossError(absl::StrCat("gnutls_record_recv: ", GnutlsErrorText(error)));
    }
    if (plaintext.empty()) return status;
    pending_read_error_ = status;  // Deliver what was decrypted first.
    break;
  }
  return plaintext;
}

void GnutlsEngine::Close() {
  if (state_ != HandshakeState::kComplete) return;
  // Non-blocking SHUT_WR only queues close_notify; it does not wait for the peer's.
  gnutls_bye(session_, GNUTLS_SHUT_WR);
}

}  // namespace tlsweep::backends::gnutls_backend
