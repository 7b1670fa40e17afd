#!/usr/bin/env bash
# Replays a pcap of N distinct flows with softflowd, at full speed, into a freshly started backend, RUNS times
# (a new data folder, so a new managed PostgreSQL and an empty database, each time). Prints per run the flows sent,
# the flows stored, the kernel's drops on the IPFIX socket and the collector's own drops.
#
# usage: scripts/softflowd-replay.sh [FLOWS=300000] [RUNS=5]
# needs: softflowd, psql, the .NET SDK, PostgreSQL server binaries. Work files go to $WORK (default /tmp/netobserv-replay).
set -euo pipefail

FLOWS=${1:-300000}
RUNS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/netobserv-replay}
HTTP_PORT=${HTTP_PORT:-13100}
IPFIX_PORT=${IPFIX_PORT:-14739}
mkdir -p "$WORK"

dotnet build -c Release "$ROOT/src/NetObserv.Server" -v q -nologo >/dev/null
SERVER="$ROOT/src/NetObserv.Server/bin/Release/net10.0/netobserv-backend.dll"
PCAP="$WORK/flows-$FLOWS.pcap"
[ -f "$PCAP" ] || python3 "$ROOT/scripts/make-flows-pcap.py" --flows "$FLOWS" "$PCAP" >/dev/null

metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v s="$1" '$1 == s { print $2; found=1 } END { if (!found) print 0 }'; }

echo "rmem_max $(cat /proc/sys/net/core/rmem_max); load: $(uptime | sed 's/.*load average: //')"
for run in $(seq 1 "$RUNS"); do
  data="$WORK/data-$run"
  rm -rf "$data" "$data.pgpass"
  dotnet "$SERVER" serve --data-dir "$data" --listen 127.0.0.1 --http-port "$HTTP_PORT" --grpc-port -1 \
    --query-grpc-port -1 --ipfix-port "$IPFIX_PORT" --netflow-port 0 >"$WORK/server-$run.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  port=$(sed -n 4p "$data/pg/postmaster.pid")
  count() { PGPASSFILE="$data/pg.pgpass" psql -h 127.0.0.1 -p "$port" -U netobserv -d netobserv -tAc "SELECT count(*) FROM flows"; }

  started=$(date +%s.%N)
  softflowd -r "$PCAP" -n "127.0.0.1:$IPFIX_PORT" -v 10 -d -m $((FLOWS + 1000)) >"$WORK/softflowd-$run.log" 2>&1
  sent_s=$(echo "$(date +%s.%N) - $started" | bc)

  # Settled: every flow stored, or the count unchanged for 10 s.
  stored=0; still=0
  while [ "$stored" -lt "$FLOWS" ] && [ "$still" -lt 10 ]; do
    sleep 1
    now=$(count)
    if [ "$now" = "$stored" ]; then still=$((still + 1)); else still=0; fi
    stored=$now
  done
  stored_s=$(echo "$(date +%s.%N) - $started" | bc)

  kernel=$(metric netobserv_ipfix_socket_drops_total)
  queue=$(metric 'netobserv_ipfix_drops_total{reason="queue_full"}')
  channel=$(metric 'netobserv_ipfix_drops_total{reason="channel_full"}')
  packets=$(metric netobserv_ipfix_packets_total)
  printf 'run %d: sent %d, stored %d (%.2f%% lost), datagrams %s, kernel drops %s, queue_full %s, channel_full %s; softflowd %.1f s, settled after %.1f s\n' \
    "$run" "$FLOWS" "$stored" "$(echo "($FLOWS - $stored) * 100 / $FLOWS" | bc -l)" "$packets" "$kernel" "$queue" "$channel" "$sent_s" "$stored_s"

  kill -TERM "$server"
  wait "$server" || true
  rm -rf "$data" "$data.pgpass"
done
echo "load after: $(uptime | sed 's/.*load average: //')"
