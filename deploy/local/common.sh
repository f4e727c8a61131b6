# Shared by deploy/local/up, deploy/local/down and tests/run. Sourced, not executed.
# Everything the project needs is installed from here, so a fresh Debian machine works.

tg_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

tg_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
tg_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages listed in the given files that are missing.
tg_install_packages() {
    local missing=() p
    for p in $(grep -hv '^#' "$@" | sed '/^\s*$/d'); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    tg_log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tg_build BUILD_DIR [cmake args...]
# The options are applied on every call (a quick no-op when unchanged), so a tree configured
# earlier with other options (say, sanitizers) never silently keeps them.
tg_build() {
    local dir=$1; shift
    tg_log "configuring $dir ($*)"
    cmake -S "$tg_root" -B "$dir" -G Ninja "$@" >/dev/null
    tg_log "building $dir"
    ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

# Random URL-safe secret of N bytes.
tg_random() { openssl rand -base64 "${1:-32}" | tr '+/' '-_' | tr -d '=\n'; }
