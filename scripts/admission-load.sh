#!/usr/bin/env bash
# Load test for `rampart admission` on loopback: builds the release binary
# with the admission feature and the load client, starts the server with a
# self-signed CA, sends REVIEWS AdmissionReviews (default 10000) over
# CONNECTIONS keep-alive HTTPS connections (default 50), and reports
# throughput, latency percentiles and the server's resident memory before
# and after. Needs nothing outside this repository.
#
#   scripts/admission-load.sh [REVIEWS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
reviews=${1:-10000}
connections=${2:-50}
target=${CARGO_TARGET_DIR:-target}

cargo build --release --quiet --features admission --bin rampart --example admission_load

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$target/release/rampart" admission --listen 127.0.0.1:0 --tls-self-signed \
  --tls-ca-out "$work/ca.pem" >"$work/audit.log" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q 'listening on https://' "$work/server.err" 2>/dev/null && break
  sleep 0.05
done
addr=$(sed -n 's|.*listening on https://||p' "$work/server.err")
[ -n "$addr" ] || { cat "$work/server.err"; exit 1; }

rss() { awk '/^VmRSS/ {print $2 " kB"}' "/proc/$server_pid/status"; }
# Warm up (first requests fill allocator arenas), then measure.
"$target/release/examples/admission_load" "$addr" "$work/ca.pem" tests/admission-data 500 "$connections" >/dev/null
echo "server RSS before: $(rss)"
"$target/release/examples/admission_load" "$addr" "$work/ca.pem" tests/admission-data "$reviews" "$connections"
echo "server RSS after $reviews reviews: $(rss)"
"$target/release/examples/admission_load" "$addr" "$work/ca.pem" tests/admission-data "$reviews" "$connections" >/dev/null
echo "server RSS after $((2 * reviews)) reviews: $(rss)"
echo "audit lines written: $(grep -c '"event":"admission.decision"' "$work/audit.log")"
# Server side: body read to decision, from the audit lines' duration_us.
grep -o '"duration_us":[0-9]*' "$work/audit.log" | cut -d: -f2 | sort -n | awk '
  { v[NR] = $1 }
  END { printf "server-side time per review: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        v[int(NR * 0.50)] / 1000, v[int(NR * 0.99)] / 1000, v[NR] / 1000 }'

