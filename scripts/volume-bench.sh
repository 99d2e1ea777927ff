#!/usr/bin/env bash
# Volume benchmarks in Release, next to Intel ISA-L on the same machine in the same run:
#  1. ISA-L's Reed–Solomon (Debian libisal-dev, installed with apt-get when its header is missing) through the anchor
#     isal_rs.c: encode and rebuild of M lost data shards, rs:4+2 and rs:10+4, 1 MiB shards, one core, 3 s each;
#  2. PoolAI's codec, the Benchmarks "volume-codec" subcommand: the same operations, 5 repeats (median, min, max);
#  3. when the Benchmarks program has a "volume-pool" subcommand (pool write/read/rebuild throughput) and
#     VOLUME_BENCH_POOL is 1 (the default), that too, with the arguments in VOLUME_BENCH_POOL_ARGS.
# Each step writes a JSON fragment into a temporary folder; a final python3 step merges them into one JSON object,
# printed as the LAST line of standard output and written to artifacts/volume-bench.json. GB/s count data bytes (K
# shards), 10^9 bytes a GB. Keys: codec_features, shard_bytes, encode_gbps_per_core and decode_gbps_per_core
# ({"rs:4+2": {"Median", "Min", "Max"}, "rs:10+4": ...}), isal_encode_gbps and isal_decode_gbps ({"rs:4+2": GB/s, ...}),
# encode_ratio_vs_isal and decode_ratio_vs_isal (our median / ISA-L, per code), isal_rebuilt_identical, and the
# volume-pool fragment's own keys.
# Usage: bash scripts/volume-bench.sh        (progress on standard error)
set -euo pipefail
script_dir="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$script_dir/.." && pwd)"
cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fragments="$work/fragments"
mkdir -p "$fragments"
shard_bytes=1048576
log() { echo "[volume-bench $(date +%H:%M:%S)] $*" >&2; }

log "building Benchmarks (Release)"
dotnet build -c Release Benchmarks -v quiet -nologo >&2
bench=(dotnet "$repo/Benchmarks/bin/Release/net10.0/PoolAI.Benchmarks.dll")

# ISA-L: the anchor source from the shared anchors beside the repository, else the machine's shared folder, else the
# copy kept in the repository.
if [[ ! -f /usr/include/isa-l/erasure_code.h ]]; then
  log "installing libisal-dev"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y libisal-dev >&2 || { "${sudo_cmd[@]}" apt-get update >&2 && "${sudo_cmd[@]}" apt-get install -y libisal-dev >&2; }
fi
anchor=""
for candidate in "$script_dir/../../shared/anchors/isal_rs.c" /work/shared/anchors/isal_rs.c "$repo/Benchmarks/reference/isal_rs.c"; do
  if [[ -f "$candidate" ]]; then anchor="$candidate"; break; fi
done
[[ -n "$anchor" ]] || { log "isal_rs.c not found"; exit 1; }
log "compiling $anchor"
gcc -O2 "$anchor" -lisal -o "$work/isal_rs"
for code in "4 2" "10 4"; do
  read -r k m <<<"$code"
  log "ISA-L rs:$k+$m"
  "$work/isal_rs" "$k" "$m" "$shard_bytes" 3 | tail -n 1 >"$fragments/isal_${k}_${m}.json"
  cat "$fragments/isal_${k}_${m}.json" >&2
done

log "PoolAI codec (volume-codec)"
"${bench[@]}" volume-codec --shard-bytes "$shard_bytes" --repeats 5 --seconds 1 | tail -n 1 >"$fragments/codec.json"

# The pool step exists once someone adds the volume-pool subcommand: an unknown command's refusal lists the known ones.
if [[ "${VOLUME_BENCH_POOL:-1}" == 1 ]]; then
  known="$("${bench[@]}" no-such-command 2>&1 >/dev/null || true)"
  if grep -q 'volume-pool' <<<"$known"; then
    log "pool throughput (volume-pool ${VOLUME_BENCH_POOL_ARGS:-})"
    # shellcheck disable=SC2086 # the extra arguments are meant to split
    "${bench[@]}" volume-pool ${VOLUME_BENCH_POOL_ARGS:-} | tail -n 1 >"$fragments/pool.json"
  else
    log "skipping pool throughput: this Benchmarks build has no volume-pool subcommand"
  fi
else
  log "skipping pool throughput: VOLUME_BENCH_POOL=${VOLUME_BENCH_POOL}"
fi

mkdir -p artifacts
python3 - "$fragments" artifacts/volume-bench.json <<'PY'
import json, os, sys

fragments, out = sys.argv[1], sys.argv[2]
def load(name):
    path = os.path.join(fragments, name)
    return json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) > 0 else None

codec = load("codec.json")
merged = {
    "codec_features": codec["codec_features"],
    "shard_bytes": codec["shard_bytes"],
    "encode_gbps_per_core": codec["encode_gbps_per_core"],
    "decode_gbps_per_core": codec["decode_gbps_per_core"],
    "isal_encode_gbps": {},
    "isal_decode_gbps": {},
    "encode_ratio_vs_isal": {},
    "decode_ratio_vs_isal": {},
    "isal_rebuilt_identical": True,
}
for k, m in [(4, 2), (10, 4)]:
    name, isal = f"rs:{k}+{m}", load(f"isal_{k}_{m}.json")
    merged["isal_encode_gbps"][name] = isal["encode_gbps"]
    merged["isal_decode_gbps"][name] = isal[f"decode_{min(k, m)}_lost_gbps"]
    merged["isal_rebuilt_identical"] &= isal["rebuilt_identical"]
    for op in ("encode", "decode"):
        ours = codec[f"{op}_gbps_per_core"][name]["Median"]
        merged[f"{op}_ratio_vs_isal"][name] = round(ours / merged[f"isal_{op}_gbps"][name], 3)
pool = load("pool.json")
if pool is not None:
    merged.update(pool)
line = json.dumps(merged, ensure_ascii=False)
with open(out, "w") as f:
    f.write(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
print(line)
PY
