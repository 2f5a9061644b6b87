#!/usr/bin/env bash
# Checks what browsers download (target/site):
#  - no secret made it in: the dev app secret, any private key, or server-only code paths that
#    would carry them;
#  - with `--budget KIB`, every framed page's wasm + JS, gzip-compressed as the server sends it,
#    fits the budget. A page downloads the core (wix-app.wasm, wix-app.js) and, for a lazy
#    route (src/pages/routes.rs), the split loader and the chunks the manifest lists for it.
#    Meaningful for release builds only (`make bundle-budget`); a debug wasm is ten times larger.
#
# Usage: scripts/check-bundle.sh [--budget KIB] [SITE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
budget_kib=""
if [[ "${1:-}" == "--budget" ]]; then
  budget_kib="${2:?--budget needs a size in KiB}"
  shift 2
fi
site="${1:-target/site}"
pkg="$site/pkg"
[[ -d "$pkg" ]] || { echo "check-bundle: $pkg not found; build first" >&2; exit 1; }

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
[[ -z "$budget_kib" ]] && exit $status

gz() { gzip -9 -n -c "$1" | wc -c; }
# One file per pattern; release builds put a content hash in the names (wix-app.<hash>.wasm).
only() {
  local matches=("$@")
  [[ ${#matches[@]} -eq 1 && -f "${matches[0]}" ]] || { echo "check-bundle: expected one file, found: ${matches[*]}" >&2; exit 1; }
  echo "${matches[0]}"
}
core=$(( $(gz "$(only "$pkg"/wix-app*.wasm)") + $(gz "$(only "$pkg"/wix-app*.js)") ))
manifests=("$pkg"/__wasm_split_manifest*.json)
manifest="${manifests[0]}"
for route in dashboard widget settings; do
  bytes=$core
  if [[ -f "$manifest" ]]; then
    # The manifest maps each lazy function to the chunks it needs:
    # {"__dashboard_route_view_…": ["chunk_4.<hash>", …]}.
    # shellcheck disable=SC2016 # JavaScript, not shell
    chunks=$(node -e '
      const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const key = Object.keys(m).find(k => k.startsWith(`__${process.argv[2]}_route_view_`));
      if (key) console.log(m[key].join("\n"));' "$manifest" "$route")
    if [[ -n "$chunks" ]]; then
      bytes=$(( bytes + $(gz "$(only "$pkg"/__wasm_split.*.js)") ))
      for chunk in $chunks; do bytes=$(( bytes + $(gz "$pkg/$chunk.wasm") )); done
    fi
  fi
  kib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1024 }')
  if (( bytes > budget_kib * 1024 )); then
    echo "check-bundle: /$route downloads $kib KiB of wasm + JS (gzip), over the $budget_kib KiB budget" >&2
    status=1
  else
    echo "check-bundle: /$route downloads $kib KiB of wasm + JS (gzip); budget $budget_kib KiB"
  fi
done
exit $status
