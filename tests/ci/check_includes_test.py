#!/usr/bin/env python3
""".ci/check-includes on small trees: it must flag each kind of climb and pass a clean tree."""
import pathlib
import subprocess
import sys
import tempfile

CHECK = sys.argv[1]


def run(files: dict) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as root:
        for name, text in files.items():
            path = pathlib.Path(root, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)


def expect(files: dict, violations: list) -> None:
    result = run(files)
    found = [line for line in result.stdout.splitlines() if not line.startswith("check-includes:")]
    assert len(found) == len(violations), (files, result.stdout)
    for line, expected in zip(found, violations):
        assert expected in line, (expected, line)
    assert result.returncode == (1 if violations else 0), result


clean = {
    "backends/a.h": '#include "backends/b.h"\n#include <string>\n',
    "backends/openssl/p.cc": "#include <openssl/ssl.h>\n",
    "agent/x.cc": '#include "backends/a.h"\n#include "agent/y.h"\n',
    "coordinator/c.cc": '#include "backends/a.h"\n',
    "cli/m.cc": '#include "agent/x.h"\n#include "coordinator/c.h"\n',
}
expect(clean, [])
expect({**clean, "coordinator/list.cc": '#include "agent/target/target.h"\n'},
       ["coordinator/list.cc:1: coordinator/ includes agent/target/target.h"])
expect({**clean, "agent/z.cc": '\n#  include "coordinator/store.h"\n'},
       ["agent/z.cc:2: agent/ includes coordinator/store.h"])
expect({**clean, "backends/up.h": '#include "cli/flags.h"\n'}, ["backends/up.h:1"])
expect({**clean, "coordinator/hash.cc": "#include <openssl/crypto.h>\n"},
       ["coordinator/hash.cc:1: <openssl/crypto.h> outside backends/openssl/"])
expect({**clean, "backends/gnutls/../x509.cc": "#include <gnutls/x509.h>\n"},
       ["<gnutls/x509.h> outside backends/gnutls/"])
# The raw-hello plugin uses libcrypto (key shares, X.509), but no other TLS library.
expect({**clean, "backends/rawhello/k.cc": "#include <openssl/evp.h>\n"}, [])
expect({**clean, "backends/rawhello/g.cc": "#include <gnutls/gnutls.h>\n"},
       ["backends/rawhello/g.cc:1: <gnutls/gnutls.h> outside backends/gnutls/"])
expect({**clean, "backends/raw.cc": "#include <openssl/evp.h>\n"},
       ["backends/raw.cc:1: <openssl/evp.h> outside backends/openssl/ and backends/rawhello/"])
print("check_includes_test: ok")
