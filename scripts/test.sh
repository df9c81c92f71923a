#!/usr/bin/env bash
# Runs the whole suite: PostgreSQL bootstrap, cargo fmt --check, cargo clippy -D warnings,
# cargo test --all-targets. Extra arguments go to cargo test (e.g. scripts/test.sh -- login).
#
# The tests need a superuser URL (STOCK_TEST_ADMIN_URL): an existing server at 127.0.0.1:5432 as
# user postgres when there is one, otherwise a throwaway cluster of our own under target/pg
# (Debian's postgresql package is installed when missing). Exits non-zero on the first failure
# and names the failed step.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STOCK_ROOT"
stock_install_step_trap

# Stop the own cluster again when this run started it (STOCK_PG_KEEP=1 leaves it running).
stock_on_exit_hook() {
    if [[ $STOCK_PG_OWN_STARTED == 1 && ${STOCK_PG_KEEP:-0} != 1 ]]; then
        stock_pg_own_stop
    fi
}

stock_step "Rust toolchain" stock_require_cargo fmt clippy
stock_step "PostgreSQL" stock_pg_bootstrap_test
stock_step "pgTAP" stock_ensure_pgtap "$STOCK_TEST_ADMIN_URL"
stock_step "Chromium for end-to-end tests" stock_ensure_browser
stock_step "PgBouncer" stock_ensure_pgbouncer
stock_step "drop leftover test databases" stock_drop_leftover_test_dbs "$STOCK_TEST_ADMIN_URL"
stock_step "cargo fmt --check" cargo fmt --all -- --check
stock_step "cargo clippy" cargo clippy --all-targets -- -D warnings
stock_step "cargo test" cargo test --all-targets --no-fail-fast "$@"

printf '\n==> All steps passed.\n'
