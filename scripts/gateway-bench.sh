#!/usr/bin/env bash
# Load test of the HTTP gateway with wrk on loopback: POST /v1/chat/completions (16 tokens of shakespeare-char, each
# generated: "cache": false) and
# GET /api/jobs/{id}, each at 64 connections. Starts its own gateway (embedded all-in-one pool, Release build, rate
# limit lifted) in a temporary POOLAI_HOME and stops it at the end. Prints wrk's output and, last, one JSON line:
# {"chat":{"requests_per_s":..,"p99_ms":..,"errors":..},"get_job":{...}}
# Settings: DURATION (default 20s), CONNECTIONS (64), SLOTS (generations at once, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
SLOTS=${SLOTS:-2}
if ! command -v wrk > /dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk > /dev/null || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }; else echo "gateway-bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; fi
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dotnet build -c Release Gateway -v q -nologo > /dev/null
dotnet build -c Release Client -v q -nologo > /dev/null
HOME_DIR=$(mktemp -d)
HTTP_PORT=$(free_port); GATEWAY_PORT=$(free_port); SILO_PORT=$(free_port)
export POOLAI_HOME=$HOME_DIR
PoolAI__Gateway__RateLimit__PermitsPerSecond=1000000 PoolAI__Gateway__RateLimit__Burst=1000000 \
PoolAI__Cluster__GatewayPort=$GATEWAY_PORT PoolAI__Cluster__SiloPort=$SILO_PORT PoolAI__Miner__Slots=$SLOTS \
PoolAI__Rewards__VerificationShare=0 Logging__LogLevel__Default=Warning \
  dotnet Gateway/bin/Release/net10.0/PoolAI.Gateway.dll --urls "http://127.0.0.1:$HTTP_PORT" > "$HOME_DIR/gateway.log" 2>&1 &
GATEWAY=$!
trap 'kill $GATEWAY 2> /dev/null || true; wait $GATEWAY 2> /dev/null || true; rm -rf "$HOME_DIR"' EXIT
BASE="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 1 120); do curl -sf "$BASE/healthz" > /dev/null && break; sleep 1; done
KEY=$(POOLAI__Cluster__GatewayPort=$GATEWAY_PORT dotnet Client/bin/Release/net10.0/poolai.dll keys create --role developer --name gateway-bench 2> /dev/null)
JOB=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"ROMEO:","max_tokens":16,"seed":1}' "$BASE/api/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sleep 2
export WRK_KEY=$KEY
export WRK_BODY='{"model":"shakespeare-char","messages":[{"role":"user","content":"ROMEO:"}],"max_tokens":16,"seed":7,"cache":false}'
echo "== POST /v1/chat/completions (16 tokens), $CONNECTIONS connections, $DURATION, $SLOTS slots"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 60s --latency -s scripts/wrk/post-json.lua "$BASE/v1/chat/completions" | tee "$HOME_DIR/chat.txt"
echo "== GET /api/jobs/{id}, $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 60s --latency -s scripts/wrk/get.lua "$BASE/api/jobs/$JOB" | tee "$HOME_DIR/get.txt"
python3 - "$HOME_DIR/chat.txt" "$HOME_DIR/get.txt" <<'PY'
import json, re, sys
def figures(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {"requests_per_s": round(rps, 1), "p99_ms": round(p99, 1), "errors": errors}
print(json.dumps({"chat": figures(sys.argv[1]), "get_job": figures(sys.argv[2])}))
PY
