#!/usr/bin/env bash
# Benchmark of browser sign-in (issue #4): /authorize with an SSO session (prompt=none) and
# authorization-code exchanges, each beside client_credentials measured by the same tool in the
# same run.
#
#   bench/authorize.sh            builds RelWithDebInfo without sanitizers (TG_BUILD_DIR,
#                                 default build-bench/), starts its own system on free ports in
#                                 18900-18999, measures, stops it
#   options: --seconds N (collect/exchange/reference runs, default 5) --clients N (16)
#            --no-record (print only, do not append to bench/RESULTS.md)
#
# The demo user logs in once (curl through the login form); wrk (HTTP/1.1 over TLS, keep-alive)
# then runs GET /authorize?prompt=none with that session, saving every code it is given
# (bench/wrk/collect_codes.lua), and at once POSTs each code once to /oauth/token as the
# confidential demo web app (bench/wrk/exchange_codes.lua; codes live 60 s). The reference is
# client_credentials through the same wrk (bench/wrk/post_form.lua), and through h2load too.
# Also: refresh grants of a rotating client (the demo SPA), chains kept going by
# bench/wrk/rotate_refresh.lua.
# Sends traffic only to the loopback address of the system under test.
set -euo pipefail
. "$(dirname "$0")/../deploy/local/common.sh"
. "$(dirname "$0")/lib.sh"

seconds=5 clients=16 record=1
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --no-record) record=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) tg_die "unknown option $1 (see --help)" ;;
    esac
done

command -v h2load >/dev/null || tg_install_packages <(echo nghttp2-client)
command -v wrk >/dev/null || tg_install_packages <(echo wrk)
command -v wrk >/dev/null || tg_die "wrk (Debian package wrk) is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/tg-bench-authorize.XXXXXX")
own_run=$work/run
cleanup() {
    set +e
    TG_RUN_DIR=$own_run "$tg_root/deploy/local/down" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_start_system
# shellcheck disable=SC1091
. "$own_run/demo-user.env"

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
jar=$work/cookies.txt
web() { curl -s --cacert "$CA_CERT" -b "$jar" -c "$jar" "$@"; }

# ---- one interactive login: /authorize -> /u/login form -> callback; leaves the SSO cookie ----
authorize_path="/authorize?response_type=code&client_id=$(enc "$DEMO_WEB_CLIENT_ID")&redirect_uri=$(enc "$DEMO_WEB_CALLBACK")&scope=$(enc "openid profile email")"
login_page=$(web -o /dev/null -w '%{redirect_url}' "$BASE_URL$authorize_path&state=bench")
[ -n "$login_page" ] || tg_die "/authorize did not redirect to the login page"
page=$(web "$login_page")
field() { sed -n "s/.*name=\"$1\"[^>]*value=\"\\([^\"]*\\)\".*/\\1/p" <<<"$page" | head -1; }
state=$(field state) csrf=$(field csrf_token)
[ -n "$state" ] && [ -n "$csrf" ] || tg_die "no state/csrf_token on the login page"
callback=$(web -o /dev/null -w '%{redirect_url}' "$BASE_URL/u/login" \
    --data-urlencode "state=$state" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "username=$DEMO_USER_EMAIL" --data-urlencode "password=$DEMO_USER_PASSWORD")
case $callback in *code=*) ;; *) tg_die "the login did not come back with a code: $callback" ;; esac
cookie=$(awk -F'\t' '$6 ~ /^tg_session/ {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$jar")
[ -n "$cookie" ] || tg_die "no session cookie after the login"

cc_form="grant_type=client_credentials&client_id=$(enc "$DEMO_M2M_CLIENT_ID")&client_secret=$(enc "$DEMO_M2M_CLIENT_SECRET")&audience=$(enc "$DEMO_API_AUDIENCE")"
exchange_prefix="grant_type=authorization_code&client_id=$(enc "$DEMO_WEB_CLIENT_ID")&client_secret=$(enc "$DEMO_WEB_CLIENT_SECRET")&redirect_uri=$(enc "$DEMO_WEB_CALLBACK")&code="
codes=$work/codes.txt
: > "$codes"
wrk_run=(wrk -t 1 -c "$clients" -d "${seconds}s" --latency)

h2load -t 1 -n 200 -c 4 -m 4 -H 'content-type: application/x-www-form-urlencoded' \
    -d <(printf '%s' "$cc_form") "$BASE_URL/oauth/token" > /dev/null 2>&1 || true # warm-up
load_run=$(cut -d' ' -f1-3 /proc/loadavg)

export FORM_PATH=/oauth/token FORM=$cc_form
measure cc_wrk "${wrk_run[@]}" -s "$tg_root/bench/wrk/post_form.lua" "$BASE_URL"
export AUTHORIZE_PATH="$authorize_path&prompt=none&state=s" COOKIE=$cookie CODES_FILE=$codes
measure authorize "${wrk_run[@]}" -s "$tg_root/bench/wrk/collect_codes.lua" "$BASE_URL"
n_codes=$(wc -l < "$codes")
export FORM_PREFIX=$exchange_prefix
measure exchange "${wrk_run[@]}" -s "$tg_root/bench/wrk/exchange_codes.lua" "$BASE_URL"

# ---- rotating refresh tokens: the demo SPA (public client, PKCE, rotation on) ----------------
# 2 x clients chains, each from a prompt=none /authorize with the SSO session and a code exchange
# for scope offline_access (no openid: one signed access token per refresh, as client_credentials);
# wrk keeps every chain rotating (bench/wrk/rotate_refresh.lua).
verifier=$(tg_random 48 | tr -dc 'A-Za-z0-9' | head -c 43)
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
spa_path="/authorize?response_type=code&client_id=$(enc "$DEMO_SPA_CLIENT_ID")&redirect_uri=$(enc "$DEMO_SPA_CALLBACK")&scope=offline_access&code_challenge=$challenge&code_challenge_method=S256&prompt=none&state=r"
rotating=$work/rotating.txt
: > "$rotating"
for _ in $(seq 1 $((clients * 2))); do
    loc=$(web -o /dev/null -w '%{redirect_url}' "$BASE_URL$spa_path")
    code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$loc")
    [ -n "$code" ] || tg_die "the SPA's prompt=none /authorize gave no code: $loc"
    rt=$(curl -s --cacert "$CA_CERT" "$BASE_URL/oauth/token" -d grant_type=authorization_code \
        -d "client_id=$DEMO_SPA_CLIENT_ID" --data-urlencode "redirect_uri=$DEMO_SPA_CALLBACK" \
        -d "code=$code" -d "code_verifier=$verifier" |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("refresh_token", ""))')
    [ -n "$rt" ] || tg_die "the SPA's code exchange gave no refresh token"
    echo "$rt" >> "$rotating"
done
export TOKENS_FILE=$rotating FORM_PREFIX="grant_type=refresh_token&client_id=$(enc "$DEMO_SPA_CLIENT_ID")&refresh_token="
measure rotate "${wrk_run[@]}" -s "$tg_root/bench/wrk/rotate_refresh.lua" "$BASE_URL"
grep -q "ran dry" "$work/rotate.txt" && echo "    **every chain failed before the end: this rate does not count**" >> "$work/rotate.md"

printf '%s' "$cc_form" > "$work/cc.form"
measure cc_h2load h2load -t 1 -n 20000 -c "$clients" -m 8 \
    -H 'content-type: application/x-www-form-urlencoded' -d "$work/cc.form" "$BASE_URL/oauth/token"

answered=$(awk '/requests in/ {print $1; exit}' "$work/exchange.txt")
exhausted=""
[ "${answered:-0}" -ge "$n_codes" ] && exhausted=" — **the prepared codes ran out before the end of the run, so this rate is a lower bound**"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
cc_s=$(rate_of "$work/cc_wrk.txt")
az_s=$(rate_of "$work/authorize.txt")
ex_s=$(rate_of "$work/exchange.txt")
rt_s=$(rate_of "$work/rotate.txt")

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
report=$work/report.md
{
    echo "## $(date -u '+%Y-%m-%d %H:%M:%SZ') — browser sign-in: /authorize prompt=none, code exchange (bench/authorize.sh)"
    echo
    echo "- machine: $(nproc) CPUs, $cpu_model, Linux $(uname -r); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(h2load --version | head -1); load average (1/5/15 min) before: $load_before, at the start of the loads: $load_run"
    echo "- system: own run, $TG_BUILD_DIR (RelWithDebInfo, no sanitizers); ${#procs[@]} processes: ${procs[*]}; commit $(git -C "$tg_root" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- reference, client_credentials RS256 through the same wrk (HTTP/1.1, TLS, keep-alive):"
    cat "$work/cc_wrk.md"
    echo "- GET /authorize?prompt=none with the SSO session (each answer a 302 with a new code, $n_codes codes kept):"
    cat "$work/authorize.md"
    echo "  - /authorize ÷ client_credentials = **$(ratio "$az_s" "$cc_s")**"
    echo "- authorization_code exchanges (confidential web app, scope openid profile email: an access token and an RS256 ID token per exchange), each code once$exhausted:"
    cat "$work/exchange.md"
    echo "  - exchanges ÷ client_credentials = **$(ratio "$ex_s" "$cc_s")**"
    echo "- rotating refresh tokens (the demo SPA: public client, rotation on, scope offline_access; per refresh one RS256 access token, the presented token consumed and its successor stored), $((clients * 2)) chains kept rotating:"
    cat "$work/rotate.md"
    echo "  - rotating refreshes ÷ client_credentials = **$(ratio "$rt_s" "$cc_s")** (issue #3's target for refresh grants: ≥ 0.8)"
    echo "- client_credentials through h2load (HTTP/2), same run:"
    cat "$work/cc_h2load.md"
    echo
} > "$report"
cat "$report"
if [ "$record" = 1 ]; then
    cat "$report" >> "$tg_root/bench/RESULTS.md"
    tg_log "appended to $tg_root/bench/RESULTS.md"
fi
