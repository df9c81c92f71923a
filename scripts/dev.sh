#!/usr/bin/env bash
# Runs Stock with demo data at http://127.0.0.1:8080 (STOCK_LISTEN).
#
# Uses the PostgreSQL server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/stock)
# when it answers; otherwise installs Debian's postgresql package when missing and runs a
# throwaway cluster of its own under target/pg. Then: cargo build, stock migrate, stock demo,
# stock serve. Safe to run again. Stop the service with Ctrl-C.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STOCK_ROOT"
stock_install_step_trap

stock_step "Rust toolchain" stock_require_cargo
stock_step "PostgreSQL" stock_pg_bootstrap_dev

listen=${STOCK_LISTEN:-127.0.0.1:8080}
host=${listen%:*}
port=${listen##*:}
host=${host#[}
host=${host%]}
case $host in
0.0.0.0 | "") browse_host=127.0.0.1 ;;
::) browse_host="[::1]" ;;
*:*) browse_host="[$host]" ;;
*) browse_host=$host ;;
esac
probe_host=${browse_host#[}
probe_host=${probe_host%]}
if (exec 3<>"/dev/tcp/$probe_host/$port") 2>/dev/null; then
    stock_die "something already listens on $listen; stop it or set STOCK_LISTEN (e.g. STOCK_LISTEN=127.0.0.1:8081)"
fi

stock_step "cargo build" cargo build --bin stock
target_dir=${CARGO_TARGET_DIR:-$STOCK_ROOT/target}
bin="$target_dir/debug/stock"

stock_step "stock migrate" "$bin" migrate
stock_step "stock demo" "$bin" demo

url="http://$browse_host:$port"
cat <<MSG

==> Stock is starting at $url
    Log in as owner@demo.test, admin@demo.test or staff@demo.test
    with password ${STOCK_DEMO_PASSWORD:-demo-password}.
    Database: $(_stock_pg_redact "$DATABASE_URL")
    Mail: ${STOCK_SMTP_URL:+sent to $STOCK_SMTP_URL}${STOCK_SMTP_URL:-not sent (no STOCK_SMTP_URL): logged, and written to ${STOCK_MAIL_DIR:-target/mail}/*.eml}
    Stop with Ctrl-C.

MSG
trap - EXIT
exec "$bin" serve
