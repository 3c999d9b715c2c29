#!/usr/bin/env python3
"""Checks that the Docker runtime images hold every shared library the programs link.

For each runtime target of deploy/docker/Dockerfile (coordinator, agent), the packages that
target's stages `apt-get install` must cover every library `ldd` resolves for the built
programs and backend plugins (each image copies all of them). A library's package comes from
`dpkg -S`. A package counts as covered when the stages install it or pull it in
(Depends/Pre-Depends, followed through the packages installed here), or when it is part of
the debian:12 base image, taken as the `Priority: required` packages and their dependencies
(that is how the image is made: it brings libc6, libgcc-s1, libstdc++6, zlib1g...; Debian 12
gives libraries themselves Priority optional, so naming them would not do). Docker is not needed: the Dockerfile is parsed, and this machine, a Debian 12
that built the programs, stands in for the image's package database. Every package the
Dockerfile names must also exist, or `docker build` would stop.

Usage: runtime_libraries_test.py DOCKERFILE BINARY_OR_PLUGIN...
"""
import re
import subprocess
import sys

DOCKERFILE, BINARIES = sys.argv[1], sys.argv[2:]
failures = []


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def stages(text):
    """name -> (parent image or stage, [packages that stage apt-get installs])."""
    result, name = {}, None
    for line in re.sub(r"\\\n", " ", text).splitlines():
        start = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line.strip(), re.I)
        if start:
            name = start.group(2) or start.group(1)
            result[name] = (start.group(1), [])
        elif name and re.match(r"\s*RUN\b", line):
            for install in re.findall(r"apt-get\s+install\s+([^&|;]*)", line):
                result[name][1].extend(w for w in install.split() if not w.startswith("-"))
    return result


def installed_packages(stage_map, target):
    packages = []
    while target in stage_map:
        parent, own = stage_map[target]
        packages += own
        target = parent
    return packages


def owner(path):
    """The package that ships a library path (tries the /usr-merged spellings too)."""
    candidates = [path, re.sub(r"^/usr/", "/", path), "/usr" + path]
    for candidate in candidates + [run("realpath", path).stdout.strip()]:
        out = run("dpkg", "-S", candidate)
        if out.returncode == 0:
            line = [l for l in out.stdout.splitlines() if not l.startswith("diversion")][0]
            return line.split(":")[0].split(",")[0].strip()
    return None


def package_db():
    """name -> (priority, [dependency alternatives]) of the packages installed here."""
    out = run("dpkg-query", "-W", "-f",
              "${Package}\t${db:Status-Abbrev}\t${Priority}\t${Provides}\t${Pre-Depends},${Depends}\n")
    db, provided = {}, {}
    for line in out.stdout.splitlines():
        name, status, priority, provides, depends = line.split("\t")
        if not status.startswith("ii"):
            continue
        alternatives = [[c.split("(")[0].strip().split(":")[0] for c in group.split("|")]
                        for group in depends.split(",") if group.strip()]
        db[name] = (priority, alternatives)
        for virtual in provides.split(","):
            provided.setdefault(virtual.split("(")[0].strip(), name)
    return db, provided


def closure(packages, db, provided):
    """Packages plus everything they depend on, as installed on this machine."""
    seen, todo = set(), list(packages)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        for alternatives in db.get(package, ("", []))[1]:
            choice = next((provided.get(c, c) for c in alternatives if provided.get(c, c) in db), None)
            if choice:
                todo.append(choice)
    return seen


SANITIZER_RUNTIME = re.compile(r"/lib(asan|ubsan|tsan|lsan)\.so")
libraries = {}
for binary in BINARIES:
    out = run("ldd", binary)
    if out.returncode != 0:
        failures.append(f"ldd {binary}: {out.stderr.strip()}")
    for line in out.stdout.splitlines():
        if "not found" in line:
            failures.append(f"{binary}: {line.strip()}")
        match = re.search(r"(/\S+)\s+\(0x", line)
        # A sanitizer build (.ci/sanitizers) links the sanitizer runtimes; images never do.
        if match and SANITIZER_RUNTIME.search(match.group(1)):
            continue
        if match:
            libraries.setdefault(match.group(1), set()).add(binary.rsplit("/", 1)[-1])

needed = {}
for library, users in sorted(libraries.items()):
    package = owner(library)
    if package is None:
        failures.append(f"{library} (linked by {', '.join(sorted(users))}) belongs to no package")
    else:
        needed.setdefault(package, set()).add(library)

db, provided = package_db()
# What debian:12 is made of: the Priority: required packages and what they depend on.
base_image = closure([p for p, (priority, _) in db.items() if priority == "required"], db, provided)
stage_map = stages(open(DOCKERFILE).read())
targets = [t for t in ("coordinator", "agent") if t in stage_map]
if len(targets) != 2:
    failures.append(f"Dockerfile has no coordinator and agent targets: {sorted(stage_map)}")
for target in targets:
    listed = installed_packages(stage_map, target)
    for package in listed:
        if package not in db and run("apt-cache", "show", package).returncode != 0:
            failures.append(f"{target}: Dockerfile installs {package}, which Debian does not have")
    covered = closure(listed, db, provided) | base_image
    for package, libs in sorted(needed.items()):
        if package not in covered:
            failures.append(f"{target}: runtime stage lacks {package} (for {', '.join(sorted(libs))})")

print(f"{len(libraries)} libraries from {len(needed)} packages, targets {targets}")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
