#!/usr/bin/env bash
# deploy/dev-ca under a permissive umask: private keys and the API token are the owner's only,
# certificates are world-readable; agent certificates name their region (and id), API client
# certificates their role, as the coordinator reads them (coordinator/peer_roles.h).
set -euo pipefail
repo=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(umask 022 && "$repo/deploy/dev-ca" "$dir/pki" --agent eu --agent us/lab-1 --agent us-lab/1 --api-client ops \
  >/dev/null)
fail=0
for file in "$dir"/pki/*-key.pem "$dir/pki/api-token"; do
  mode=$(stat -c %a "$file")
  if [ "$mode" != 600 ]; then echo "FAIL $(basename "$file") has mode $mode, want 600"; fail=1; fi
done
for file in "$dir"/pki/ca.pem "$dir"/pki/coordinator.pem; do
  mode=$(stat -c %a "$file")
  if [ "$mode" != 644 ]; then echo "FAIL $(basename "$file") has mode $mode, want 644"; fail=1; fi
done
ls "$dir"/pki/agent-*-key.pem >/dev/null || { echo "FAIL no agent key was written"; fail=1; }
uri() { openssl x509 -in "$dir/pki/$1" -noout -ext subjectAltName | grep -o 'URI:[^,]*'; }
for want in "agent-eu.pem URI:spiffe://tlsweep/agent/eu/*" \
    "agent-us@lab-1.pem URI:spiffe://tlsweep/agent/us/lab-1" \
    "agent-us-lab@1.pem URI:spiffe://tlsweep/agent/us-lab/1" "api-ops.pem URI:spiffe://tlsweep/api/ops"; do
  got=$(uri "${want%% *}" || true)
  if [ "$got" != "${want#* }" ]; then echo "FAIL ${want%% *} names '$got', want '${want#* }'"; fail=1; fi
done
if "$repo/deploy/dev-ca" "$dir/bad" --agent '*' >/dev/null 2>&1; then
  echo "FAIL an agent certificate for any region was issued"; fail=1
fi
[ $fail = 0 ] && echo "PASS dev-ca key and token modes"
exit $fail
