#!/usr/bin/env bash
# Fails if a secret made it into what browsers download (target/site): the dev app secret, any
# private key, or server-only code paths that would carry them.
set -euo pipefail
cd "$(dirname "$0")/.."
site="${1:-target/site}"
[[ -d "$site/pkg" ]] || { echo "check-bundle: $site/pkg not found; build first" >&2; exit 1; }
dev_secret=$(grep -o 'DEV_APP_SECRET: &str = "[^"]*"' src/server/config/wix.rs | sed 's/.*= "\(.*\)"/\1/')
[[ -n "$dev_secret" ]] || { echo "check-bundle: could not read DEV_APP_SECRET" >&2; exit 1; }
status=0
for needle in "$dev_secret" "PRIVATE KEY" "client_secret" "WIX_APP_SECRET"; do
  if grep -rqaF -- "$needle" "$site"; then
    echo "check-bundle: found '${needle:0:12}…' in $site" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "check-bundle: no secrets in $(find "$site" -type f | wc -l) files under $site"
exit $status
