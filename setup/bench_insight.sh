#!/usr/bin/env bash
# Benchmark of Insight: ./setup/bench_insight.sh [--invoices N] [--customers M] [--keep]
# Creates a fresh database with our addons (no demo), generates N invoices (60 % paid) over M
# customers and up to four sent reminders per invoice (rows of effectiveness facts), then
# prints the cost of the facts' refresh after a payment, of the nightly backfill, and the time
# the dashboard's figures and the pivot take (setup/bench_insight.py). Drops the database
# unless --keep.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_odoo
ensure_postgres
bench_database dunning_bench_insight "$@"
"$VENV/bin/python" "$REPO_DIR/setup/bench_insight.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "${BENCH_ARGS[@]}" </dev/null
