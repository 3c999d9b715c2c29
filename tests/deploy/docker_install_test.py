#!/usr/bin/env python3
"""Checks that `cmake --install` puts what the Docker images run where they look for it.

The builder stage of deploy/docker/Dockerfile runs `DESTDIR=/out cmake --install` and the
runtime stage copies parts of /out into the image. This test does the same install into a
temporary DESTDIR, maps the image paths back through the Dockerfile's `COPY --from=builder`
lines, and checks that:
- every ENTRYPOINT of the Dockerfile is an installed executable, and `--help` runs;
- the installed `tlsweep backends`, with no --plugin-dir or TLSWEEP_PLUGIN_DIR, finds the
  openssl and gnutls plugins (the default plugin directory next to the installed binaries).

Usage: docker_install_test.py CMAKE_COMMAND BUILD_DIR DOCKERFILE
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

CMAKE, BUILD, DOCKERFILE = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


prefix = re.search(r"-DCMAKE_INSTALL_PREFIX=(\S+)", text).group(1)
destdir = re.search(r"DESTDIR=(\S+)\s+cmake --install", text).group(1)
copies = re.findall(r"^COPY\s+--from=builder\s+(\S+)\s+(\S+)", text, re.M)
entrypoints = [json[0] for json in
               (re.findall(r'"([^"]+)"', e) for e in re.findall(r"^ENTRYPOINT\s+\[(.*)\]", text, re.M))]
check(entrypoints, "the Dockerfile has no ENTRYPOINT")

with tempfile.TemporaryDirectory() as out:
    env = dict(os.environ, DESTDIR=out)
    env.pop("TLSWEEP_PLUGIN_DIR", None)
    result = subprocess.run([CMAKE, "--install", BUILD, "--prefix", prefix], env=env,
                            capture_output=True, text=True, timeout=300)
    check(result.returncode == 0, f"cmake --install failed: {result.stderr.strip()}")

    def in_install(image_path):
        """Where an image path comes from in the install tree, through the COPY lines."""
        for source, target in copies:
            if source.startswith(destdir) and (image_path + "/").startswith(target.rstrip("/") + "/"):
                return pathlib.Path(out + source[len(destdir):] + image_path[len(target.rstrip("/")):])
        return None

    for entrypoint in entrypoints:
        path = in_install(entrypoint)
        check(path is not None, f"ENTRYPOINT {entrypoint} is not copied from the builder")
        if path is None:
            continue
        check(path.is_file() and os.access(path, os.X_OK), f"ENTRYPOINT {entrypoint} is not installed")
        if path.is_file():
            run = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30, env=env)
            check(run.returncode == 0, f"{entrypoint} --help: exit {run.returncode} {run.stderr.strip()}")
    cli = in_install(prefix + "/bin/tlsweep")
    if cli is None or not cli.is_file():
        failures.append(f"{prefix}/bin/tlsweep is not installed")
    else:
        run = subprocess.run([cli, "backends"], capture_output=True, text=True, timeout=30, env=env)
        names = {line.split("\t")[0] for line in run.stdout.splitlines()}
        check({"openssl", "gnutls"} <= names,
              f"installed tlsweep backends finds {sorted(names)}: {run.stderr.strip()}")

print(f"entrypoints {entrypoints}: {len(failures)} failures")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
