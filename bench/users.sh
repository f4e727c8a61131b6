#!/usr/bin/env bash
# Benchmark of the user-facing paths: password-grant logins, /userinfo, refresh-token grants,
# against the machine's argon2id hashing capacity.
#
#   bench/users.sh                 builds RelWithDebInfo without sanitizers (TG_BUILD_DIR,
#                                  default build-bench/), starts its own system in a temporary
#                                  run dir on free ports in 18900-18999 with the gateway's rate
#                                  limit off (TG_RATE_LIMIT_PASSWORD=0), measures, stops it
#   options: --logins N (default 1500) --requests N (20000, for /userinfo, refresh and
#            client_credentials) --clients N (16) --streams N (8) --hash-seconds N (5)
#            --no-record (print only, do not append to bench/RESULTS.md)
#
# Measures, in one run on one machine:
#   (a) argon2id hashes/s at svc-users' parameters (m=19456 KiB, t=2, p=1) on one and on two
#       threads (bench/argon2_speed.c, compiled against libargon2 into the work dir, memory
#       kept per thread in huge pages as svc-users keeps it; also, for the record, two threads
#       with libargon2's own per-hash allocation, which is slower), before
#       the system starts; on two threads right after the login load (the system idle: its
#       services use no CPU when nothing comes), and after the system stopped;
#   (b) password-grant logins/s (h2load, HTTP/2, form body, a user signed up first) and its
#       ratio to the two-thread hashes/s, the mean of the two measurements on either side of
#       the login load (each login is one argon2id verification; a shared machine's speed
#       drifts over a minute by as much as the margin of the target), and to the highest of
#       the three;
#   (c) GET /userinfo requests/s with the login's access token;
#   (d) refresh_token grants/s beside client_credentials grants/s (refresh is recorded as not
#       measurable when the grant does not answer 200 twice for one token);
# and the CPU time of every process during each load (utime+stime from /proc/PID/stat).
# Sends traffic only to the loopback address of the system under test.
set -euo pipefail
. "$(dirname "$0")/../deploy/local/common.sh"
. "$(dirname "$0")/lib.sh"

logins=1500 requests=20000 clients=16 streams=8 hash_seconds=5 record=1
while [ $# -gt 0 ]; do
    case $1 in
    --logins) logins=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --hash-seconds) hash_seconds=$2; shift 2 ;;
    --no-record) record=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) tg_die "unknown option $1 (see --help)" ;;
    esac
done

command -v h2load >/dev/null || tg_install_packages <(echo nghttp2-client)
command -v h2load >/dev/null || tg_die "h2load (Debian package nghttp2-client) is needed"
[ -f /usr/include/argon2.h ] || tg_install_packages <(echo libargon2-dev)

work=$(mktemp -d "${TMPDIR:-/tmp}/tg-bench-users.XXXXXX")
own_run=$work/run
cleanup() {
    set +e
    TG_RUN_DIR=$own_run "$tg_root/deploy/local/down" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# ---- (a) hashing capacity, before the system starts (nothing else of ours is running) ----------
cc -O2 -o "$work/argon2_speed" "$tg_root/bench/argon2_speed.c" -largon2 -lpthread
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tg_log "argon2id capacity: 1 and 2 threads, ${hash_seconds}s each"
hash1_line=$("$work/argon2_speed" 1 "$hash_seconds")
hash2_line=$("$work/argon2_speed" 2 "$hash_seconds")
hash2_lib=$("$work/argon2_speed" --libargon2-alloc 2 "$hash_seconds" | sed -n 's/.*hashes_per_s=//p')
hash1=$(sed -n 's/.*hashes_per_s=//p' <<<"$hash1_line")
hash2=$(sed -n 's/.*hashes_per_s=//p' <<<"$hash2_line")

bench_start_system

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
curl_json() { curl -s --http2 --cacert "$CA_CERT" "$@"; }
jfield() { python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

# A user of its own, signed up through the API.
email="bench-$(tg_random 6 | tr -dc 'a-z0-9' | head -c 8)@tollgate.local"
password="Bench-$(tg_random 12 | tr -dc 'A-Za-z0-9' | head -c 12)-9x"
status=$(curl_json -o "$work/signup.json" -w '%{http_code}' -H 'content-type: application/json' \
    "$BASE_URL/dbconnections/signup" \
    -d "{\"client_id\":\"$DEMO_WEB_CLIENT_ID\",\"email\":\"$email\",\"password\":\"$password\",\"connection\":\"$DEMO_DB_CONNECTION\"}")
[ "$status" = 200 ] || tg_die "signup failed ($status): $(cat "$work/signup.json")"

login_body=$work/login.form
printf 'grant_type=password&client_id=%s&client_secret=%s&username=%s&password=%s&scope=%s' \
    "$(enc "$DEMO_WEB_CLIENT_ID")" "$(enc "$DEMO_WEB_CLIENT_SECRET")" "$(enc "$email")" \
    "$(enc "$password")" "$(enc "openid profile email offline_access")" > "$login_body"
status=$(curl_json -o "$work/login.json" -w '%{http_code}' \
    -H 'content-type: application/x-www-form-urlencoded' --data-binary "@$login_body" "$BASE_URL/oauth/token")
[ "$status" = 200 ] || tg_die "password grant failed ($status): $(cat "$work/login.json")"
access_token=$(jfield access_token < "$work/login.json")
refresh_token=$(jfield refresh_token < "$work/login.json")
status=$(curl_json -o /dev/null -w '%{http_code}' -H "authorization: Bearer $access_token" "$BASE_URL/userinfo")
[ "$status" = 200 ] || tg_die "/userinfo with the login's token failed ($status)"

cc_body=$work/cc.form
printf 'grant_type=client_credentials&client_id=%s&client_secret=%s&audience=%s' \
    "$(enc "$DEMO_M2M_CLIENT_ID")" "$(enc "$DEMO_M2M_CLIENT_SECRET")" "$(enc "$DEMO_API_AUDIENCE")" > "$cc_body"

h2=(h2load -t 1 -H 'content-type: application/x-www-form-urlencoded')
"${h2[@]}" -n 200 -c 4 -m 4 -d "$cc_body" "$BASE_URL/oauth/token" > /dev/null 2>&1 || true # warm-up
load_run=$(cut -d' ' -f1-3 /proc/loadavg)

# login streams: each is an argon2id verification, so fewer in flight than for the cheap paths
measure login "${h2[@]}" -n "$logins" -c "$clients" -m 2 -d "$login_body" "$BASE_URL/oauth/token"
tg_log "argon2id capacity right after the logins: 2 threads, ${hash_seconds}s"
system_ticks() { local pp t=0; for pp in "${procs[@]}"; do t=$((t + $(cpu_ticks "${pp#*:}"))); done; echo "$t"; }
ticks0=$(system_ticks)
hash2_next=$("$work/argon2_speed" 2 "$hash_seconds" | sed -n 's/.*hashes_per_s=//p')
system_cpu_next=$(awk -v a="$ticks0" -v b="$(system_ticks)" -v c="$clk" 'BEGIN {printf "%.2f", (b - a) / c}')
measure userinfo h2load -t 1 -n "$requests" -c "$clients" -m "$streams" \
    -H "authorization: Bearer $access_token" "$BASE_URL/userinfo"
measure client_credentials "${h2[@]}" -n "$requests" -c "$clients" -m "$streams" -d "$cc_body" "$BASE_URL/oauth/token"
# Two refresh tokens, taken after the login load (its 1,500 logins each start a refresh-token
# family, and svc-token keeps Auth0's 200 per user and application, revoking the oldest): one
# from a login with scope openid (every refresh signs an access token and an ID token) and one
# from a login with scope offline_access only (one signature per refresh, the same signing work
# as a client_credentials grant).
login_as() { # login_as SCOPE OUT.json
    printf 'grant_type=password&client_id=%s&client_secret=%s&username=%s&password=%s&scope=%s' \
        "$(enc "$DEMO_WEB_CLIENT_ID")" "$(enc "$DEMO_WEB_CLIENT_SECRET")" "$(enc "$email")" \
        "$(enc "$password")" "$(enc "$1")" > "$work/login-scope.form"
    curl_json -o "$2" -w '%{http_code}' -H 'content-type: application/x-www-form-urlencoded' \
        --data-binary "@$work/login-scope.form" "$BASE_URL/oauth/token"
}
refresh_note=""
# refresh_form NAME TOKEN: writes $work/NAME.form and checks the grant answers 200 twice
refresh_form() {
    local i status
    printf 'grant_type=refresh_token&client_id=%s&client_secret=%s&refresh_token=%s' \
        "$(enc "$DEMO_WEB_CLIENT_ID")" "$(enc "$DEMO_WEB_CLIENT_SECRET")" "$(enc "$2")" > "$work/$1.form"
    for i in 1 2; do
        status=$(curl_json -o "$work/$1-$i.json" -w '%{http_code}' \
            -H 'content-type: application/x-www-form-urlencoded' --data-binary "@$work/$1.form" "$BASE_URL/oauth/token")
        if [ "$status" != 200 ]; then
            refresh_note="grant_type=refresh_token ($1) answered $status on try $i: $(head -c 200 "$work/$1-$i.json")"
            return
        fi
    done
}
status=$(login_as "offline_access" "$work/login-offline.json")
[ "$status" = 200 ] || tg_die "password grant (scope offline_access) failed ($status)"
refresh_token_at=$(jfield refresh_token < "$work/login-offline.json")
status=$(login_as "openid profile email offline_access" "$work/login-openid.json")
[ "$status" = 200 ] || tg_die "password grant (scope openid ... offline_access) failed ($status)"
refresh_token=$(jfield refresh_token < "$work/login-openid.json")
if [ -z "$refresh_token" ] || [ -z "$refresh_token_at" ]; then
    refresh_note="no refresh_token in the password-grant reply (scope offline_access asked)"
else
    refresh_form refresh "$refresh_token"
    [ -z "$refresh_note" ] && refresh_form refresh_at "$refresh_token_at"
fi

if [ -z "$refresh_note" ]; then
    measure refresh "${h2[@]}" -n "$requests" -c "$clients" -m "$streams" -d "$work/refresh.form" "$BASE_URL/oauth/token"
    measure refresh_at "${h2[@]}" -n "$requests" -c "$clients" -m "$streams" -d "$work/refresh_at.form" "$BASE_URL/oauth/token"
fi

# ---- (a) a third time, with the system stopped ------------------------------------------------
TG_RUN_DIR=$own_run "$tg_root/deploy/local/down" >/dev/null 2>&1
tg_log "argon2id capacity again: 2 threads, ${hash_seconds}s"
hash2_after=$("$work/argon2_speed" 2 "$hash_seconds" | sed -n 's/.*hashes_per_s=//p')
hash2_mean=$(awk -v a="$hash2" -v b="$hash2_next" 'BEGIN {printf "%.1f", (a + b) / 2}')
hash2_max=$(printf '%s\n' "$hash2" "$hash2_next" "$hash2_after" | sort -g | tail -1)

logins_s=$(rate_of "$work/login.txt")
ratio=$(awk -v l="${logins_s:-0}" -v h="$hash2_mean" 'BEGIN {printf "%.2f", (h > 0 ? l / h : 0)}')
ratio_max=$(awk -v l="${logins_s:-0}" -v h="$hash2_max" 'BEGIN {printf "%.2f", (h > 0 ? l / h : 0)}')

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
report=$work/report.md
{
    echo "## $(date -u '+%Y-%m-%d %H:%M:%SZ') — users: logins, /userinfo, refresh (bench/users.sh)"
    echo
    echo "- machine: $(nproc) CPUs, $cpu_model, Linux $(uname -r); $(h2load --version | head -1); load average (1/5/15 min) before: $load_before, at the start of the HTTP loads: $load_run"
    echo "- system: own run, $TG_BUILD_DIR (RelWithDebInfo, no sanitizers), TG_RATE_LIMIT_PASSWORD=0; ${#procs[@]} processes: ${procs[*]}; commit $(git -C "$tg_root" rev-parse --short HEAD 2>/dev/null || echo '?') (working tree may hold others' uncommitted work)"
    echo "- (a) argon2id m=19456 KiB t=2 p=1 (\`argon2_speed THREADS $hash_seconds\`, bench/argon2_speed.c, memory kept per thread in huge pages as svc-users keeps it): **$hash1 hashes/s on one thread, $hash2 on two** before the system started (with libargon2's per-hash allocation, \`--libargon2-alloc\`: $hash2_lib on two); **$hash2_next on two** right after the login load (the system's processes used ${system_cpu_next} CPU-seconds meanwhile); **$hash2_after on two** after it stopped; mean of the two around the login load **$hash2_mean**"
    echo "- (b) password grant (form, HTTP/2, user from /dbconnections/signup, scope openid profile email offline_access):"
    cat "$work/login.md"
    echo "  - logins/s ÷ two-thread hashes/s (the mean of the two around the login load) = **$ratio** (target ≥ 0.85); against the highest of the three: $ratio_max"
    echo "- (c) /userinfo with the login's access token:"
    cat "$work/userinfo.md"
    echo "- (d) refresh_token vs client_credentials, same run:"
    cat "$work/client_credentials.md"
    if [ -z "$refresh_note" ]; then
        cc_s=$(rate_of "$work/client_credentials.txt")
        echo "  - refresh_token from a login with scope openid profile email offline_access (an access token and an ID token signed per refresh):"
        cat "$work/refresh.md"
        echo "    ÷ client_credentials = **$(awk -v a="$(rate_of "$work/refresh.txt")" -v b="$cc_s" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')**"
        echo "  - refresh_token from a login with scope offline_access (one signed access token per refresh, as client_credentials):"
        cat "$work/refresh_at.md"
        echo "    ÷ client_credentials = **$(awk -v a="$(rate_of "$work/refresh_at.txt")" -v b="$cc_s" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')** (target ≥ 0.8)"
    else
        echo "  - refresh_token: **not measurable**: $refresh_note"
    fi
    echo
} > "$report"
cat "$report"
if [ "$record" = 1 ]; then
    cat "$report" >> "$tg_root/bench/RESULTS.md"
    tg_log "appended to $tg_root/bench/RESULTS.md"
fi
