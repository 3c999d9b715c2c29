#include "tests/testing/opensmtpd_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/mta_process.h"

namespace tlsweep::testing {
namespace {

constexpr int kSecondOctet = 27;  // 127.27.B.0/24 blocks.
constexpr int kFirstListenerHost = 2;
constexpr int kDeadResolverHost = 253;
constexpr int kProbeSourceHost = 254;

// smtpd.conf strings are double-quoted; refuse what would need escaping.
absl::Status CheckQuotable(absl::string_view what, absl::string_view value) {
  if (absl::StrContains(value, '"') || absl::StrContains(value, '\n')) {
    return absl::InvalidArgumentError(absl::StrCat(what, " cannot be quoted: ", value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string OpenSmtpdFixture::Binary() { return MtaDirectory() + "/root/usr/sbin/smtpd"; }

absl::Status OpenSmtpdFixture::CheckInstalled() {
  if (absl::Status status = RequireMtaProgram("root/usr/sbin/smtpd", "OpenSMTPD"); !status.ok()) {
    return status;
  }
  // The namespace mounts a private spool over this one, and smtpd chroots into the empty dir.
  for (const char* dir : {"/var/spool/smtpd", "/var/lib/opensmtpd/empty"}) {
    if (!std::filesystem::is_directory(dir)) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " is missing: run tests/testing/fetch_mtas (it makes OpenSMTPD's folders)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OpenSmtpdFixture>> OpenSmtpdFixture::Start(
    std::vector<OpenSmtpdListener> listeners) {
  const absl::Time started = absl::Now();
  if (absl::Status status = CheckInstalled(); !status.ok()) return status;
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("OpenSmtpdFixture needs root (port 25, namespaces)");
  }
  if (listeners.empty()) return absl::InvalidArgumentError("no listeners");
  auto fixture = absl::WrapUnique(new OpenSmtpdFixture());
  fixture->listeners_ = std::move(listeners);
  for (size_t i = 0; i < fixture->listeners_.size(); ++i) {
    const std::string& name = fixture->listeners_[i].name;
    if (name.empty() || !fixture->by_name_.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("listener names must be unique: ", name));
    }
  }
  if (absl::Status status = fixture->Prepare(); !status.ok()) return status;
  if (absl::Status status = fixture->WriteConfiguration(); !status.ok()) return status;

  const std::string& dir = fixture->directory_;
  absl::StatusOr<pid_t> pid = StartDaemon(DaemonSpec{
      .program = Binary(),
      .args = {"-d", "-v", "-f", fixture->config_path()},
      .log_file = fixture->log_path(),
      .bind_mounts = {{dir + "/resolv.conf", "/etc/resolv.conf"},
                      {dir + "/spool", "/var/spool/smtpd"}},
      .tmpfs_mounts = {"/run"},  // Its control socket, /run/smtpd.sock, is per instance then.
  });
  if (!pid.ok()) return pid.status();
  fixture->pid_ = *pid;
  for (const OpenSmtpdListener& listener : fixture->listeners_) {
    absl::StatusOr<std::string> greeting = WaitForGreeting(
        fixture->pid_, fixture->probe_source_, listener.address, listener.port, absl::Seconds(20));
    if (!greeting.ok()) {
      return absl::Status(
          greeting.status().code(),
          absl::StrCat("OpenSMTPD listener ", listener.name, ": ", greeting.status().message(),
                       "\nlog (", fixture->log_path(), "):\n", fixture->LogTail()));
    }
  }
  fixture->start_duration_ = absl::Now() - started;
  return fixture;
}

absl::Status OpenSmtpdFixture::Prepare() {
  int assigned = 0;
  for (const OpenSmtpdListener& listener : listeners_) assigned += listener.address.empty();
  absl::StatusOr<LoopbackBlock> block =
      LoopbackBlock::Claim(kSecondOctet, assigned, 25, kFirstListenerHost);
  if (!block.ok()) return block.status();
  block_.emplace(std::move(*block));
  probe_source_ = block_->Address(kProbeSourceHost);
  dead_resolver_ = block_->Address(kDeadResolverHost);
  int host = kFirstListenerHost;
  for (OpenSmtpdListener& listener : listeners_) {
    if (listener.address.empty()) {
      if (host >= kDeadResolverHost) return absl::InvalidArgumentError("too many listeners");
      listener.address = block_->Address(host++);
    } else if (!IsLoopbackAddress(listener.address)) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener address must be in 127.0.0.0/8: ", listener.address));
    }
    if (listener.cert_file.empty() != listener.key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(listener.name, ": give both cert_file and key_file, or neither"));
    }
  }
  directory_ = MakeTempDirectory("tlsweep-opensmtpd");
  if (directory_.empty()) return absl::InternalError("cannot create a temp directory");
  chmod(directory_.c_str(), 0755);

  bool needs_certificate = false;
  for (const OpenSmtpdListener& listener : listeners_) {
    needs_certificate |= listener.offer_starttls && listener.cert_file.empty();
  }
  if (!needs_certificate) return absl::OkStatus();
  absl::StatusOr<CertFactory> factory = CertFactory::Create(directory_ + "/pki");
  if (!factory.ok()) return factory.status();
  absl::StatusOr<IssuedCertificate> issued = factory->Issue("mx", {"mx.example.test"});
  if (!issued.ok()) return issued.status();
  ca_file_ = factory->ca_file();
  for (OpenSmtpdListener& listener : listeners_) {
    if (listener.offer_starttls && listener.cert_file.empty()) {
      listener.cert_file = issued->chain_file;
      listener.key_file = issued->key_file;
    }
  }
  return absl::OkStatus();
}

absl::Status OpenSmtpdFixture::WriteConfiguration() {
  // smtpd checks that its spool is root's and 0711.
  const std::string spool = directory_ + "/spool";
  std::error_code error;
  if (!std::filesystem::create_directories(spool, error)) {
    return absl::InternalError(absl::StrCat("mkdir ", spool, ": ", error.message()));
  }
  chmod(spool.c_str(), 0711);
  if (absl::Status s = WriteTextFile(directory_ + "/resolv.conf", NoDnsResolvConf(dead_resolver_));
      !s.ok()) {
    return s;
  }

  std::string config = "# Written by tests/testing/opensmtpd_fixture.cc\n";
  std::string listens;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    const OpenSmtpdListener& listener = listeners_[i];
    if (absl::StrContains(listener.extra_listen_options, '\n')) {
      return absl::InvalidArgumentError("extra_listen_options must be one line");
    }
    absl::StrAppend(&listens, "listen on ", listener.address, " port ", listener.port);
    if (listener.offer_starttls) {
      // "mx" is a keyword in smtpd.conf, so pki names are "tlsweepN".
      const std::string pki = absl::StrCat("tlsweep", i);
      const std::string cert = absl::StrCat(directory_, "/", pki, "-cert.pem");
      const std::string key = absl::StrCat(directory_, "/", pki, "-key.pem");
      if (absl::Status s = CopyFileForUser(listener.cert_file, cert, "", 0644); !s.ok()) return s;
      if (absl::Status s = CopyFileForUser(listener.key_file, key, "", 0600); !s.ok()) return s;
      if (absl::Status s = CheckQuotable("path", directory_); !s.ok()) return s;
      absl::StrAppend(&config, "pki ", pki, " cert \"", cert, "\"\n", "pki ", pki, " key \"", key,
                      "\"\n");
      absl::StrAppend(&listens, " tls pki ", pki);
    }
    absl::StrAppend(&listens, " hostname mx.example.test ", listener.extra_listen_options, "\n");
  }
  // Never delivers: every recipient is refused.
  absl::StrAppend(&config, listens, "match from any for any reject\n");
  return WriteTextFile(config_path(), config);
}

OpenSmtpdFixture::~OpenSmtpdFixture() {
  if (pid_ > 0) StopDaemon(pid_);
  pid_ = -1;
  if (!directory_.empty() && std::getenv("TLSWEEP_KEEP_MTA_DIR") == nullptr) {
    std::error_code error;
    std::filesystem::remove_all(directory_, error);
  }
}

const OpenSmtpdListener& OpenSmtpdFixture::listener(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    std::fprintf(stderr, "no OpenSMTPD listener named %s\n", std::string(name).c_str());
    std::abort();
  }
  return listeners_[it->second];
}

std::string OpenSmtpdFixture::endpoint(absl::string_view name) const {
  const OpenSmtpdListener& l = listener(name);
  return absl::StrCat(l.address, ":", l.port);
}

std::string OpenSmtpdFixture::LogTail(int lines) const { return FileTail(log_path(), lines); }

}  // namespace tlsweep::testing
