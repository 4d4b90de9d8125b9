#!/usr/bin/env bash
# Benchmark: ./setup/bench.sh [--invoices N] [--customers M] [--send] [--keep]
# Creates a fresh database with our addons (no demo), generates N overdue invoices over M
# customers, prints the time and memory of planning (and with --send, of sending e-mail plus
# PDF letter), then drops the database (--keep keeps it). Stops with an error when the install
# fails. Odoo's HTTP server of the run (wkhtmltopdf fetches the letters' assets from it) listens
# on a free port of 127.0.0.1, so a server already on 8069 is no obstacle.
set -euo pipefail
# --scale [--open N] [--due M] [--customers C] [--keep]: the planner on a million open invoices
[ "${1:-}" = --scale ] && { shift; exec "$(dirname "$0")/bench_scale.sh" "$@"; }
. "$(dirname "$0")/lib.sh"
require_odoo
ensure_postgres
bench_database dunning_bench "$@"
"$VENV/bin/python" "$REPO_DIR/setup/bench.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "${BENCH_ARGS[@]}" </dev/null
