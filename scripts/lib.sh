# shellcheck shell=bash
# Shared functions for scripts/dev.sh and scripts/test.sh. Source it; do not run it.
#
# PostgreSQL bootstrap: use a reachable server when there is one, otherwise install Debian's
# `postgresql` package (when missing) and run a throwaway cluster of our own under target/pg
# (127.0.0.1 only, trust auth, fsync off). The own cluster is reused on the next run, never
# re-initialised.
#
# Knobs (environment):
#   STOCK_PG_FORCE_OWN=1   skip the probe of an existing server; always use the own cluster
#   STOCK_PG_DIR           where the own cluster lives (default: <repo>/target/pg)
#   STOCK_PG_PORT          first port tried for the own cluster (default 55432)
#   STOCK_SKIP_PGTAP=1     do not install the pgTAP package

STOCK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STOCK_ROOT

STOCK_PG_DIR="${STOCK_PG_DIR:-$STOCK_ROOT/target/pg}"
STOCK_PG_OWN_PORT=""     # set by stock_pg_own_start
STOCK_PG_OWN_STARTED=0   # 1 when this process started the own cluster
_STOCK_APT_UPDATED=0
_STOCK_STEP=""
_STOCK_STEP_NO=0

# ---------------------------------------------------------------------------------------------
# output and steps

stock_log() { printf '==> %s\n' "$*"; }
stock_info() { printf '    %s\n' "$*"; }
stock_warn() { printf 'warning: %s\n' "$*" >&2; }
stock_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Prints which step failed when the script exits non-zero. Install once, from the script.
stock_install_step_trap() {
    trap '_stock_on_exit $?' EXIT
}

_stock_on_exit() {
    local rc=$1
    if [[ $rc -ne 0 ]]; then
        if [[ -n $_STOCK_STEP ]]; then
            printf '\nFAILED: step "%s" (exit code %s)\n' "$_STOCK_STEP" "$rc" >&2
        else
            printf '\nFAILED (exit code %s)\n' "$rc" >&2
        fi
    fi
    if declare -F stock_on_exit_hook >/dev/null; then
        stock_on_exit_hook "$rc" || true
    fi
}

# stock_step NAME COMMAND... : runs COMMAND in this shell (so `set -e` applies inside functions and
# their exports stay visible); on failure the EXIT trap names the step.
stock_step() {
    _STOCK_STEP=$1
    shift
    _STOCK_STEP_NO=$((_STOCK_STEP_NO + 1))
    printf '\n==> [%s] %s\n' "$_STOCK_STEP_NO" "$_STOCK_STEP"
    "$@"
    _STOCK_STEP=""
}

# ---------------------------------------------------------------------------------------------
# toolchain

stock_require_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -x ${HOME:-/root}/.cargo/bin/cargo ]]; then
        PATH="${HOME:-/root}/.cargo/bin:$PATH"
        export PATH
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        stock_die "cargo not found. Install a Rust toolchain (rustup, stable, with rustfmt and clippy) \
and put cargo on PATH; this script cannot download one."
    fi
    local component
    for component in "$@"; do
        if ! cargo "$component" --version >/dev/null 2>&1; then
            stock_die "'cargo $component' is not available. Install it (rustup component add $component); \
this script cannot download it."
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# packages

stock_pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Runs a command as root (directly, or with non-interactive sudo).
_stock_as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        stock_die "need root to run: $*"
    fi
}

# stock_apt_install PKG... : installs the packages not yet installed (apt-get update once per run).
stock_apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        stock_pkg_installed "$pkg" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null 2>&1 || stock_die "apt-get not found: install ${missing[*]} by hand"
    mkdir -p "$STOCK_ROOT/target"
    local log="$STOCK_ROOT/target/apt.log"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
    if [[ $_STOCK_APT_UPDATED -eq 0 ]]; then
        stock_info "apt-get update (log: $log)"
        if ! _stock_as_root "${apt[@]}" update >>"$log" 2>&1 </dev/null; then
            tail -n 20 "$log" >&2
            stock_die "apt-get update failed (full log: $log)"
        fi
        _STOCK_APT_UPDATED=1
    fi
    stock_info "apt-get install -y ${missing[*]} (log: $log)"
    if ! _stock_as_root "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 </dev/null; then
        tail -n 20 "$log" >&2
        stock_die "apt-get install ${missing[*]} failed (full log: $log)"
    fi
}

stock_require_psql() {
    if ! command -v psql >/dev/null 2>&1; then
        stock_info "psql not found: installing postgresql-client"
        stock_apt_install postgresql-client
    fi
    command -v psql >/dev/null 2>&1 || stock_die "psql still not found after installing postgresql-client"
}

# ---------------------------------------------------------------------------------------------
# connection helpers

# stock_pg_url_with_db URL DB : the same URL naming another database (query string kept).
stock_pg_url_with_db() {
    local url=$1 db=$2 query="" base scheme rest authority
    base=${url%%\?*}
    [[ $url == *\?* ]] && query="?${url#*\?}"
    scheme=${base%%://*}
    rest=${base#*://}
    authority=${rest%%/*}
    printf '%s://%s/%s%s\n' "$scheme" "$authority" "$db" "$query"
}

# Quiet psql: no ~/.psqlrc, no password prompt, stop on error, bounded connect time.
stock_psql() {
    PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" psql -X -w -q -v ON_ERROR_STOP=1 "$@" </dev/null
}

# True when URL (or, for a database not created yet, its server's postgres/template1 database)
# accepts a connection with these credentials.
stock_pg_reachable() {
    local url=$1 db
    stock_psql -d "$url" -Atc 'select 1' >/dev/null 2>&1 && return 0
    [[ $url == *://* ]] || return 1
    for db in postgres template1; do
        stock_psql -d "$(stock_pg_url_with_db "$url" "$db")" -Atc 'select 1' >/dev/null 2>&1 && return 0
    done
    return 1
}

# True when URL connects as a superuser.
stock_pg_is_superuser() {
    local su
    su=$(stock_psql -d "$1" -Atc "select rolsuper from pg_roles where rolname = current_user" 2>/dev/null) || return 1
    [[ $su == t ]]
}

_stock_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# the own cluster

# Newest Debian PostgreSQL bin dir (never the /usr/local/bin wrappers), or the one of VERSION.
_stock_pg_bindir() {
    local want=${1:-} dir
    if [[ -n $want ]]; then
        dir="/usr/lib/postgresql/$want/bin"
        [[ -x $dir/pg_ctl ]] && { printf '%s\n' "$dir"; return 0; }
        return 1
    fi
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/pg_ctl && -x $dir/initdb ]] || return 1
    printf '%s\n' "$dir"
}

# Runs a command as the cluster's owner: the postgres user when we are root (PostgreSQL refuses
# to run as root), else ourselves. Runs from / so the postgres user never needs our cwd.
_stock_pg_run() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# Writes stdin to FILE, owned by the cluster's owner.
_stock_pg_write() {
    cat >"$1"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$1"; fi
}

_stock_pg_prepare_dir() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || stock_die "no 'postgres' user (it comes with Debian's postgresql-common)"
        command -v runuser >/dev/null 2>&1 || stock_die "runuser not found (util-linux)"
    fi
    mkdir -p "$STOCK_PG_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$STOCK_PG_DIR"
        if ! runuser -u postgres -- test -w "$STOCK_PG_DIR" -a -x "$STOCK_PG_DIR" 2>/dev/null; then
            # some parent directory (e.g. /root) is closed to the postgres user
            local alt
            alt="/var/tmp/stock-pg-$(printf '%s' "$STOCK_ROOT" | cksum | cut -d' ' -f1)"
            stock_warn "the postgres user cannot reach $STOCK_PG_DIR; using $alt instead"
            rmdir "$STOCK_PG_DIR" 2>/dev/null || true
            STOCK_PG_DIR=$alt
            mkdir -p "$STOCK_PG_DIR"
            chown postgres:postgres "$STOCK_PG_DIR"
            chmod 700 "$STOCK_PG_DIR"
        fi
    fi
}

# Socket dir: under the cluster dir unless that path is too long for a unix socket (~107 bytes).
_stock_pg_sockdir() {
    local dir="$STOCK_PG_DIR/sock"
    if [[ ${#dir} -gt 80 ]]; then
        dir="/tmp/stock-pg-sock-$(printf '%s' "$STOCK_PG_DIR" | cksum | cut -d' ' -f1)"
    fi
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
    printf '%s\n' "$dir"
}

# Port of the running own cluster (line 4 of postmaster.pid).
_stock_pg_running_port() {
    sed -n 4p "$STOCK_PG_DIR/data/postmaster.pid" 2>/dev/null
}

_stock_pg_running() {
    local bindir=$1
    [[ -f $STOCK_PG_DIR/data/postmaster.pid ]] || return 1
    _stock_pg_run "$bindir/pg_ctl" -D "$STOCK_PG_DIR/data" status >/dev/null 2>&1
}

# URL of the own cluster's superuser for database DB (default postgres).
stock_pg_own_url() {
    printf 'postgres://postgres@127.0.0.1:%s/%s\n' "$STOCK_PG_OWN_PORT" "${1:-postgres}"
}

# Initialises (first time only) and starts the own cluster; sets STOCK_PG_OWN_PORT.
stock_pg_own_start() {
    local bindir data="$STOCK_PG_DIR/data" version=""
    if ! _stock_pg_bindir >/dev/null; then
        stock_log "PostgreSQL server binaries not found: installing Debian package postgresql"
        stock_apt_install postgresql
    fi
    _stock_pg_prepare_dir
    data="$STOCK_PG_DIR/data"
    if [[ -f $data/PG_VERSION ]]; then
        version=$(cat "$data/PG_VERSION")
        bindir=$(_stock_pg_bindir "$version") ||
            stock_die "$data was made by PostgreSQL $version, whose binaries are not installed; remove $STOCK_PG_DIR to start afresh"
    else
        bindir=$(_stock_pg_bindir) || stock_die "no PostgreSQL server binaries under /usr/lib/postgresql"
    fi

    if _stock_pg_running "$bindir"; then
        STOCK_PG_OWN_PORT=$(_stock_pg_running_port)
        stock_info "own PostgreSQL cluster already running: $data (port $STOCK_PG_OWN_PORT)"
    else
        if [[ ! -f $data/PG_VERSION ]]; then
            # nothing usable there (never made, or an initdb that died half-way)
            rm -rf "$data"
            local locale=(--no-locale)
            if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=(--locale=C.UTF-8); fi
            stock_info "initdb $data ($bindir)"
            _stock_pg_run "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 "${locale[@]}" \
                >"$STOCK_PG_DIR/initdb.log" 2>&1 || {
                tail -n 20 "$STOCK_PG_DIR/initdb.log" >&2
                stock_die "initdb failed (log: $STOCK_PG_DIR/initdb.log)"
            }
            printf "\n# scripts/lib.sh: settings of this throwaway cluster\ninclude_if_exists = 'stock.conf'\n" |
                _stock_pg_run tee -a "$data/postgresql.conf" >/dev/null
        fi
        # the port: the one used last time when it is still free, else the first free one
        local port="" first=${STOCK_PG_PORT:-55432} p
        if [[ -f $STOCK_PG_DIR/port ]]; then port=$(cat "$STOCK_PG_DIR/port"); fi
        if [[ -z $port ]] || _stock_port_busy "$port"; then
            port=""
            for ((p = first; p < first + 100; p++)); do
                if ! _stock_port_busy "$p"; then port=$p; break; fi
            done
            [[ -n $port ]] || stock_die "no free port in $first..$((first + 99)) for the own PostgreSQL cluster"
        fi
        local sockdir
        sockdir=$(_stock_pg_sockdir)
        _stock_pg_write "$data/stock.conf" <<EOF
# written by scripts/lib.sh on every start
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        printf '%s\n' "$port" >"$STOCK_PG_DIR/port"
        stock_info "starting own PostgreSQL cluster: $data (127.0.0.1:$port, log $STOCK_PG_DIR/postgres.log)"
        _stock_pg_run "$bindir/pg_ctl" -D "$data" -l "$STOCK_PG_DIR/postgres.log" -w -t 120 start >/dev/null || {
            tail -n 20 "$STOCK_PG_DIR/postgres.log" >&2 || true
            stock_die "could not start the own PostgreSQL cluster (log: $STOCK_PG_DIR/postgres.log)"
        }
        STOCK_PG_OWN_PORT=$port
        # shellcheck disable=SC2034 # read by scripts/test.sh
        STOCK_PG_OWN_STARTED=1
    fi
    stock_require_psql
    local i
    for ((i = 0; i < 60; i++)); do
        stock_psql -d "$(stock_pg_own_url)" -Atc 'select 1' >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    stock_die "own PostgreSQL cluster at 127.0.0.1:$STOCK_PG_OWN_PORT does not accept connections"
}

# Stops the own cluster (when it runs).
stock_pg_own_stop() {
    local bindir version
    [[ -f $STOCK_PG_DIR/data/PG_VERSION ]] || return 0
    version=$(cat "$STOCK_PG_DIR/data/PG_VERSION")
    bindir=$(_stock_pg_bindir "$version") || return 0
    if _stock_pg_running "$bindir"; then
        stock_info "stopping own PostgreSQL cluster ($STOCK_PG_DIR/data)"
        _stock_pg_run "$bindir/pg_ctl" -D "$STOCK_PG_DIR/data" -m fast -w stop >/dev/null
    fi
}

_stock_force_own() {
    [[ ${STOCK_PG_FORCE_OWN:-0} == 1 || ${STOCK_PG_FORCE_OWN:-} == true ]]
}

# ---------------------------------------------------------------------------------------------
# what the scripts call

# For the service: exports DATABASE_URL (administrative URL; `stock migrate` creates its database).
stock_pg_bootstrap_dev() {
    local url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/stock}
    stock_require_psql
    if _stock_force_own; then
        stock_info "STOCK_PG_FORCE_OWN is set: using the own cluster"
    elif stock_pg_reachable "$url"; then
        export DATABASE_URL=$url
        stock_info "using the PostgreSQL server of DATABASE_URL ($(_stock_pg_redact "$url"))"
        return 0
    else
        if [[ -n ${DATABASE_URL:-} ]]; then
            stock_warn "DATABASE_URL ($(_stock_pg_redact "$url")) is not reachable; falling back to an own cluster"
        else
            stock_info "no server at $url; using an own cluster"
        fi
    fi
    stock_pg_own_start
    DATABASE_URL=$(stock_pg_own_url stock)
    export DATABASE_URL
    stock_info "DATABASE_URL=$DATABASE_URL"
}

# For the tests: exports STOCK_TEST_ADMIN_URL, a superuser URL of the maintenance database.
stock_pg_bootstrap_test() {
    local url=${STOCK_TEST_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    stock_require_psql
    if _stock_force_own; then
        stock_info "STOCK_PG_FORCE_OWN is set: using the own cluster"
    elif stock_pg_is_superuser "$url"; then
        export STOCK_TEST_ADMIN_URL=$url
        stock_info "using the PostgreSQL server at $(_stock_pg_redact "$url") (superuser)"
        return 0
    elif [[ -n ${STOCK_TEST_ADMIN_URL:-} ]]; then
        stock_warn "STOCK_TEST_ADMIN_URL ($(_stock_pg_redact "$url")) is not a reachable superuser login; falling back to an own cluster"
    else
        stock_info "no superuser login at $url; using an own cluster"
    fi
    stock_pg_own_start
    STOCK_TEST_ADMIN_URL=$(stock_pg_own_url postgres)
    export STOCK_TEST_ADMIN_URL
    stock_info "STOCK_TEST_ADMIN_URL=$STOCK_TEST_ADMIN_URL"
}

# A URL without its password, for messages.
_stock_pg_redact() {
    # shellcheck disable=SC2001
    sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"
}

# Installs pgTAP for the server's major version (the server must be local to use it) and pg_prove
# (Debian's libtap-parser-sourcehandler-pgtap-perl), which scripts/pgtap.sh runs the suite with.
stock_ensure_pgtap() {
    if [[ ${STOCK_SKIP_PGTAP:-0} == 1 ]]; then
        stock_info "STOCK_SKIP_PGTAP=1: not installing pgTAP"
        return 0
    fi
    local num major pkg want=()
    num=$(stock_psql -d "$1" -Atc 'show server_version_num') || stock_die "cannot read the server version"
    major=$((num / 10000))
    pkg="postgresql-$major-pgtap"
    stock_pkg_installed "$pkg" || want+=("$pkg")
    command -v pg_prove >/dev/null 2>&1 || want+=(libtap-parser-sourcehandler-pgtap-perl)
    if [[ ${#want[@]} -eq 0 ]]; then
        stock_info "$pkg and pg_prove are installed"
        return 0
    fi
    stock_apt_install "${want[@]}"
    stock_info "installed: ${want[*]}"
}

# Drops test databases (stock_t_<pid>_...) left behind by test runs that are no longer running.
stock_drop_leftover_test_dbs() {
    local url=$1 db pid dropped=0 kept=0 dbs
    dbs=$(stock_psql -d "$url" -Atc "select datname from pg_database where datname like 'stock\_t\_%' order by 1")
    while IFS= read -r db; do
        [[ -n $db ]] || continue
        pid=${db#stock_t_}
        pid=${pid%%_*}
        if [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]]; then
            kept=$((kept + 1)) # a test process that is still running owns it
            continue
        fi
        stock_psql -d "$url" -c "drop database if exists \"${db//\"/\"\"}\" with (force)"
        dropped=$((dropped + 1))
    done <<<"$dbs"
    if [[ $kept -gt 0 ]]; then
        stock_info "dropped $dropped leftover test database(s); kept $kept of test processes still running"
    else
        stock_info "dropped $dropped leftover test database(s)"
    fi
}

# Headless Chromium and its WebDriver for the end-to-end tests (tests/e2e.rs).
stock_ensure_browser() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        stock_info "chromium and chromedriver are installed"
        return 0
    fi
    stock_apt_install chromium chromium-driver
    stock_info "chromium and chromium-driver installed"
}

# Installs Debian's pgbouncer for tests/pgbouncer.rs (the test starts its own pgbouncer process
# on a free loopback port, as the postgres user when run as root; the packaged service is not used).
stock_ensure_pgbouncer() {
    if command -v pgbouncer >/dev/null 2>&1; then
        stock_info "$(pgbouncer --version 2>/dev/null | head -n 1) is installed"
        return 0
    fi
    stock_apt_install pgbouncer
    command -v pgbouncer >/dev/null 2>&1 || stock_die "pgbouncer still not found after installing the package"
    # the package starts a system-wide service; the tests do not need it
    if command -v systemctl >/dev/null 2>&1; then _stock_as_root systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
    stock_info "$(pgbouncer --version 2>/dev/null | head -n 1) installed"
}
