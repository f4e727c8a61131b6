#!/usr/bin/env bash
# Benchmark of POST /oauth/token grant_type=client_credentials (RS256) over HTTP/2 with h2load.
#
#   bench/client_credentials.sh                      builds RelWithDebInfo without sanitizers
#                                                    (TG_BUILD_DIR, default build-bench/), starts
#                                                    its own system in a temporary run dir on
#                                                    free ports, measures, stops it
#   bench/client_credentials.sh --env-file FILE      measures an already running local system
#                                                    (the local.env deploy/local/up wrote)
#   options: --requests N (default 20000) --clients N (16) --streams N (8)
#            --rate N (1000 req/s for the latency run) --rate-seconds N (10)
#            --no-record (print only, do not append to bench/RESULTS.md)
#
# Measures, in one run on one machine: openssl's single-core RSA-2048 sign/s (the reference),
# tokens/s at full load and its ratio to that reference, latency percentiles at a fixed rate,
# resident memory of every process idle and after load, and the CPU time each process used
# (utime+stime from /proc/PID/stat) as a poor man's profile. Appends a dated entry to
# bench/RESULTS.md. Sends traffic only to the loopback address of the system under test.
set -euo pipefail
. "$(dirname "$0")/../deploy/local/common.sh"
. "$(dirname "$0")/lib.sh"

env_file=""
requests=20000 clients=16 streams=8 rate=1000 rate_seconds=10 record=1
while [ $# -gt 0 ]; do
    case $1 in
    --env-file) env_file=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --rate-seconds) rate_seconds=$2; shift 2 ;;
    --no-record) record=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) tg_die "unknown option $1 (see --help)" ;;
    esac
done

command -v h2load >/dev/null || tg_install_packages <(echo nghttp2-client)
command -v h2load >/dev/null || tg_die "h2load (Debian package nghttp2-client) is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/tg-bench.XXXXXX")
own_run=""
cleanup() {
    set +e
    [ -n "$own_run" ] && TG_RUN_DIR=$own_run "$tg_root/deploy/local/down" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# A free TCP port in 18000-19999 (loopback).
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((18000 + RANDOM % 2000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    tg_die "no free port in 18000-19999"
}

if [ -z "$env_file" ]; then
    own_run=$work/run
    mkdir -p "$own_run"
    export TG_BUILD_DIR=${TG_BUILD_DIR:-$tg_root/build-bench} TG_SANITIZE=OFF TG_RUN_DIR=$own_run
    # the gateway's per-address limit of /oauth/token would cap one client at 300/min
    export TG_RATE_LIMIT_PASSWORD=0
    # deploy/local/up configures a build tree only once: make sure this one is what we mean
    # (a tree configured earlier with sanitizers would silently measure ASan).
    tg_install_packages "$tg_root/deploy/packages.txt"
    cmake -S "$tg_root" -B "$TG_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTG_SANITIZE=OFF >/dev/null
    read -r TLS_PORT H2C_PORT BUS_PORT < <(pick_ports) # bench/lib.sh: BUS_PORT..+8 free too
    export TLS_PORT H2C_PORT BUS_PORT
    export TOKEN_REPLICAS=${TOKEN_REPLICAS:-1}
    tg_log "starting a system without sanitizers in $own_run (build: $TG_BUILD_DIR)"
    "$tg_root/deploy/local/up" >/dev/null
    env_file=$own_run/local.env
fi
# shellcheck disable=SC1090
. "$env_file"
[ -n "${BASE_URL:-}" ] && [ -n "${DEMO_M2M_CLIENT_ID:-}" ] || tg_die "$env_file lacks BASE_URL / DEMO_M2M_*"
run_dir=${RUN_DIR:-}
url="$BASE_URL/oauth/token"

# The e2e tenant (tests/e2e/make_tenant.py) has Demo M2M but not the demo audience local.env names.
if [ -n "$run_dir" ] && [ -f "$run_dir/e2e_clients.json" ]; then
    DEMO_API_AUDIENCE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["apis"]["rs"])' \
        "$run_dir/e2e_clients.json")
fi

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
body=$work/body.form
printf 'grant_type=client_credentials&client_id=%s&client_secret=%s&audience=%s' \
    "$(enc "$DEMO_M2M_CLIENT_ID")" "$(enc "$DEMO_M2M_CLIENT_SECRET")" "$(enc "$DEMO_API_AUDIENCE")" > "$body"

# The request must work before it is measured.
check=$(curl -s --http2 --cacert "$CA_CERT" -o "$work/check.json" -w '%{http_code} %{http_version}' \
    -H 'content-type: application/x-www-form-urlencoded' --data-binary "@$body" "$url")
[ "$check" = "200 2" ] || tg_die "token request failed ($check): $(cat "$work/check.json")"

# ---- process accounting ------------------------------------------------------------------------
procs=()   # "name:pid"
sanitized=unknown
if [ -n "$run_dir" ] && [ -d "$run_dir/pids" ]; then
    sanitized=no
    for p in "$run_dir"/pids/*.pid; do
        pid=$(cat "$p")
        kill -0 "$pid" 2>/dev/null || continue
        procs+=("$(basename "$p" .pid):$pid")
        grep -qE 'lib(a|ub|t)san' "/proc/$pid/maps" 2>/dev/null && sanitized=yes
    done
fi
if [ "$sanitized" = yes ]; then
    tg_log "WARNING: the system under test runs with sanitizers: figures are not representative"
    [ -n "$own_run" ] && tg_die "own system built with sanitizers despite TG_SANITIZE=OFF"
fi
clk=$(getconf CLK_TCK)
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime+stime
machine_ticks() { awk '/^cpu / {idle=$5+$6; tot=0; for (i=2;i<=NF;i++) tot+=$i; print tot, idle}' /proc/stat; }

declare -A rss_idle rss_after cpu0 cpu1
for pp in "${procs[@]}"; do rss_idle[${pp%%:*}]=$(rss_kib "${pp#*:}"); done

# ---- 1. the single-core reference --------------------------------------------------------------
tg_log "openssl speed -seconds 5 -multi 1 rsa2048"
openssl speed -seconds 5 -multi 1 rsa2048 > "$work/speed.txt" 2>/dev/null
sign_s=$(awk '/^rsa 2048 bits/ {print $6}' "$work/speed.txt" | tail -1)
[ -n "$sign_s" ] || tg_die "could not read sign/s from openssl speed"

# ---- 2. throughput ----------------------------------------------------------------------------
h2load_base=(h2load -t 1 -d "$body" -H 'content-type: application/x-www-form-urlencoded')
tg_log "warm-up"
"${h2load_base[@]}" -n 1000 -c 4 -m 4 "$url" > "$work/warmup.txt" 2>&1 || true

tput_cmd=("${h2load_base[@]}" -n "$requests" -c "$clients" -m "$streams" "$url")
show() { local s; s=$(printf '%q ' "$@"); s=${s//$work\//}; echo "${s% }"; }
tg_log "throughput: $(show "${tput_cmd[@]}")"
for pp in "${procs[@]}"; do cpu0[${pp%%:*}]=$(cpu_ticks "${pp#*:}"); done
read -r mt0 mi0 < <(machine_ticks)
t0=$(date +%s.%N)
"${tput_cmd[@]}" > "$work/tput.txt" 2>&1
t1=$(date +%s.%N)
read -r mt1 mi1 < <(machine_ticks)
for pp in "${procs[@]}"; do cpu1[${pp%%:*}]=$(cpu_ticks "${pp#*:}"); done
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')

tokens_s=$(awk '/^finished in/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^req\/s/) {print $i; exit}}' "$work/tput.txt" | tr -d ',')
succeeded=$(awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^succeeded/) print $i}' "$work/tput.txt")
status_line=$(grep '^status codes:' "$work/tput.txt" || true)
n2xx=$(awk '/^status codes:/ {print $3}' "$work/tput.txt")
[ -n "$tokens_s" ] || { cat "$work/tput.txt"; tg_die "could not read req/s from h2load"; }
[ "${n2xx:-0}" = "$requests" ] ||
    tg_die "only ${n2xx:-0} of $requests answers were 2xx ($status_line): not a measurement (a rate limit?)"
ratio=$(awk -v t="$tokens_s" -v s="$sign_s" 'BEGIN {printf "%.2f", t / s}')

# ---- 3. latency at a fixed rate ---------------------------------------------------------------
rate_clients=10
per_client=$(( (rate + rate_clients - 1) / rate_clients ))
rate_n=$(( rate * rate_seconds ))
rate_cmd=("${h2load_base[@]}" -n "$rate_n" -c "$rate_clients" -m 4 --rps "$per_client"
          --log-file "$work/latency.log" "$url")
tg_log "fixed rate: $(show "${rate_cmd[@]}")"
"${rate_cmd[@]}" > "$work/rate.txt" 2>&1
rate_achieved=$(awk '/^finished in/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^req\/s/) {print $i; exit}}' "$work/rate.txt" | tr -d ',')
rate_2xx=$(awk '/^status codes:/ {print $3}' "$work/rate.txt")
# column 3: microseconds until the end of the response; status -1 = failed stream
pct() { awk -F'\t' '$2 >= 200 && $2 < 300 {print $3}' "$work/latency.log" | sort -n |
        awk -v p="$1" '{v[NR]=$1} END {if (NR == 0) {print "n/a"; exit} i=int(NR*p/100); if (i < NR*p/100) i++; if (i < 1) i=1; printf "%.2f", v[i]/1000}'; }
p50=$(pct 50) p90=$(pct 90) p99=$(pct 99) p100=$(pct 100)
lat_n=$(awk -F'\t' '$2 >= 200 && $2 < 300' "$work/latency.log" | wc -l)
lat_fail=$(awk -F'\t' '!($2 >= 200 && $2 < 300)' "$work/latency.log" | wc -l)

for pp in "${procs[@]}"; do rss_after[${pp%%:*}]=$(rss_kib "${pp#*:}"); done

# ---- report ------------------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine_busy=$(awk -v t0="$mt0" -v t1="$mt1" -v i0="$mi0" -v i1="$mi1" -v w="$wall" -v c="$clk" \
    'BEGIN {printf "%.2f", ((t1 - t0) - (i1 - i0)) / c / w}')
report=$work/report.md
{
    echo "## $(date -u '+%Y-%m-%d %H:%M:%SZ') — client_credentials RS256 over HTTP/2"
    echo
    echo "- machine: $(nproc) CPUs, $cpu_model, Linux $(uname -r); $(h2load --version | head -1); $(openssl version)"
    echo "- system: ${own_run:+own run, $TG_BUILD_DIR, }sanitizers: $sanitized; ${#procs[@]} processes: ${procs[*]:-unknown (no RUN_DIR)}; commit $(git -C "$tg_root" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- reference: \`openssl speed -seconds 5 -multi 1 rsa2048\` → **$sign_s sign/s** (one core)"
    echo "- throughput: \`$(show "${tput_cmd[@]}")\`"
    echo "  - **$tokens_s tokens/s** ($succeeded succeeded; $status_line) in ${wall}s"
    echo "  - tokens/s ÷ single-core sign/s = **$ratio**"
    echo "- fixed rate $rate req/s for ${rate_seconds}s: \`$(show "${rate_cmd[@]}")\`"
    echo "  - achieved $rate_achieved req/s, $rate_2xx 2xx, $lat_fail failed; latency over $lat_n responses: p50 ${p50} ms, p90 ${p90} ms, **p99 ${p99} ms**, max ${p100} ms"
    echo "- memory (VmRSS, KiB) idle → after load, and CPU during the throughput run (utime+stime, cores = CPU-s ÷ wall-s; machine busy ${machine_busy} of $(nproc) cores, the rest of the busy time is h2load and the kernel):"
    echo
    echo "  | process | RSS idle | RSS after | CPU s | cores | share of machine busy |"
    echo "  |---|---|---|---|---|---|"
    for pp in "${procs[@]}"; do
        n=${pp%%:*}
        awk -v n="$n" -v ri="${rss_idle[$n]}" -v ra="${rss_after[$n]}" -v c0="${cpu0[$n]}" -v c1="${cpu1[$n]}" \
            -v clk="$clk" -v w="$wall" -v mb="$machine_busy" \
            'BEGIN {s=(c1-c0)/clk; printf "  | %s | %d | %d | %.2f | %.2f | %.0f %% |\n", n, ri, ra, s, s/w, (mb > 0 ? 100*s/w/mb : 0)}'
    done
    echo
} > "$report"
cat "$report"
if [ "$record" = 1 ]; then
    results=$tg_root/bench/RESULTS.md
    [ -f "$results" ] || printf '# Benchmark results\n\nAppended by bench/client_credentials.sh; newest last.\n\n' > "$results"
    cat "$report" >> "$results"
    tg_log "appended to $results"
fi
