#!/usr/bin/env bash
# Writes brotli (.br) and gzip (.gz) copies of the built frontend's wasm, JS and CSS next to
# them, for the server to send to browsers that accept them (src/server/static_assets.rs).
# Run after every `cargo leptos build`; stale copies of a rebuilt file are replaced, and copies
# whose original is gone are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg="${1:-target/site/pkg}"
[[ -d "$pkg" ]] || { echo "precompress: $pkg not found; build first" >&2; exit 1; }
command -v brotli >/dev/null || { echo "precompress: brotli missing (scripts/setup.sh installs it)" >&2; exit 1; }
for copy in "$pkg"/*.br "$pkg"/*.gz; do
  [[ -e "$copy" && ! -e "${copy%.*}" ]] && rm -f "$copy"
done
for file in "$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css; do
  [[ -e "$file" ]] || continue
  brotli -f -q 11 -o "$file.br" "$file"
  gzip -9 -n -c "$file" > "$file.gz"
  touch -r "$file" "$file.br" "$file.gz"
done
echo "precompress: $(ls "$pkg"/*.br 2>/dev/null | wc -l) files in $pkg have .br and .gz copies"
