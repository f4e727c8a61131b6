# Shared by the bench scripts that start their own system (users.sh, authorize.sh): free
# ports, the system without sanitizers in a temporary run dir, and a load runner that records
# the CPU time of every process. Sourced after deploy/local/common.sh, with $work set (a
# temporary directory the caller removes) and $own_run=$work/run.

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Twelve consecutive free ports in 18900-18999: the bus port and the eight after it (deploy/local/up
# derives every other bus address from BUS_PORT), then TLS and h2c.
pick_ports() {
    local b i ok
    for _ in $(seq 1 200); do
        b=$((18900 + RANDOM % 88))
        ok=1
        for i in $(seq 0 11); do port_free $((b + i)) || { ok=0; break; }; done
        if [ "$ok" = 1 ]; then
            echo "$((b + 9)) $((b + 10)) $b"
            return
        fi
    done
    tg_die "no free ports in 18900-18999"
}

# bench_start_system: builds RelWithDebInfo without sanitizers (TG_BUILD_DIR, default
# build-bench/), starts it in $own_run with the per-IP password rate limit off, sources its
# local.env and fills procs=(name:pid ...).
bench_start_system() {
    mkdir -p "$own_run"
    export TG_BUILD_DIR=${TG_BUILD_DIR:-$tg_root/build-bench} TG_SANITIZE=OFF TG_RUN_DIR=$own_run
    export TG_RATE_LIMIT_PASSWORD=0 # the gateway reads it itself: no per-IP limit on the bench
    tg_install_packages "$tg_root/deploy/packages.txt"
    cmake -S "$tg_root" -B "$TG_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTG_SANITIZE=OFF >/dev/null
    read -r TLS_PORT H2C_PORT BUS_PORT < <(pick_ports)
    export TLS_PORT H2C_PORT BUS_PORT
    tg_log "starting a system without sanitizers in $own_run (build: $TG_BUILD_DIR, ports $TLS_PORT $H2C_PORT $BUS_PORT..+8)"
    "$tg_root/deploy/local/up" > "$work/up.log" 2>&1 ||
        { tail -n 30 "$work/up.log" >&2; tg_die "deploy/local/up failed (a build of a tree others are editing?)"; }
    # shellcheck disable=SC1090,SC1091
    . "$own_run/local.env"

    procs=()
    for p in "$own_run"/pids/*.pid; do
        pid=$(cat "$p")
        kill -0 "$pid" 2>/dev/null || continue
        procs+=("$(basename "$p" .pid):$pid")
        if grep -qE 'lib(a|ub|t)san' "/proc/$pid/maps" 2>/dev/null; then
            tg_die "$p runs with sanitizers"
        fi
    done
}

# ---- load with per-process CPU ----------------------------------------------------------------
clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
machine_ticks() { awk '/^cpu / {idle=$5+$6; tot=0; for (i=2;i<=NF;i++) tot+=$i; print tot, idle}' /proc/stat; }
# The command line as recorded: work-dir paths shortened, the bearer token never written out.
show() {
    local s
    s=$(printf '%q ' "$@")
    s=${s//$work\//}
    [ -n "${access_token:-}" ] && s=${s//$access_token/\$ACCESS_TOKEN}
    echo "${s% }"
}
# Requests/s and status summary of an h2load or a wrk output.
rate_of() {
    awk '/^finished in/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /^req\/s/) {print $i; exit}}
         /^Requests\/sec:/ {print $2; exit}' "$1" | tr -d ','
}
codes_of() {
    if grep -q '^status codes:' "$1"; then
        grep '^status codes:' "$1" | sed 's/^status codes: //'
    else
        awk '/requests in/ {n=$1} /Non-2xx or 3xx responses:/ {bad=$NF}
             END {printf "%d responses, %d not 2xx/3xx", n, bad}' "$1"
    fi
}

# measure NAME CMD...: runs the load, leaves $work/NAME.txt and a report section in $work/NAME.md
measure() {
    local name=$1; shift
    local -A c0 c1
    local t0 t1 wall mt0 mi0 mt1 mi1 busy pp n
    tg_log "$name: $(show "$@")"
    for pp in "${procs[@]}"; do c0[${pp%%:*}]=$(cpu_ticks "${pp#*:}"); done
    read -r mt0 mi0 < <(machine_ticks)
    t0=$(date +%s.%N)
    "$@" > "$work/$name.txt" 2>&1 || true
    t1=$(date +%s.%N)
    read -r mt1 mi1 < <(machine_ticks)
    for pp in "${procs[@]}"; do c1[${pp%%:*}]=$(cpu_ticks "${pp#*:}"); done
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
    busy=$(awk -v t0="$mt0" -v t1="$mt1" -v i0="$mi0" -v i1="$mi1" -v w="$wall" -v c="$clk" \
        'BEGIN {printf "%.2f", ((t1 - t0) - (i1 - i0)) / c / w}')
    {
        echo "  - \`$(show "$@")\`: **$(rate_of "$work/$name.txt") req/s** ($(codes_of "$work/$name.txt")) in ${wall}s; machine busy $busy of $(nproc) cores; CPU by process:"
        printf '    '
        for pp in "${procs[@]}"; do
            n=${pp%%:*}
            awk -v n="$n" -v a="${c0[$n]}" -v b="${c1[$n]}" -v clk="$clk" -v w="$wall" \
                'BEGIN {s=(b-a)/clk; if (s > 0) printf "%s %.2f cores; ", n, s/w}'
        done
        echo
        if ! codes_of "$work/$name.txt" | grep -qE '(0 4xx, 0 5xx|, 0 not 2xx/3xx)$'; then
            echo "    **not every answer was a success: this rate does not count**"
        fi
    } > "$work/$name.md"
}

