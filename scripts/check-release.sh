#!/usr/bin/env bash
# Proves a production binary (built without the dev-tools feature) carries no development tools:
# not the committed development private key, not the fake Wix's /_fake/ control routes (which
# mint credentials), not the /dev host page. The dev *public* key may be there: prod uses it to
# refuse that key. `make release` runs it on target/release/wix-app.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/wix-app}"
[[ -f "$bin" ]] || { echo "check-release: $bin not found; build first" >&2; exit 1; }
# A line from the middle of the private key: its PEM body is what would leak.
key_line=$(sed -n 5p dev/webhook-dev-private.pem)
[[ ${#key_line} -ge 40 ]] || { echo "check-release: could not read the dev private key" >&2; exit 1; }
status=0
for needle in "$key_line" "/_fake/" "are separate Wix sites"; do
  if grep -qaF -- "$needle" "$bin"; then
    echo "check-release: found '${needle:0:16}…' in $bin" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "check-release: $bin has no dev private key, no fake Wix routes, no /dev page"
exit $status
