#!/usr/bin/env python3
"""Checks that the deployment files in deploy/ hang together and match the real programs.

- every YAML file parses; Kubernetes objects have apiVersion/kind/metadata.name;
- images referenced by the manifests are built by a target of deploy/docker/Dockerfile;
- probes and Services name container ports that exist;
- every Secret a pod mounts is documented (with the keys the args use) in the manifests;
- every overlay patch path exists in the base object it patches;
- every --flag passed in manifests, systemd units and the Dockerfile exists in the `--help`
  of the binary it is passed to (so the files cannot drift from the programs);
- each shipped agent --capacity has a comment beside it naming the (real) flags that bound
  the load on the servers.

Usage: manifests_test.py REPO_ROOT COORDINATOR_BINARY AGENT_BINARY
Prints "N passed, N failed" at the end; exits 1 on any failure.
"""
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1])
BINARIES = {"tlsweep-coordinator": sys.argv[2], "tlsweep-agent": sys.argv[3]}
passed = 0
failed = 0


def check(condition, message):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print("FAIL:", message)


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out.stdout + out.stderr))


FLAGS = {name: help_flags(path) for name, path in BINARIES.items()}


def check_flags(program, args, where):
    for arg in args:
        for flag in re.findall(r"(?:^|\s)(--[a-z][a-z0-9-]*)", " " + arg):
            check(flag in FLAGS[program], f"{where}: {program} has no flag {flag}")


def load_all(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
docker_targets = set(re.findall(r"^FROM \S+ AS (\S+)", dockerfile, re.M))
check({"coordinator", "agent"} <= docker_targets, f"Dockerfile targets: {docker_targets}")
for target, program in (("coordinator", "tlsweep-coordinator"),):
    cmd = re.search(r'CMD \[(.*?)\]', dockerfile, re.S)
    check(cmd is not None, "Dockerfile has a CMD for the coordinator")
    if cmd:
        check_flags(program, re.findall(r'"([^"]+)"', cmd.group(1)), "Dockerfile CMD")

base = {}
documented_secrets = {}
for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml")):
    text = path.read_text()
    # Documented in comments: "kubectl create secret generic NAME \ \n #   --from-file=KEY=..."
    for match in re.finditer(r"create secret generic (\S+)((?:[\s\\#]*--from-file=\S+)+)", text):
        documented_secrets[match.group(1)] = set(re.findall(r"--from-file=([^=\s]+)=", match.group(2)))
    docs = load_all(path)
    check(len(docs) > 0, f"{path} has YAML documents")
    for doc in docs:
        if doc.get("kind") == "Kustomization":
            continue
        check("apiVersion" in doc and "kind" in doc and "name" in doc.get("metadata", {}),
              f"{path}: object without apiVersion/kind/name")
        if "base" in path.relative_to(ROOT / "deploy/k8s").parts:
            base[(doc["kind"], doc["metadata"]["name"])] = doc

for (kind, name), doc in base.items():
    if kind not in ("StatefulSet", "Deployment"):
        continue
    pod = doc["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for container in pod["containers"]:
        image = container["image"].split(":")[0]
        check(image.split("/")[-1] in docker_targets, f"{name}: image {image} has no Dockerfile target")
        program = "tlsweep-" + image.split("/")[-1]
        check_flags(program, container.get("args", []), f"{name} args")
        ports = {p["name"] for p in container.get("ports", [])}
        for probe in ("livenessProbe", "readinessProbe"):
            port = container.get(probe, {}).get("httpGet", {}).get("port")
            check(port in ports, f"{name}: {probe} port {port} not among {ports}")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        for arg in container.get("args", []):
            value = arg.split("=", 1)[-1]
            for mount, volume in mounts.items():
                if value.startswith(mount + "/") and "secret" in volumes.get(volume, {}):
                    secret = volumes[volume]["secret"]["secretName"]
                    key = value[len(mount) + 1:]
                    check(secret in documented_secrets, f"{name}: secret {secret} is not documented")
                    check(key in documented_secrets.get(secret, set()),
                          f"{name}: secret {secret} has no documented key {key}")
        for mount in container.get("volumeMounts", []):
            check(mount["name"] in volumes or mount["name"] in
                  [t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])],
                  f"{name}: mount {mount['name']} has no volume")
    if kind == "StatefulSet":
        service = base.get(("Service", doc["spec"]["serviceName"]))
        check(service is not None, f"{name}: serviceName {doc['spec']['serviceName']} has no Service")
        if service:
            ports = {p["name"] for c in pod["containers"] for p in c.get("ports", [])}
            for port in service["spec"]["ports"]:
                check(port["targetPort"] in ports, f"Service {service['metadata']['name']}: targetPort {port['targetPort']}")

for overlay in sorted((ROOT / "deploy/k8s/overlays").iterdir()):
    kustomization = load_all(overlay / "kustomization.yaml")[0]
    check(any(r.startswith("../../base/") for r in kustomization.get("resources", [])),
          f"{overlay.name} builds on a base (deploy/k8s/base/*)")
    for patch in kustomization.get("patches", []):
        target = base.get((patch["target"]["kind"], patch["target"]["name"]))
        check(target is not None, f"{overlay.name}: patch target {patch['target']} not in base")
        for op in yaml.safe_load(patch["patch"]):
            node = target
            for part in op["path"].strip("/").split("/")[:-1]:
                part = part.replace("~1", "/").replace("~0", "~")
                node = node[int(part)] if isinstance(node, list) else node.get(part) if node else None
            last = op["path"].split("/")[-1].replace("~1", "/")
            exists = node is not None and (
                (isinstance(node, list) and int(last) < len(node)) or (isinstance(node, dict) and last in node))
            check(exists, f"{overlay.name}: patch path {op['path']} does not exist in the base")

for unit in sorted((ROOT / "deploy/systemd").glob("*.service")):
    text = unit.read_text().replace("\\\n", " ")
    exec_start = re.search(r"^ExecStart=(\S+)(.*)$", text, re.M)
    check(exec_start is not None, f"{unit.name} has ExecStart")
    if exec_start:
        program = pathlib.Path(exec_start.group(1)).name
        check(program in BINARIES, f"{unit.name} runs {program}")
        if program in BINARIES:
            check_flags(program, [exec_start.group(2)], unit.name)
    check(re.search(r"^CapabilityBoundingSet=\s*$", text, re.M) is not None,
          f"{unit.name}: empty CapabilityBoundingSet")
    check("ProtectSystem=strict" in text, f"{unit.name}: ProtectSystem=strict")
    check("DynamicUser=yes" in text or "User=" in text, f"{unit.name}: runs unprivileged")

# Beside every shipped --capacity, a comment says which flags bound the load (they must be real).
for path in [ROOT / "deploy/k8s/base/agent/agent-deployment.yaml", ROOT / "deploy/systemd/tlsweep-agent@.service"]:
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.search(r"--capacity[ =]\d", line) and not line.lstrip().startswith("#"):
            comment = " ".join(l for l in lines[max(0, number - 6):number] if l.lstrip().startswith("#"))
            named = set(re.findall(r"(--[a-z][a-z0-9-]*)", comment))
            check({"--rate", "--per-ip"} <= named, f"{path.name}:{number + 1}: --capacity without a "
                  f"comment naming the flags that bound the load (--rate, --per-ip...)")
            check_flags("tlsweep-agent", sorted(named), f"{path.name}:{number + 1} comment")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
