#include "tests/testing/exim_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/mta_process.h"

namespace tlsweep::testing {
namespace {

constexpr int kSecondOctet = 26;  // 127.26.B.0/24 blocks (Postfix has 25).
constexpr int kFirstListenerHost = 2;
constexpr int kDeadResolverHost = 253;  // Nothing listens: the namespace's "name server".
constexpr int kProbeSourceHost = 254;
constexpr char kEximUser[] = "Debian-exim";
// Exim switches to this user after binding; it must own the spool and log folders and be able
// to read the certificate (GnuTLS loads it in the per-connection child).

// A string option value that Exim expands: '\' and '$' are taken literally.
std::string ExpansionLiteral(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"$", "\\$"}});
}

int64_t WholeSeconds(absl::Duration duration) {
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(duration, absl::Seconds(1)));
  return seconds < 1 ? 1 : seconds;
}

absl::Status CheckOptionText(absl::string_view what, absl::string_view value) {
  if (absl::StrContains(value, '\n') || absl::StrContains(value, '\r')) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be one line: ", value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EximFixture::Binary() { return MtaDirectory() + "/root/usr/sbin/exim4"; }

absl::Status EximFixture::CheckInstalled() {
  return RequireMtaProgram("root/usr/sbin/exim4", "Exim (exim4-daemon-light)");
}

absl::StatusOr<std::unique_ptr<EximFixture>> EximFixture::Start(
    std::vector<EximListener> listeners) {
  const absl::Time started = absl::Now();
  if (absl::Status status = CheckInstalled(); !status.ok()) return status;
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("EximFixture needs root (port 25, mount namespace)");
  }
  if (listeners.empty()) return absl::InvalidArgumentError("no listeners");
  auto fixture = absl::WrapUnique(new EximFixture());
  for (EximListener& listener : listeners) {
    const std::string name = listener.name;
    if (name.empty() || !fixture->by_name_.emplace(name, fixture->instances_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("listener names must be unique: ", name));
    }
    fixture->instances_.push_back(Instance{std::move(listener), "", -1});
  }
  if (absl::Status status = fixture->Prepare(); !status.ok()) return status;
  for (Instance& instance : fixture->instances_) {
    if (absl::Status status = fixture->WriteConfiguration(instance); !status.ok()) return status;
  }
  // All daemons start at once; each then has to greet.
  for (Instance& instance : fixture->instances_) {
    absl::StatusOr<pid_t> pid = StartDaemon(DaemonSpec{
        .program = Binary(),
        .args = {"-C", instance.directory + "/exim.conf", "-bdf"},
        .log_file = instance.directory + "/exim.out",
        .bind_mounts = {{fixture->resolv_conf_, "/etc/resolv.conf"}},
        .tmpfs_mounts = {},
    });
    if (!pid.ok()) return pid.status();
    instance.pid = *pid;
  }
  for (const Instance& instance : fixture->instances_) {
    absl::StatusOr<std::string> greeting =
        WaitForGreeting(instance.pid, fixture->probe_source_, instance.listener.address,
                        instance.listener.port, absl::Seconds(20));
    if (!greeting.ok()) {
      return absl::Status(
          greeting.status().code(),
          absl::StrCat("Exim listener ", instance.listener.name, ": ", greeting.status().message(),
                       "\n", fixture->LogTail(instance.listener.name)));
    }
  }
  fixture->start_duration_ = absl::Now() - started;
  return fixture;
}

absl::Status EximFixture::Prepare() {
  int assigned = 0;
  for (const Instance& instance : instances_) assigned += instance.listener.address.empty();
  absl::StatusOr<LoopbackBlock> block =
      LoopbackBlock::Claim(kSecondOctet, assigned, 25, kFirstListenerHost);
  if (!block.ok()) return block.status();
  block_.emplace(std::move(*block));
  probe_source_ = block_->Address(kProbeSourceHost);
  int host = kFirstListenerHost;
  for (Instance& instance : instances_) {
    EximListener& listener = instance.listener;
    if (listener.address.empty()) {
      if (host >= kDeadResolverHost) return absl::InvalidArgumentError("too many listeners");
      listener.address = block_->Address(host++);
    } else if (!IsLoopbackAddress(listener.address)) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener address must be in 127.0.0.0/8: ", listener.address));
    }
  }

  directory_ = MakeTempDirectory("tlsweep-exim");
  if (directory_.empty()) return absl::InternalError("cannot create a temp directory");
  // mkdtemp makes 0700; Exim's children run as Debian-exim and must reach their folders.
  chmod(directory_.c_str(), 0755);
  resolv_conf_ = directory_ + "/resolv.conf";
  if (absl::Status s =
          WriteTextFile(resolv_conf_, NoDnsResolvConf(block_->Address(kDeadResolverHost)));
      !s.ok()) {
    return s;
  }
  bool needs_certificate = false;
  for (const Instance& instance : instances_) {
    const EximListener& listener = instance.listener;
    if (listener.cert_file.empty() != listener.key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(listener.name, ": give both cert_file and key_file, or neither"));
    }
    needs_certificate |= listener.cert_file.empty() && !listener.starttls_fails;
  }
  if (!needs_certificate) return absl::OkStatus();
  absl::StatusOr<CertFactory> factory = CertFactory::Create(directory_ + "/pki");
  if (!factory.ok()) return factory.status();
  absl::StatusOr<IssuedCertificate> issued = factory->Issue("mx", {"mx.example.test"});
  if (!issued.ok()) return issued.status();
  ca_file_ = factory->ca_file();
  for (Instance& instance : instances_) {
    if (instance.listener.cert_file.empty() && !instance.listener.starttls_fails) {
      instance.listener.cert_file = issued->chain_file;
      instance.listener.key_file = issued->key_file;
    }
  }
  return absl::OkStatus();
}

absl::Status EximFixture::WriteConfiguration(Instance& instance) {
  const EximListener& listener = instance.listener;
  for (const std::string& line : listener.banner_lines) {
    if (absl::Status s = CheckOptionText("banner line", line); !s.ok()) return s;
  }
  for (const std::string& line : listener.extra_main_options) {
    if (absl::Status s = CheckOptionText("extra option", line); !s.ok()) return s;
  }
  if (absl::Status s = CheckOptionText("tls_require_ciphers", listener.tls_require_ciphers);
      !s.ok()) {
    return s;
  }
  if (listener.smtp_accept_max < 0 || listener.ratelimit_connections < 0) {
    return absl::InvalidArgumentError(absl::StrCat(listener.name, ": negative limit"));
  }
  instance.directory = absl::StrCat(directory_, "/", SafeFileName(listener.name));
  std::error_code error;
  for (const char* sub : {"", "/spool", "/log", "/tls"}) {
    const std::string dir = instance.directory + sub;
    if (!std::filesystem::create_directories(dir, error)) {
      return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", error.message()));
    }
    chmod(dir.c_str(), 0750);
  }
  chmod(instance.directory.c_str(), 0755);
  for (const char* sub : {"/spool", "/log", "/tls"}) {
    if (absl::Status s = ChownTree(instance.directory + sub, kEximUser); !s.ok()) return s;
  }

  std::string certificate;
  std::string key;
  if (listener.starttls_fails) {
    // Only the expansion at STARTTLS time fails (the variable is set only in a connection), so
    // the daemon starts and STARTTLS answers 454.
    certificate = key = "${if def:received_ip_address {/nonexistent/tlsweep-no-certificate.pem}}";
  } else {
    certificate = instance.directory + "/tls/cert.pem";
    key = instance.directory + "/tls/key.pem";
    if (absl::Status s = CopyFileForUser(listener.cert_file, certificate, kEximUser, 0644);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CopyFileForUser(listener.key_file, key, kEximUser, 0600); !s.ok()) {
      return s;
    }
  }

  std::string banner;
  if (!listener.banner_lines.empty()) {
    std::vector<std::string> lines;
    for (const std::string& line : listener.banner_lines) lines.push_back(ExpansionLiteral(line));
    banner = absl::StrCat("smtp_banner = ", absl::StrJoin(lines, "\\n"), "\n");
  }
  const std::string tls_line =
      "TLSWEEP-TLS I=[$received_ip_address]:$received_port "
      "version=$tls_in_ver suite=$tls_in_cipher_std "
      "cipher=$tls_in_cipher";
  std::string config = absl::StrCat(
      "# Written by tests/testing/exim_fixture.cc for listener ", listener.name, "\n",
      "exim_path = ", Binary(), "\n",                          //
      "spool_directory = ", instance.directory, "/spool\n",    //
      "log_file_path = ", instance.directory, "/log/%slog\n",  //
      "pid_file_path = ", instance.directory, "/exim.pid\n",   //
      "local_interfaces = <; [", listener.address, "]:", listener.port, "\n",
      "daemon_smtp_ports = ", listener.port, "\n",
      // A busy address fails the start at once (the default retries for minutes).
      "daemon_startup_retries = 0\n"
      "keep_environment =\n"
      "primary_hostname = mx.example.test\n"
      "qualify_domain = example.test\n"
      // No DNS, ever: no reverse lookups of clients, no ident, no HELO checks.
      "host_lookup =\n"
      "rfc1413_hosts =\n"
      "helo_lookup_domains =\n"
      "smtp_accept_max = ",
      listener.smtp_accept_max, "\n",
      "log_selector = +tls_cipher +tls_peerdn +tls_sni +smtp_connection +incoming_interface +pid "
      "+smtp_protocol_error +smtp_syntax_error\n",
      "tls_advertise_hosts = ", listener.offer_starttls ? "*" : "", "\n",  //
      "tls_certificate = ", certificate, "\n",                             //
      "tls_privatekey = ", key, "\n",                                      //
      listener.tls_require_ciphers.empty()
          ? ""
          : absl::StrCat("tls_require_ciphers = ", listener.tls_require_ciphers, "\n"),
      banner,
      "acl_smtp_connect = tlsweep_connect\n"
      "acl_smtp_rcpt = tlsweep_rcpt\n"
      "acl_smtp_quit = tlsweep_quit\n"
      "acl_smtp_notquit = tlsweep_notquit\n",
      absl::StrJoin(listener.extra_main_options, "\n"), "\n",
      "\nbegin acl\n\n"
      "tlsweep_connect:\n"
      "  accept hosts = ",
      probe_source_, "\n");
  if (listener.ratelimit_connections > 0) {
    absl::StrAppend(&config,
                    "  defer message = 451 4.7.1 Too many connections from "
                    "$sender_host_address, slow down\n"
                    "        ratelimit = ",
                    listener.ratelimit_connections, " / ", WholeSeconds(listener.ratelimit_period),
                    "s / per_conn / leaky / $sender_host_address\n");
  }
  if (listener.greeting_delay > absl::ZeroDuration()) {
    absl::StrAppend(&config, "  accept delay = ", WholeSeconds(listener.greeting_delay), "s\n");
  } else {
    absl::StrAppend(&config, "  accept\n");
  }
  absl::StrAppend(&config,
                  "\ntlsweep_rcpt:\n"
                  "  deny message = this test instance never delivers\n\n"
                  "tlsweep_quit:\n"
                  "  accept condition = ${if def:tls_in_cipher}\n"
                  "         logwrite = ",
                  tls_line,
                  "\n"
                  "  accept\n\n"
                  "tlsweep_notquit:\n"
                  "  accept condition = ${if def:tls_in_cipher}\n"
                  "         logwrite = ",
                  tls_line,
                  "\n"
                  "  accept\n\n"
                  "begin routers\n\n"
                  "begin transports\n");
  return WriteTextFile(instance.directory + "/exim.conf", config);
}

EximFixture::~EximFixture() {
  for (Instance& instance : instances_) {
    if (instance.pid > 0) StopDaemon(instance.pid);
    instance.pid = -1;
  }
  if (!directory_.empty() && std::getenv("TLSWEEP_KEEP_MTA_DIR") == nullptr) {
    std::error_code error;
    std::filesystem::remove_all(directory_, error);
  }
}

const EximFixture::Instance& EximFixture::instance(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    // A typo in a test; there is no sensible listener to return.
    std::fprintf(stderr, "no Exim listener named %s\n", std::string(name).c_str());
    std::abort();
  }
  return instances_[it->second];
}

const EximListener& EximFixture::listener(absl::string_view name) const {
  return instance(name).listener;
}

std::string EximFixture::endpoint(absl::string_view name) const {
  const EximListener& l = listener(name);
  return absl::StrCat(l.address, ":", l.port);
}

std::string EximFixture::log_path(absl::string_view name) const {
  return instance(name).directory + "/log/mainlog";
}

std::string EximFixture::config_path(absl::string_view name) const {
  return instance(name).directory + "/exim.conf";
}

std::string EximFixture::LogTail(absl::string_view name, int lines) const {
  const std::string& dir = instance(name).directory;
  return absl::StrCat("mainlog (", dir, "/log/mainlog):\n", FileTail(dir + "/log/mainlog", lines),
                      "\npaniclog:\n", FileTail(dir + "/log/paniclog", lines), "\nstdout/stderr:\n",
                      FileTail(dir + "/exim.out", lines));
}

}  // namespace tlsweep::testing
