#!/usr/bin/env bash
# The scale-out layout on one machine: a PostgreSQL primary and a streaming replica made with
# pg_basebackup, two stateless app servers (`fangkong serve`, reads of boards and exports on
# the replica), one task worker with the periodic jobs, and nginx balancing between the app
# servers. Everything lives under one folder and its own ports; nothing of the machine's own
# PostgreSQL or nginx is touched.
#
#   scripts/layout.sh start     # create what is missing, start everything, print the URL
#   scripts/layout.sh status    # what runs
#   scripts/layout.sh stop      # stop everything (the data stays)
#   scripts/layout.sh clean     # stop and delete the folder
#
# Settings (environment):         default
#   LAYOUT_DIR                    ./var/layout
#   LAYOUT_PG_PORT                55432   primary
#   LAYOUT_REPLICA_PORT           55433   replica
#   LAYOUT_HTTP_PORT              58080   nginx (the URL to use)
#   LAYOUT_APP_PORTS              "58081 58082"
#   LAYOUT_APP_WORKERS            1       processes per app server
#   LAYOUT_APP_THREADS            4       threads per process
#   LAYOUT_DB                     fangkong
#   PG_BIN                        the newest /usr/lib/postgresql/*/bin
# Needs PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) and nginx; exits with
# status 3 when one is missing. As root, PostgreSQL runs as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DIR=$(realpath -m "${LAYOUT_DIR:-$ROOT/var/layout}")
PG_PORT=${LAYOUT_PG_PORT:-55432}
REPLICA_PORT=${LAYOUT_REPLICA_PORT:-55433}
HTTP_PORT=${LAYOUT_HTTP_PORT:-58080}
APP_PORTS=${LAYOUT_APP_PORTS:-"58081 58082"}
APP_WORKERS=${LAYOUT_APP_WORKERS:-1}
APP_THREADS=${LAYOUT_APP_THREADS:-4}
DB=${LAYOUT_DB:-fangkong}
FANGKONG=${FANGKONG:-$ROOT/.venv/bin/fangkong}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

PRIMARY_URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB"
REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/$DB"
RUN=$DIR/run
LOG=$DIR/log

say() { printf '%s\n' "$*"; }
die() { printf 'layout: %s\n' "$*" >&2; exit "${2:-1}"; }

need_binaries() {
  for tool in initdb pg_ctl pg_basebackup psql; do
    [ -x "$PG_BIN/$tool" ] || die "PostgreSQL server binaries not found (PG_BIN=$PG_BIN)" 3
  done
  [ -x "$NGINX" ] || die "nginx not found (apt-get install nginx)" 3
  [ -x "$FANGKONG" ] || die "$FANGKONG not found: install Fangkong into .venv first" 3
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root needs a 'postgres' user to own the clusters" 3
  fi
}

# PostgreSQL refuses to run as root: run its tools as `postgres` then.
pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$PG_BIN/$1" "${@:2}"
  else
    "$PG_BIN/$1" "${@:2}"
  fi
}

psql_at() { pg psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d "${3:-postgres}" -tAc "$2"; }

# A process that has ended but not been reaped (a zombie) counts as gone.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d')' -f2 "/proc/$1/stat" | cut -d' ' -f2)" != Z ]; }
running() { local pid; pid=$(cat "$1" 2>/dev/null) && alive "$pid"; }

wait_http() {  # port path seconds
  local deadline=$((SECONDS + $3))
  until "$ROOT/.venv/bin/python" - "$1" "$2" <<'PY' 2>/dev/null; do
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=3)
c.request("GET", sys.argv[2])
sys.exit(0 if c.getresponse().status == 200 else 1)
PY
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

cluster_conf() {  # data dir, port
  cat >>"$1/postgresql.conf" <<EOF

# --- scripts/layout.sh
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/pg/socket'
max_connections = 200
shared_buffers = 256MB
wal_level = replica
max_wal_senders = 5
wal_keep_size = 512MB
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
EOF
}

start_postgres() {
  mkdir -p "$DIR/pg/socket" "$LOG"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg" "$DIR/pg/socket" "$LOG"
  if [ ! -f "$DIR/pg/primary/PG_VERSION" ]; then
    say "initdb: primary on port $PG_PORT"
    pg initdb -D "$DIR/pg/primary" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cluster_conf "$DIR/pg/primary" "$PG_PORT"
    printf 'host replication postgres 127.0.0.1/32 trust\n' >>"$DIR/pg/primary/pg_hba.conf"
  fi
  if ! pg pg_ctl -D "$DIR/pg/primary" status >/dev/null 2>&1; then
    pg pg_ctl -D "$DIR/pg/primary" -l "$LOG/primary.log" -w -t 60 start >/dev/null
  fi
  if [ -z "$(psql_at "$PG_PORT" "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
    psql_at "$PG_PORT" "CREATE DATABASE \"$DB\""
  fi
  if [ ! -f "$DIR/pg/replica/PG_VERSION" ]; then
    say "pg_basebackup: replica on port $REPLICA_PORT"
    pg pg_basebackup -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$DIR/pg/replica" -R -X stream -c fast
    printf '\n# --- the replica\nport = %s\n' "$REPLICA_PORT" >>"$DIR/pg/replica/postgresql.conf"
  fi
  if ! pg pg_ctl -D "$DIR/pg/replica" status >/dev/null 2>&1; then
    pg pg_ctl -D "$DIR/pg/replica" -l "$LOG/replica.log" -w -t 60 start >/dev/null
  fi
  [ "$(psql_at "$REPLICA_PORT" "SELECT pg_is_in_recovery()")" = t ] ||
    die "the cluster on port $REPLICA_PORT is not a replica"
}

start_daemon() {  # name, command...
  local name=$1; shift
  running "$RUN/$name.pid" && return 0
  setsid env FANGKONG_DATABASE_URL="$PRIMARY_URL" FANGKONG_REPLICA_DATABASE_URL="$REPLICA_URL" \
    FANGKONG_VAR_DIR="$DIR/var" FANGKONG_TRUSTED_PROXIES=127.0.0.1 \
    "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

write_nginx_conf() {
  mkdir -p "$DIR/nginx/tmp"
  local user_line="" servers=""
  if [ "$(id -u)" = 0 ]; then
    user_line="user www-data;"
    chown www-data: "$DIR/nginx/tmp"
  fi
  for port in $APP_PORTS; do
    servers+="        server 127.0.0.1:$port max_fails=2 fail_timeout=5s;"$'\n'
  done
  cat >"$DIR/nginx/nginx.conf" <<EOF
# Written by scripts/layout.sh; deploy/nginx/fangkong.conf is the production counterpart.
$user_line
worker_processes 1;
pid $RUN/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    client_max_body_size 64m;
    upstream fangkong {
        least_conn;
$servers        keepalive 64;
    }
    server {
        listen 127.0.0.1:$HTTP_PORT;
        location / {
            proxy_pass http://fangkong;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_read_timeout 300s;
            add_header X-Fangkong-Upstream \$upstream_addr always;
        }
    }
}
EOF
}

start() {
  need_binaries
  mkdir -p "$RUN" "$LOG" "$DIR/var"
  start_postgres
  say "migrate: $PRIMARY_URL"
  FANGKONG_DATABASE_URL="$PRIMARY_URL" FANGKONG_VAR_DIR="$DIR/var" "$FANGKONG" migrate >>"$LOG/migrate.log" 2>&1 ||
    die "migrate failed: see $LOG/migrate.log"
  FANGKONG_DATABASE_URL="$PRIMARY_URL" FANGKONG_VAR_DIR="$DIR/var" \
    "$FANGKONG" manage collectstatic --noinput -v 0 >>"$LOG/migrate.log" 2>&1
  for port in $APP_PORTS; do
    start_daemon "app-$port" "$FANGKONG" serve --no-migrate --host 127.0.0.1 --port "$port" \
      --workers "$APP_WORKERS" --threads "$APP_THREADS"
  done
  start_daemon worker "$FANGKONG" worker
  for port in $APP_PORTS; do
    wait_http "$port" /healthz 180 || die "app server on $port did not start: see $LOG/app-$port.log"
  done
  if ! running "$RUN/nginx.pid"; then
    write_nginx_conf
    "$NGINX" -q -t -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -e "$LOG/nginx-error.log"
    "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -e "$LOG/nginx-error.log"
  fi
  wait_http "$HTTP_PORT" /healthz 30 || die "nginx did not answer: see $LOG/nginx-error.log"
  say "layout up: http://127.0.0.1:$HTTP_PORT/ (nginx -> app servers on $APP_PORTS)"
  say "  primary $PRIMARY_URL, replica $REPLICA_URL"
  say "  logs $LOG; stop with: scripts/layout.sh stop"
}

stop_pid() {  # pid file, seconds, signal
  local file=$1 pid
  pid=$(cat "$file" 2>/dev/null) || return 0
  rm -f "$file"
  alive "$pid" || return 0
  kill "-${3:-TERM}" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + $2))
  while alive "$pid"; do
    if [ $SECONDS -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
}

stop() {
  stop_pid "$RUN/nginx.pid" 15 QUIT
  for file in "$RUN"/app-*.pid "$RUN"/worker.pid; do
    [ -e "$file" ] && stop_pid "$file" 60 TERM
  done
  for cluster in replica primary; do
    if [ -f "$DIR/pg/$cluster/PG_VERSION" ] && pg pg_ctl -D "$DIR/pg/$cluster" status >/dev/null 2>&1; then
      pg pg_ctl -D "$DIR/pg/$cluster" -m fast -w -t 60 stop >/dev/null
    fi
  done
  say "layout stopped ($DIR)"
}

status() {
  local name state
  for file in "$RUN"/*.pid; do
    [ -e "$file" ] || continue
    name=$(basename "$file" .pid)
    state=stopped
    running "$file" && state="running (pid $(cat "$file"))"
    say "$name: $state"
  done
  for cluster in primary replica; do
    state=stopped
    if [ -f "$DIR/pg/$cluster/PG_VERSION" ] && pg pg_ctl -D "$DIR/pg/$cluster" status >/dev/null 2>&1; then
      state=running
    fi
    say "postgres $cluster: $state"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  clean) stop; rm -rf "$DIR"; say "removed $DIR" ;;
  *) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
