#!/usr/bin/env bash
# deploy/dev-ca under a permissive umask: private keys and the API token are the owner's only,
# certificates are world-readable.
set -euo pipefail
repo=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(umask 022 && "$repo/deploy/dev-ca" "$dir/pki" >/dev/null)
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
[ $fail = 0 ] && echo "PASS dev-ca key and token modes"
exit $fail
