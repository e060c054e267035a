#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters for the tests: never for real data.
#
#   scripts/pg-cluster.sh start DIR     initdb DIR/primary and start it; prints
#                                       its admin URL (superuser postgres,
#                                       database postgres)
#   scripts/pg-cluster.sh replica DIR   pg_basebackup -R the primary into
#                                       DIR/replica (a hot standby streaming
#                                       from it), start it, print its URL
#   scripts/pg-cluster.sh down DIR [NODE]   stop one server (primary by
#                                       default), keeping its data
#   scripts/pg-cluster.sh up DIR [NODE]     start it again on the same port
#   scripts/pg-cluster.sh stop DIR      stop every server under DIR and
#                                       remove DIR
#
# A server listens on 127.0.0.1 (a free port) and on a socket in DIR/NODE/sock,
# trusts every local connection, and runs with fsync=off: a crash of the
# machine loses it, which is the point. PostgreSQL refuses to run as root, so
# under root the servers run as a system user, insights-test (created when
# missing), which owns DIR.
#
# The binaries are Debian's postgresql-15, named by full path: the pg_ctl and
# initdb on PATH may be wrappers that choose a version or a cluster
# themselves.
set -euo pipefail

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_USER=insights-test

die() { echo "pg-cluster: $*" >&2; exit 1; }

[ -x "$BIN/initdb" ] || die "$BIN/initdb not found: install Debian's postgresql-15 (scripts/install-deps.sh test)"

# Runs a command as the user that owns the clusters.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$RUN_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u "$RUN_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      "$RUN_USER" 2>/dev/null || id -u "$RUN_USER" >/dev/null 2>&1 ||
      die "cannot create the system user $RUN_USER"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Writes the settings every test server shares into NODE_DIR/data.
configure() {
  local node=$1 port=$2
  cat >>"$node/data/postgresql.conf" <<EOF

# pg-cluster.sh: a throwaway test server
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$node/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 5
hot_standby = on
logging_collector = off
log_min_messages = warning
EOF
  echo "$port" >"$node/port"
}

# Starts the server of NODE_DIR, waiting until it accepts connections.
node_start() {
  local node=$1
  as_owner "$BIN/pg_ctl" -D "$node/data" -l "$node/log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$node/log" >&2 || true; return 1; }
}

node_url() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$1/port")/postgres"
}

cmd_start() {
  local dir=$1 node=$1/primary
  ensure_user
  mkdir -p "$node/sock"
  [ "$(id -u)" -eq 0 ] && chown -R "$RUN_USER" "$dir"
  chmod 700 "$dir"
  cd "$dir"
  as_owner "$BIN/initdb" -D "$node/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$node/initdb.log" 2>&1 || { cat "$node/initdb.log" >&2; die "initdb failed"; }
  # A port can be taken between choosing and binding it: try a few.
  local tries=0
  while :; do
    configure "$node" "$(free_port)"
    node_start "$node" && break
    tries=$((tries + 1))
    [ $tries -lt 5 ] || die "the server did not start (see $node/log)"
  done
  node_url "$node"
}

cmd_replica() {
  local dir=$1 node=$1/replica primary=$1/primary
  [ -f "$primary/port" ] || die "no primary in $dir"
  mkdir -p "$node/sock"
  [ "$(id -u)" -eq 0 ] && chown -R "$RUN_USER" "$node"
  cd "$dir"
  as_owner "$BIN/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" -U postgres \
    -D "$node/data" -R -X stream -c fast --no-sync >"$node/basebackup.log" 2>&1 ||
    { cat "$node/basebackup.log" >&2; die "pg_basebackup failed"; }
  # The copied postgresql.conf names the primary's port and socket: the
  # settings appended last win.
  configure "$node" "$(free_port)"
  node_start "$node" || die "the replica did not start (see $node/log)"
  node_url "$node"
}

cmd_down() {
  local node=$1/${2:-primary}
  as_owner "$BIN/pg_ctl" -D "$node/data" -m fast -w -t 60 stop >/dev/null
}

cmd_up() {
  local node=$1/${2:-primary}
  cd "$1"
  node_start "$node" || die "the server did not start again (see $node/log)"
}

cmd_stop() {
  local dir=$1 pidfile rc=0
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/*/data/postmaster.pid; do
    [ -f "$pidfile" ] || continue
    as_owner "$BIN/pg_ctl" -D "$(dirname "$pidfile")" -m immediate -w -t 60 stop >/dev/null 2>&1 || rc=1
  done
  rm -rf "$dir"
  return $rc
}

[ $# -ge 2 ] || die "usage: $0 start|replica|down|up|stop DIR [NODE]"
cmd=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir=$(pwd)/$dir ;;
esac
case "$cmd" in
  start) cmd_start "$dir" ;;
  replica) cmd_replica "$dir" ;;
  down) cmd_down "$dir" "${3:-}" ;;
  up) cmd_up "$dir" "${3:-}" ;;
  stop) cmd_stop "$dir" ;;
  *) die "unknown command '$cmd'" ;;
esac
