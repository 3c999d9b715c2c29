#!/usr/bin/python3
"""The lab's real non-Postfix MTAs: Exim 4.96 (GnuTLS), OpenSMTPD 6.8 and Haraka 3 (deploy/lab/up).

  mtas.py check
      exit 1, naming what is missing, unless the MTAs that tests/testing/fetch_mtas brings
      (unpacked under ${TLSWEEP_MTA_DIR:-/opt/tlsweep-mtas}, never installed: apt would remove
      Postfix) and what they insist on (system users, folders, node) are all there.
  mtas.py configure STATE_DIR PKI_DIR SERVICES_JSON NAME ADDRESS POLICY HOST [NAME ...]
      writes each listener's configuration into STATE_DIR/mtas/NAME (with PKI_DIR/NAME.crt and
      .key, the lab CA's certificate for HOST), appends one service per listener to
      SERVICES_JSON (for labd.py: the daemon in the foreground, inside the tw-inet namespace)
      and writes STATE_DIR/mtas/logs ("NAME LOG" lines, for the env file).

The configurations are tests/testing/real_mtas.py's (the integration tests' Python twin of
exim_fixture.cc and the others): one copy of how each daemon is set up. Each daemon runs in a
mount namespace of its own whose resolv.conf names a dead lab address (198.18.0.253): nothing it
looks up leaves tw-inet. POLICY picks what the listener is:

  exim              Exim with Debian's GnuTLS defaults (no tls_require_ciphers, smtp_accept_max 20)
  exim_p384         Exim, tls_require_ciphers limits the groups to SECP384R1 and SECP521R1 (TLS
                    1.2 at most): a client that offers neither has no key exchange in common
  exim_ratelimited  Exim with Debian's TLS defaults; its connect ACL answers 451 to a client
                    address whose smoothed connection rate reaches the limit (ratelimit = 1.5 /
                    10s / per_conn / leaky), and smtp_accept_max 4 answers 421 to a fifth
                    concurrent connection. Exim counts the connection being judged and refuses
                    at rate >= limit, and leaky means refused connections are not recorded. So
                    a client's first connection (rate 1) is accepted. A second one within about
                    5 s of the last accepted one is refused (the rate is 1.86 after 1 s, 1.6
                    after 3 s, 1.39 after 5 s). Once 30 s have passed (tlsweep's default
                    back-off) the rate is 0.37 and the client gets in. A limit of 1 would refuse
                    every connection: a new client starts at rate 1, and leaky never records it.
  opensmtpd         OpenSMTPD as Debian 12 ships it: sends its ServerHello, then fails every
                    handshake ("routines::missing private key"): a real broken server
  haraka            Haraka with its default configuration plus the tls plugin: Node's OpenSSL
                    defaults decide the TLS policy
Connections from tw-inet itself (198.18.0.0/24: the lab's own checks) are exempt from Exim's
rate limit, so `up` and `status` never use up a region's budget nor meet it.
"""

import grp
import json
import os
import pwd
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "testing"))
import real_mtas  # noqa: E402  (tests/testing: shared with the integration tests)

NS_INET = "tw-inet"
FETCH = "tests/testing/fetch_mtas"
# Only P-384 and P-521 below TLS 1.3 (as exim_p384 in tests/integration/real_mta_test.cc).
P384_PRIORITY = "NORMAL:-VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP521R1"
RATELIMIT = (1.5, 10)       # connections, seconds (Exim's leaky per_conn rate; see above)
RATELIMITED_ACCEPT_MAX = 4  # smtp_accept_max of exim_ratelimited
LAB_CHECK_HOSTS = "198.18.0.0/24"  # tw-inet's own addresses: the lab's own checks


def configure(policy, directory, address, host, cert, key):
    common = dict(cert=cert, key=key, hostname=host)
    if policy == "exim":
        return real_mtas.configure_exim(directory, address, exempt_hosts=LAB_CHECK_HOSTS, **common)
    if policy == "exim_p384":
        return real_mtas.configure_exim(directory, address, exempt_hosts=LAB_CHECK_HOSTS,
                                        tls_require_ciphers=P384_PRIORITY, **common)
    if policy == "exim_ratelimited":
        return real_mtas.configure_exim(directory, address, exempt_hosts=LAB_CHECK_HOSTS,
                                        ratelimit=RATELIMIT,
                                        smtp_accept_max=RATELIMITED_ACCEPT_MAX, **common)
    if policy == "opensmtpd":
        return real_mtas.configure_opensmtpd(directory, address, **common)
    if policy == "haraka":
        return real_mtas.configure_haraka(directory, address, **common)
    raise SystemExit(f"mtas.py: unknown policy {policy}")


def missing():
    """What the lab's MTAs need and this machine lacks, one phrase each."""
    result = []
    for path, what in ((real_mtas.EXIM, "Exim 4.96"), (real_mtas.SMTPD, "OpenSMTPD"),
                       (real_mtas.HARAKA, "Haraka")):
        if not os.access(path, os.X_OK):
            result.append(f"{what} ({path})")
    for user in ("Debian-exim", "opensmtpd", "opensmtpq"):
        try:
            pwd.getpwnam(user)
            grp.getgrnam(user)
        except KeyError:
            result.append(f"the system user and group {user}")
    for folder in ("/var/spool/smtpd", "/var/lib/opensmtpd/empty"):
        if not os.path.isdir(folder):
            result.append(f"the folder {folder}")
    if not shutil.which("node"):
        result.append("node (for Haraka; Debian package nodejs)")
    if not shutil.which("unshare"):
        result.append("unshare (util-linux)")
    return result


def main(argv):
    if len(argv) >= 1 and argv[0] == "check":
        lacking = missing()
        if lacking:
            print(f"the lab's real MTAs are missing: {'; '.join(lacking)}. Get them with "
                  f"{FETCH} (as root: unpacks Exim and OpenSMTPD from Debian packages under "
                  f"{real_mtas.MTA_DIR}, installs Haraka with npm, makes the users; never "
                  "apt-get install an MTA package, that removes Postfix)")
            return 1
        return 0
    if len(argv) < 4 or argv[0] != "configure" or (len(argv) - 4) % 4:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    state, pki, services_file = argv[1:4]
    listeners = [argv[i:i + 4] for i in range(4, len(argv), 4)]
    root = os.path.join(state, "mtas")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)  # Exim opens its logs as Debian-exim.
    with open(services_file) as spec:
        services = json.load(spec)
    logs = []
    for name, address, policy, host in listeners:
        directory = os.path.join(root, name)
        spec = configure(policy, directory, address, host, os.path.join(pki, f"{name}.crt"),
                         os.path.join(pki, f"{name}.key"))
        services.append({"name": name, "log": spec.output,
                         "argv": ["ip", "netns", "exec", NS_INET, *spec.argv]})
        logs.append(f"{name} {spec.log_path}\n")
    with open(services_file + ".tmp", "w") as out:
        json.dump(services, out, indent=1)
    os.rename(services_file + ".tmp", services_file)
    with open(os.path.join(root, "logs"), "w") as out:
        out.writelines(logs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
