#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster, then throws the cluster away.
#
#   scripts/with-postgres.sh <command> [args...]
#
# Installs PostgreSQL from Debian packages if it is missing (without the `main` cluster Debian
# would otherwise create and start), creates a fresh cluster in a temp dir, starts it on a free
# port on 127.0.0.1, exports TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:<port>/postgres and
# runs the command in the current directory. Exits with the command's exit code. The cluster is
# stopped and its directory deleted on every exit: success, failure, Ctrl-C or SIGTERM (with
# SIGTERM, once the command has exited). Works as root (CI; the server runs as the `postgres`
# user) and as a normal user (the server runs as that user).
set -euo pipefail

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'with-postgres: %s\n' "$*" >&2; exit 1; }

[[ $# -gt 0 ]] || { echo "usage: $0 <command> [args...]" >&2; exit 2; }

MIN_VERSION=15
FIRST_PORT=55432
PORTS=100   # tries FIRST_PORT .. FIRST_PORT+PORTS-1

is_root=false; [[ $(id -u) -eq 0 ]] && is_root=true
SUDO=""; $is_root || SUDO="sudo"

# --- 1. Install PostgreSQL if missing -----------------------------------------------------------

have_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

# True when createcluster.conf already says not to create the `main` cluster. The file is read
# like postgresql-common does: the last assignment wins; false/off/no/0 all mean "don't".
conf=/etc/postgresql-common/createcluster.conf
main_cluster_disabled() {
  local last
  [[ -r $conf ]] || return 1
  last=$(grep -E '^[[:space:]]*create_main_cluster[[:space:]]*=' "$conf" | tail -n 1) || return 1
  last=${last#*=}; last=${last%%#*}; last=${last//[[:space:]\'\"]/}
  [[ ${last,,} =~ ^(false|off|no|0)$ ]]
}

if ! have_server; then
  # Debian's postgresql package creates and starts a `main` cluster on port 5432 unless this
  # setting says not to. The package keeps a createcluster.conf that is already there (ucf keeps
  # the local version when debconf is non-interactive), so writing it first is enough.
  if ! main_cluster_disabled; then
    step "disabling Debian's default cluster in $conf"
    $SUDO mkdir -p "$(dirname "$conf")"
    line='create_main_cluster = false'
    # Start on a new line if the file exists and does not end with one.
    [[ -s $conf && -n $(tail -c 1 "$conf") ]] && line=$'\n'"$line"
    printf '%s\n' "$line" | $SUDO tee -a "$conf" >/dev/null
  fi
  step "installing PostgreSQL from Debian packages"
  $SUDO apt-get update -q
  # `env`, not a plain assignment: sudo would drop DEBIAN_FRONTEND from the environment.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi

# The newest installed server (a directory may hold only client programs, so look for initdb).
bindir=""
for initdb in $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V); do
  bindir=$(dirname "$initdb")
done
[[ -n $bindir ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
version=$(basename "$(dirname "$bindir")")
(( ${version%%.*} >= MIN_VERSION )) \
  || die "need PostgreSQL $MIN_VERSION or newer, found $version (apt-get install postgresql-$MIN_VERSION)"

# --- 2. A fresh cluster in a temp dir -----------------------------------------------------------

# Run a server program: as root, as the postgres user (initdb and pg_ctl refuse to run as root;
# `cd /` so they do not trip over a working directory postgres cannot read); otherwise as us.
if $is_root; then
  getent passwd postgres >/dev/null || die "no postgres user (is the postgresql package installed?)"
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

dir=""
# shellcheck disable=SC2317  # (called from the EXIT trap; shellcheck 0.9 thinks it is unreachable)
cleanup() {
  local rc=$?
  trap '' INT TERM   # a second Ctrl-C must not interrupt the clean-up
  if [[ -n $dir && -d $dir ]]; then
    if [[ -f $dir/data/postmaster.pid ]]; then
      step "stopping PostgreSQL"
      local pid
      pid=$(head -n 1 "$dir/data/postmaster.pid")
      as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      # If it would not stop, kill it: nothing may outlive this script.
      [[ -f $dir/data/postmaster.pid ]] && { kill -KILL "$pid" 2>/dev/null || true; }
      # pg_ctl returns once the server is down, a moment before init reaps the process; wait
      # (up to 5 s) so that nothing is left in `ps` when this script exits.
      for _ in {1..100}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -rf "$dir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Under /tmp, not $TMPDIR: the postgres user must be able to reach it, and the socket path
# ($dir/.s.PGSQL.<port>) must stay under the 107-byte limit for Unix sockets.
dir=$(mktemp -d /tmp/with-postgres.XXXXXXXX)   # mode 0700
$is_root && chown postgres "$dir"

step "creating a throwaway PostgreSQL $version cluster in $dir"
# --locale=C.UTF-8: the same behaviour whatever the caller's LANG (and no failure when LANG names
# a locale this machine has not generated).
if ! as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  die "initdb failed"
fi

# --- 3. Start it on a free port -----------------------------------------------------------------

# Something accepts connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# fsync, synchronous_commit and full_page_writes are off: this cluster is deleted when the command
# ends, so crash safety buys nothing and costs test time. Never copy these settings to production.
options="-k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB"

port=$FIRST_PORT
while :; do
  (( port < FIRST_PORT + PORTS )) || die "no free port in $FIRST_PORT-$((FIRST_PORT + PORTS - 1))"
  if port_in_use "$port"; then port=$((port + 1)); continue; fi
  rm -f "$dir/log"
  if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "$options -p $port" start \
      >"$dir/pg_ctl.out" 2>&1; then
    break
  fi
  # Another process (say, a second copy of this script) took the port between the check and the
  # start: try the next one. Any other failure is real.
  if grep -q 'could not bind\|could not create any TCP/IP sockets' "$dir/log" 2>/dev/null; then
    port=$((port + 1)); continue
  fi
  cat "$dir/pg_ctl.out" "$dir/log" >&2 2>/dev/null || true
  die "PostgreSQL did not start"
done

# --- 4. Run the command -------------------------------------------------------------------------

export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
step "PostgreSQL $version on 127.0.0.1:$port: TEST_POSTGRES_URL=$TEST_POSTGRES_URL"
rc=0
"$@" || rc=$?
exit "$rc"
