#!/usr/bin/env bash
# The same softflowd replay (a pcap of N distinct flows, at full speed) into the backend and into pmacct's
# nfacctd writing to PostgreSQL (the backend's managed server, database nfacct, one row per 5-tuple), one
# after the other, RUNS times each. Prints flows stored, the seconds from the start of the replay until the last
# flow was stored (and so flows stored per second), and the kernel's drops on each collector's socket.
#
# usage: scripts/ipfix-vs-nfacctd.sh [FLOWS=300000] [RUNS=3]
# needs: softflowd, nfacctd (pmacct, built with PostgreSQL), psql, the .NET SDK, PostgreSQL server binaries.
set -euo pipefail

FLOWS=${1:-300000}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/netobserv-vs-nfacctd}
HTTP_PORT=${HTTP_PORT:-13110}
IPFIX_PORT=${IPFIX_PORT:-14749}
NFACCTD_PORT=${NFACCTD_PORT:-14750}
RCVBUF=33554432   # both collectors ask for the same socket buffer (the backend's default)
mkdir -p "$WORK"

dotnet build -c Release "$ROOT/src/NetObserv.Server" -v q -nologo >/dev/null
SERVER="$ROOT/src/NetObserv.Server/bin/Release/net10.0/netobserv-backend.dll"
PCAP="$WORK/flows-$FLOWS.pcap"
[ -f "$PCAP" ] || python3 "$ROOT/scripts/make-flows-pcap.py" --flows "$FLOWS" "$PCAP" >/dev/null

metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v s="$1" '$1 == s { print $2; found=1 } END { if (!found) print 0 }'; }
# Kernel drops of the UDP socket bound to local port $1 (last column of /proc/net/udp).
socket_drops() { awk -v p="$(printf ':%04X' "$1")" 'index($2, p) == length($2) - 4 { d += $NF } END { print d + 0 }' /proc/net/udp /proc/net/udp6; }
# Waits until `$1` (a command printing a count) reaches $2 or stops moving for 10 s; prints the count and the
# seconds from $3 (a `date +%s.%N` taken before the replay) to the last time the count moved.
settle() {
  local stored=0 still=0 now moved="$3"
  while [ "$stored" -lt "$2" ] && [ "$still" -lt 50 ]; do
    sleep 0.2
    now=$($1)
    if [ "$now" = "$stored" ]; then still=$((still + 1)); else still=0; moved=$(date +%s.%N); fi
    stored=$now
  done
  echo "$stored $(echo "$moved - $3" | bc -l)"
}
# "<count> <seconds>" -> flows per second.
rate() { echo "$1 $2" | awk '{ printf "%.0f", ($2 > 0 ? $1 / $2 : 0) }'; }

data="$WORK/data"
rm -rf "$data" "$data.pgpass"
dotnet "$SERVER" serve --data-dir "$data" --listen 127.0.0.1 --http-port "$HTTP_PORT" --grpc-port -1 \
  --query-grpc-port -1 --ipfix-port "$IPFIX_PORT" --netflow-port 0 >"$WORK/server.log" 2>&1 &
server=$!
stop() {
  if [ -n "${nfacctd:-}" ]; then kill -INT "$nfacctd" 2>/dev/null; sleep 1; kill -KILL "$nfacctd" 2>/dev/null; fi
  kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null 2>&1 && break; sleep 0.5; done
port=$(sed -n 4p "$data/pg/postmaster.pid")
password=$(cut -d: -f5 "$data/pg.pgpass")
sql() { PGPASSFILE="$data/pg.pgpass" psql -h 127.0.0.1 -p "$port" -U netobserv -d "$1" -tAqc "$2"; }
count_backend() { sql netobserv "SELECT count(*) FROM flows"; }
count_nfacctd() { sql nfacct "SELECT count(*) FROM acct"; }
sql postgres "CREATE DATABASE nfacct" >/dev/null
sql nfacct "CREATE TABLE acct (ip_src inet NOT NULL, ip_dst inet NOT NULL, port_src int NOT NULL, port_dst int NOT NULL,
  ip_proto text NOT NULL, packets bigint NOT NULL, bytes bigint NOT NULL, stamp_inserted timestamp, stamp_updated timestamp)"

cat >"$WORK/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $NFACCTD_PORT
nfacctd_pipe_size: $RCVBUF
plugins: pgsql
aggregate: src_host, dst_host, src_port, dst_port, proto
plugin_pipe_size: 102400000
plugin_buffer_size: 102400
sql_host: 127.0.0.1
sql_port: $port
sql_db: nfacct
sql_user: netobserv
sql_passwd: $password
sql_table: acct
sql_optimize_clauses: true
sql_dont_try_update: true
sql_use_copy: true
sql_refresh_time: 2
sql_cache_entries: 400009
CONF
nfacctd -f "$WORK/nfacctd.conf" >"$WORK/nfacctd.log" 2>&1 &
nfacctd=$!
sleep 2

echo "rmem_max $(cat /proc/sys/net/core/rmem_max); load: $(uptime | sed 's/.*load average: //')"
for run in $(seq 1 "$RUNS"); do
  # The backend: the flows stored by this run are the count's growth.
  base=$(count_backend)
  before_kernel=$(metric netobserv_ipfix_socket_drops_total)
  before_channel=$(metric 'netobserv_ipfix_drops_total{reason="channel_full"}')
  started=$(date +%s.%N)
  softflowd -r "$PCAP" -n "127.0.0.1:$IPFIX_PORT" -v 10 -d -m $((FLOWS + 1000)) >/dev/null 2>&1
  read -r total seconds < <(settle count_backend $((base + FLOWS)) "$started")
  stored=$((total - base))
  printf 'run %d backend:  sent %d, stored %s in %.1f s (%s flows/s), kernel drops %s, channel_full %s\n' "$run" "$FLOWS" \
    "$stored" "$seconds" "$(rate "$stored" "$seconds")" \
    "$(( $(metric netobserv_ipfix_socket_drops_total) - before_kernel ))" \
    "$(( $(metric 'netobserv_ipfix_drops_total{reason="channel_full"}') - before_channel ))"

  sql nfacct "TRUNCATE acct" >/dev/null
  before=$(socket_drops "$NFACCTD_PORT")
  started=$(date +%s.%N)
  softflowd -r "$PCAP" -n "127.0.0.1:$NFACCTD_PORT" -v 10 -d -m $((FLOWS + 1000)) >/dev/null 2>&1
  read -r stored seconds < <(settle count_nfacctd "$FLOWS" "$started")
  printf 'run %d nfacctd:  sent %d, stored %s in %.1f s (%s flows/s), kernel drops %s\n' "$run" "$FLOWS" "$stored" \
    "$seconds" "$(rate "$stored" "$seconds")" "$(( $(socket_drops "$NFACCTD_PORT") - before ))"
done
echo "load after: $(uptime | sed 's/.*load average: //')"
