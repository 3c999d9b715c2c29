#include "tests/testing/haraka_fixture.h"

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
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

constexpr int kSecondOctet = 28;  // 127.28.B.0/24 blocks.
constexpr int kFirstListenerHost = 2;
constexpr int kDeadResolverHost = 253;
constexpr int kProbeSourceHost = 254;

// Haraka asks DNS for every client's PTR record unless a lookup_rdns hook answers first.
constexpr char kNoRdnsPlugin[] =
    "// Written by tests/testing/haraka_fixture.cc: answers the reverse lookup of a client\n"
    "// itself, so Haraka never sends a DNS query.\n"
    "exports.hook_lookup_rdns = (next, connection) => next(OK, 'client.invalid')\n";

absl::Status CheckIniValue(absl::string_view what, absl::string_view value) {
  if (absl::StrContains(value, '\n') || absl::StrContains(value, ';')) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a one-line INI value: ", value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string HarakaFixture::Binary() { return MtaDirectory() + "/haraka/node_modules/.bin/haraka"; }

absl::Status HarakaFixture::CheckInstalled() {
  return RequireMtaProgram("haraka/node_modules/.bin/haraka", "Haraka");
}

absl::StatusOr<std::unique_ptr<HarakaFixture>> HarakaFixture::Start(
    std::vector<HarakaListener> listeners) {
  const absl::Time started = absl::Now();
  if (absl::Status status = CheckInstalled(); !status.ok()) return status;
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("HarakaFixture needs root (port 25, mount namespace)");
  }
  if (listeners.empty()) return absl::InvalidArgumentError("no listeners");
  auto fixture = absl::WrapUnique(new HarakaFixture());
  for (HarakaListener& listener : listeners) {
    const std::string name = listener.name;
    if (name.empty() || !fixture->by_name_.emplace(name, fixture->instances_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("listener names must be unique: ", name));
    }
    fixture->instances_.push_back(Instance{std::move(listener), "", -1});
  }
  if (absl::Status status = fixture->Prepare(); !status.ok()) return status;
  for (Instance& instance : fixture->instances_) {
    if (absl::Status status = fixture->WriteInstance(instance); !status.ok()) return status;
  }
  for (Instance& instance : fixture->instances_) {
    absl::StatusOr<pid_t> pid = StartDaemon(DaemonSpec{
        .program = Binary(),
        .args = {"-c", instance.directory},
        .log_file = instance.directory + "/haraka.log",
        .bind_mounts = {{fixture->resolv_conf_, "/etc/resolv.conf"}},
        .tmpfs_mounts = {},
    });
    if (!pid.ok()) return pid.status();
    instance.pid = *pid;
  }
  // Node takes a second or two to start (longer while a build keeps the cores busy).
  for (const Instance& instance : fixture->instances_) {
    absl::StatusOr<std::string> greeting =
        WaitForGreeting(instance.pid, fixture->probe_source_, instance.listener.address,
                        instance.listener.port, absl::Seconds(60));
    if (!greeting.ok()) {
      return absl::Status(
          greeting.status().code(),
          absl::StrCat("Haraka listener ", instance.listener.name, ": ",
                       greeting.status().message(), "\nlog (", instance.directory,
                       "/haraka.log):\n", FileTail(instance.directory + "/haraka.log")));
    }
  }
  fixture->start_duration_ = absl::Now() - started;
  return fixture;
}

absl::Status HarakaFixture::Prepare() {
  int assigned = 0;
  for (const Instance& instance : instances_) assigned += instance.listener.address.empty();
  absl::StatusOr<LoopbackBlock> block =
      LoopbackBlock::Claim(kSecondOctet, assigned, 25, kFirstListenerHost);
  if (!block.ok()) return block.status();
  block_.emplace(std::move(*block));
  probe_source_ = block_->Address(kProbeSourceHost);
  int host = kFirstListenerHost;
  for (Instance& instance : instances_) {
    HarakaListener& listener = instance.listener;
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
  directory_ = MakeTempDirectory("tlsweep-haraka");
  if (directory_.empty()) return absl::InternalError("cannot create a temp directory");
  resolv_conf_ = directory_ + "/resolv.conf";
  if (absl::Status s =
          WriteTextFile(resolv_conf_, NoDnsResolvConf(block_->Address(kDeadResolverHost)));
      !s.ok()) {
    return s;
  }
  bool needs_certificate = false;
  for (const Instance& instance : instances_) {
    needs_certificate |= instance.listener.offer_starttls && instance.listener.cert_file.empty();
  }
  if (!needs_certificate) return absl::OkStatus();
  absl::StatusOr<CertFactory> factory = CertFactory::Create(directory_ + "/pki");
  if (!factory.ok()) return factory.status();
  absl::StatusOr<IssuedCertificate> issued = factory->Issue("mx", {"mx.example.test"});
  if (!issued.ok()) return issued.status();
  ca_file_ = factory->ca_file();
  for (Instance& instance : instances_) {
    if (instance.listener.offer_starttls && instance.listener.cert_file.empty()) {
      instance.listener.cert_file = issued->chain_file;
      instance.listener.key_file = issued->key_file;
    }
  }
  return absl::OkStatus();
}

absl::Status HarakaFixture::WriteInstance(Instance& instance) {
  const HarakaListener& listener = instance.listener;
  instance.directory = absl::StrCat(directory_, "/", SafeFileName(listener.name));
  const std::string config = instance.directory + "/config";
  const std::string plugins = instance.directory + "/plugins";
  std::error_code error;
  for (const std::string& dir : {config, plugins}) {
    if (!std::filesystem::create_directories(dir, error)) {
      return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", error.message()));
    }
  }
  // Haraka's shipped defaults (connection.ini holds the greeting and limits it reads at start),
  // then our own files over them.
  std::filesystem::copy(
      MtaDirectory() + "/haraka/node_modules/Haraka/config", config,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing,
      error);
  if (error) return absl::InternalError(absl::StrCat("copy Haraka's config: ", error.message()));

  for (const std::string* value :
       {&listener.ciphers, &listener.min_version, &listener.ecdh_curve}) {
    if (absl::Status s = CheckIniValue("tls.ini value", *value); !s.ok()) return s;
  }
  std::string tls_ini = "[main]\nkey=tls_key.pem\ncert=tls_cert.pem\n";
  if (!listener.ciphers.empty()) absl::StrAppend(&tls_ini, "ciphers=", listener.ciphers, "\n");
  if (!listener.min_version.empty()) {
    absl::StrAppend(&tls_ini, "minVersion=", listener.min_version, "\n");
  }
  if (!listener.ecdh_curve.empty()) {
    absl::StrAppend(&tls_ini, "ecdhCurve=", listener.ecdh_curve, "\n");
  }
  for (const std::string& line : listener.extra_tls_ini) {
    if (absl::Status s = CheckIniValue("extra_tls_ini", line); !s.ok()) return s;
    absl::StrAppend(&tls_ini, line, "\n");
  }
  if (listener.offer_starttls) {
    if (absl::Status s = CopyFileForUser(listener.cert_file, config + "/tls_cert.pem", "", 0644);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CopyFileForUser(listener.key_file, config + "/tls_key.pem", "", 0600);
        !s.ok()) {
      return s;
    }
  }
  // Without config/dhparams.pem Haraka runs `openssl dhparam 2048` at start-up (seconds to a
  // minute of CPU) and serves DHE suites only once that is done: a race. A real installation
  // has the file from its first start; the RFC 7919 group is as good and instant.
  absl::StatusOr<CommandResult> dhparams =
      RunCommand(absl::StrCat("openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 "
                              "-out ",
                              ShellQuote(config + "/dhparams.pem"), " 2>&1"));
  if (!dhparams.ok()) return dhparams.status();
  if (dhparams->exit_code != 0) {
    return absl::InternalError(absl::StrCat("openssl genpkey (DH parameters): ", dhparams->output));
  }
  const std::pair<std::string, std::string> files[] = {
      {config + "/plugins",
       absl::StrCat("tlsweep_no_rdns\n", listener.offer_starttls ? "tls\n" : "")},
      {config + "/smtp.ini", absl::StrCat("[main]\nlisten=", listener.address, ":", listener.port,
                                          "\n"
                                          // Known, so Haraka does not ask a STUN server for it.
                                          "public_ip=",
                                          listener.address,
                                          "\n"
                                          "nodes=\n"
                                          "daemonize=false\n")},
      {config + "/tls.ini", tls_ini},
      {config + "/me", "mx.example.test\n"},
      {config + "/log.ini", "[main]\nlevel=info\ntimestamps=true\n"},
      {plugins + "/tlsweep_no_rdns.js", kNoRdnsPlugin},
  };
  for (const auto& [path, content] : files) {
    if (absl::Status s = WriteTextFile(path, content); !s.ok()) return s;
  }
  return absl::OkStatus();
}

HarakaFixture::~HarakaFixture() {
  for (Instance& instance : instances_) {
    if (instance.pid > 0) StopDaemon(instance.pid);
    instance.pid = -1;
  }
  if (!directory_.empty() && std::getenv("TLSWEEP_KEEP_MTA_DIR") == nullptr) {
    std::error_code error;
    std::filesystem::remove_all(directory_, error);
  }
}

const HarakaFixture::Instance& HarakaFixture::instance(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    std::fprintf(stderr, "no Haraka listener named %s\n", std::string(name).c_str());
    std::abort();
  }
  return instances_[it->second];
}

const HarakaListener& HarakaFixture::listener(absl::string_view name) const {
  return instance(name).listener;
}

std::string HarakaFixture::endpoint(absl::string_view name) const {
  const HarakaListener& l = listener(name);
  return absl::StrCat(l.address, ":", l.port);
}

std::string HarakaFixture::log_path(absl::string_view name) const {
  return instance(name).directory + "/haraka.log";
}

std::string HarakaFixture::instance_directory(absl::string_view name) const {
  return instance(name).directory;
}

std::string HarakaFixture::LogTail(absl::string_view name, int lines) const {
  return FileTail(log_path(name), lines);
}

}  // namespace tlsweep::testing
