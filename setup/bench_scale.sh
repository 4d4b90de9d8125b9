#!/usr/bin/env bash
# Scale benchmark: ./setup/bench_scale.sh [--open N] [--due M] [--customers C] [--templates T]
#                                         [--sample S] [--profile PREFIX] [--keep]
# (also ./setup/bench.sh --scale ...). Builds a throwaway database of N open posted customer
# invoices (default 1,000,000, of which M = 100,000 due for a step, over C = 20,000 customers):
# a few thousand real invoices through the ORM, cloned in SQL, checked by Odoo's own
# computations; then prints the time and memory of the planner at 10k / 100k / N open invoices
# with M/10 due, and at M/10, M/2, M due. See setup/bench_scale.py for how. The database is
# dropped at exit unless --keep; its name starts with $BENCH_PREFIX (default dunning_scale).
# No HTTP server is started. Any failed step stops the run with a non-zero exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_odoo
ensure_postgres
started=$(date +%s)
bench_database "${BENCH_PREFIX:-dunning_scale}" "$@"
echo "phase install ($ADDONS): $(( $(date +%s) - started )) s"
"$VENV/bin/python" "$REPO_DIR/setup/bench_scale.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "${BENCH_ARGS[@]}" </dev/null
