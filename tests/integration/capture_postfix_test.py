#!/usr/bin/env python3
"""tlsweep capture with a real MTA as the client, and the captured hello replayed live.

A private Postfix (tests/testing/private_postfix.py) plays both parts: its smtp client relays one
message to `tlsweep capture` (relayhost), with a cipher policy of its own (smtp_tls_ciphers =
high, tls_high_cipherlist = two suites, smtp_tls_protocols >= TLSv1.2), and one of its smtpd
listeners is the server the capture is then replayed against. It checks that

- swaks with an explicit --tls-cipher list is captured likewise;
- the capture holds exactly what Postfix's smtp client offered: its two TLS 1.2 suites in its
  order, TLS 1.2 and 1.3, and that OpenSSL's TLS 1.3 suites came along;
- the message stays queued at Postfix (capture takes no mail), so nothing is lost;
- `tlsweep probe --candidate 'hello=FILE'` replays that hello at the listener through the raw
  backend: the server's choice is one of the offered suites, and the result says it rests on a
  ServerHello only (no handshake was completed);
- a listener that accepts none of those suites answers the replay with a refusal;
- `tlsweep whatif` on an enumerating sweep predicts, from that exact offer, what the three live
  replays got, and what Postfix's own smtp client then negotiates with each listener when it
  delivers there (read from the listener's log: version and cipher, or the failed handshake);
  likewise swaks's capture against swaks itself at each listener.

The live replay of a captured hello is a ServerHello check: the raw backend cannot finish a
handshake with whatever the MTA offered, so "ok" here means the server chose.

  capture_postfix_test.py [--bin build/bin] [--keep]

Needs root (Postfix on port 25): exit 77 (skipped) without it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

from loopback_block import LoopbackBlock  # noqa: E402
from private_postfix import PrivatePostfix  # noqa: E402

CAPTURE_PORT = 2526
failures = []


def check(ok, what):
    print(("PASS  " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def established_since(postfix, listeners, offset, wanted, timeout=60):
    """{listener: (version, IANA suite)} for handshakes the listeners logged after `offset`, and
    the set of listeners that logged a failed one; waits until `wanted` listeners logged."""
    established, refused = {}, set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(established) + len(refused) < wanted:
        time.sleep(0.5)
        with open(postfix.maillog, errors="replace") as log:
            log.seek(offset)
            for line in log:
                for name in listeners:
                    if f"postfix/{name}/smtpd" not in line:
                        continue
                    if "TLS connection established from" in line:
                        # "...: TLSv1.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384 (256/256 bits)"
                        tail = line.split("established from", 1)[1].split(": ", 1)[1].split()
                        established[name] = (tail[0], iana_name(tail[3]))
                    elif "no shared cipher" in line or "SSL_accept error" in line:
                        refused.add(name)
    return established, refused


def iana_name(cipher):
    """OpenSSL's name of a TLS <= 1.2 suite as IANA's (TLS 1.3 names are IANA already)."""
    for row in subprocess.run(["openssl", "ciphers", "-stdname", cipher], capture_output=True,
                              text=True).stdout.splitlines():
        fields = row.split()  # "IANA - OpenSSL-name version ..."
        if len(fields) > 2 and fields[2] == cipher:
            return fields[0]
    return cipher


def predictions(whatif_output):
    """{address: (version, suite) or None (fails)} from `tlsweep whatif --all`."""
    predicted = {}
    for line in whatif_output.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0].startswith("["):
            address = words[0][1:].split("]")[0]
            if words[3] == "negotiates":
                predicted[address] = (words[4], words[5])
            elif words[3] == "fails":
                predicted[address] = None
    return predicted


def compare(who, listeners, predicted, established, refused):
    for name, address in listeners.items():
        expected = predicted.get(address, "missing")
        if name in established:
            got = established[name]
            check(expected not in (None, "missing") and expected[1] == got[1] and
                  expected[0] == got[0],
                  f"{who} -> {name}: the real handshake negotiated {got}; predicted {expected}")
        else:
            check(name in refused and expected is None,
                  f"{who} -> {name}: the real handshake failed ({name in refused}); predicted "
                  f"{expected}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("SKIP  needs root (Postfix on port 25)")
        return 77
    for tool in ("postfix", "sendmail", "postqueue"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"SKIP  {tool} is not installed")
            return 77
    tlsweep = os.path.join(args.bin, "tlsweep")
    block = LoopbackBlock()
    directory = tempfile.mkdtemp(prefix="tlsweep-capture-test-")
    os.chmod(directory, 0o755)
    capture_address = block.address(20)
    listeners = {"modern": block.address(10), "tls12": block.address(11),
                 "other": block.address(12)}
    postfix = PrivatePostfix(
        os.path.join(directory, "postfix"), listeners, probe_source=block.address(1),
        # Each listener greets with its own name: Postfix's smtp client refuses (a mail loop) a
        # server that greets with its own myhostname.
        listener_options={
            "modern": ["myhostname=modern.listener.test"],
            "tls12": ["myhostname=tls12.listener.test", "smtpd_tls_protocols=<=TLSv1.2"],
            # TLS 1.2 only, and one suite the captured client does not offer.
            "other": ["myhostname=other.listener.test", "smtpd_tls_protocols=<=TLSv1.2",
                      "smtpd_tls_ciphers=high",
                      "tls_high_cipherlist=ECDHE-ECDSA-CHACHA20-POLY1305"]},
        main_cf_extra=f"""
default_transport = smtp
relayhost = [{capture_address}]:{CAPTURE_PORT}
smtp_tls_security_level = may
smtp_tls_ciphers = high
tls_high_cipherlist = ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA
smtp_tls_protocols = >=TLSv1.2
smtp_tls_loglevel = 1
smtp_bind_address = {block.address(1)}
transport_maps = inline:{{ modern.test=smtp:[{listeners["modern"]}]:25, tls12.test=smtp:[{listeners["tls12"]}]:25, other.test=smtp:[{listeners["other"]}]:25 }}
""")
    capture_file = os.path.join(directory, "postfix.hello")
    capture = None
    try:
        postfix.start()
        capture = subprocess.Popen(
            [tlsweep, "capture", "--listen", f"{capture_address}:{CAPTURE_PORT}", "--count", "1",
             "--timeout", "60", "-o", capture_file],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        message = "From: a@capture.test\nTo: b@remote.test\nSubject: capture\n\nhello\n"
        subprocess.run(["sendmail", "-C", postfix.config, "-f", "a@capture.test",
                        "b@remote.test"], input=message, text=True, check=True, timeout=20)
        subprocess.run(["postqueue", "-c", postfix.config, "-f"], check=False, timeout=20)
        try:
            output, _ = capture.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            capture.kill()
            output, _ = capture.communicate()
        print(output, end="")
        check(capture.returncode == 0, f"tlsweep capture got a hello (exit {capture.returncode})")
        text = open(capture_file).read() if os.path.exists(capture_file) else ""
        print(text, end="")
        spec = next((line for line in text.splitlines() if line and not line.startswith("#")), "")
        fields = dict(word.split("=", 1) for word in spec.split() if "=" in word)
        check(fields.get("backend") == "rawhello", "the candidate is for the raw backend")
        check(fields.get("ciphers") == "0xc02c:0xc009",
              f"Postfix's two TLS 1.2 suites, in its order (got {fields.get('ciphers')})")
        check(bool(fields.get("ciphersuites")), "and OpenSSL's TLS 1.3 suites")
        check(fields.get("min") == "TLSv1.2" and fields.get("max") == "TLSv1.3",
              f"versions TLSv1.2..TLSv1.3 (got {fields.get('min')}..{fields.get('max')})")
        check("(EHLO mx.politeness.test)" in text, "the capture names the client's EHLO")
        queue = subprocess.run(["postqueue", "-c", postfix.config, "-j"], capture_output=True,
                               text=True, timeout=20).stdout
        check("b@remote.test" in queue, "the message is still queued at Postfix (no mail taken)")

        # swaks, a client with an explicit cipher list: captured in its order too.
        swaks_text = ""
        if shutil.which("swaks") is None:
            check(False, "swaks is installed (.ci/install-deps installs it)")
        else:
            swaks_file = os.path.join(directory, "swaks.hello")
            second = subprocess.Popen(
                [tlsweep, "capture", "--listen", f"{capture_address}:{CAPTURE_PORT + 1}",
                 "--count", "1", "--timeout", "30", "-o", swaks_file],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            subprocess.run(["swaks", "--server", capture_address, "--port", str(CAPTURE_PORT + 1),
                            "--from", "a@capture.test", "--to", "b@remote.test", "--tls",
                            "--tls-cipher", "ECDHE-RSA-AES128-SHA:AES256-SHA",
                            "--helo", "swaks.capture.test"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            second.wait(timeout=30)
            swaks_text = open(swaks_file).read() if os.path.exists(swaks_file) else ""
            check("name=hello-swaks.capture.test backend=rawhello ciphers=0xc013:0x0035 " in
                  swaks_text, "swaks: its two suites in its order, named by its HELO")

        # The replay, live: one probe per listener with the captured hello.
        expected = {"modern": ("TLSV1_3", None), "tls12": ("TLSV1_2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
                    "other": (None, None)}
        for name, (version, suite) in expected.items():
            out = subprocess.run(
                [tlsweep, "probe", "--json", "--allow-private", "--candidate",
                 f"hello={capture_file}", f"[{listeners[name]}]:25"],
                capture_output=True, text=True, timeout=60)
            lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
            result = lines[0] if lines else {}
            tls = result.get("tls", {})
            print(f"{name}: {result.get('failure', 'PROBE_OK')} {tls.get('version')} "
                  f"{tls.get('suite', {}).get('iana_name')} {tls.get('library_error')}")
            if version is None:
                check(result.get("failure") == "TLS_NO_SHARED_CIPHER",
                      f"{name}: no suite in common: refused (got {result.get('failure')})")
                continue
            check(tls.get("success") is True and tls.get("version") == version,
                  f"{name}: the server chose {version} from the replayed hello")
            if suite is not None:
                check(tls.get("suite", {}).get("iana_name") == suite,
                      f"{name}: the client's first suite, {suite}")
            check("serverhello-only" in tls.get("library_error", ""),
                  f"{name}: the result says it rests on a ServerHello only")

        # The what-if: an enumerating sweep with the captured hello live, then the prediction
        # from the stored enumerations with that exact offer, checked against the live answers.
        targets = os.path.join(directory, "targets.txt")
        with open(targets, "w") as f:
            f.write("".join(f"[{address}]:25\n" for address in listeners.values()))
        results = os.path.join(directory, "results.jsonl")
        sweep = subprocess.run(
            [tlsweep, "sweep", "--targets", targets, "--enumerate", "--allow-private", "--rate", "0",
             "--per-ip-spacing", "0", "--candidate", f"hello={capture_file} name=mta",
             "--json", "--out", results], capture_output=True, text=True, timeout=300)
        check(sweep.returncode == 0, f"sweep --enumerate with the hello (exit {sweep.returncode})")
        whatif = subprocess.run(
            [tlsweep, "whatif", "--results", results, "--all", "--candidate",
             f"hello={capture_file} name=mta"], capture_output=True, text=True, timeout=120)
        print(whatif.stdout, end="")
        check(whatif.returncode == 3, f"whatif: one target would fail (exit {whatif.returncode})")
        check("live checks agree 3/3" in whatif.stdout,
              "whatif: the predictions from the exact offer agree with the 3 live replays")

        # The MTA itself: Postfix's smtp client delivers to each listener (transport_maps), and
        # each listener's log says what the real handshake negotiated. It must be what the what-if
        # predicted from the captured hello.
        log_before = postfix.log_size()
        for name in listeners:
            subprocess.run(["sendmail", "-C", postfix.config, "-f", "a@capture.test",
                            f"b@{name}.test"], input=message, text=True, check=True, timeout=20)
        subprocess.run(["postqueue", "-c", postfix.config, "-f"], check=False, timeout=20)
        established, refused = established_since(postfix, listeners, log_before, len(listeners))
        compare("Postfix", listeners, predictions(whatif.stdout), established, refused)

        # swaks likewise: its captured hello predicted, then swaks itself at each listener.
        if swaks_text:
            swaks_whatif = subprocess.run(
                [tlsweep, "whatif", "--results", results, "--all", "--candidate",
                 f"hello={swaks_file} name=swaks"], capture_output=True, text=True, timeout=120)
            print(swaks_whatif.stdout, end="")
            for name, address in listeners.items():
                log_before = postfix.log_size()
                subprocess.run(["swaks", "--server", address, "--port", "25", "--from",
                                "a@capture.test", "--to", f"b@{name}.test", "--tls",
                                "--tls-cipher", "ECDHE-RSA-AES128-SHA:AES256-SHA", "--helo",
                                "swaks.capture.test", "--quit-after", "TLS"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
                one, failed = established_since(postfix, {name: address}, log_before, 1, 15)
                compare("swaks", {name: address}, predictions(swaks_whatif.stdout), one, failed)
    finally:
        if capture is not None and capture.poll() is None:
            capture.kill()
        postfix.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            print(f"kept {directory}")
    print("capture_postfix_test: " + ("FAILED: " + "; ".join(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
