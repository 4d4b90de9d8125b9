#!/usr/bin/env bash
# Several senders at once, no duplicates: ./setup/bench_workers.sh [--communications 2000]
#   [--workers 1,2,4] [--no-kill] [--queue-job] [--port 8094] [--keep]
# Creates a fresh database with our addons (no demo), 2,000 due e-mail communications, then
# runs 1, 2 and 4 real sender processes at once over copies of it, kills one sender with
# SIGKILL mid-run and restarts it, and with --queue-job (OCA queue_job installed by
# setup/install.sh in $DUNNING_HOME/oca-addons) sends through queue_job's runner with 2 Odoo
# workers; after each, counts in SQL that every communication left once, with one e-mail and
# one chatter note on the customer and the invoice, and prints the wall times (see
# setup/bench_workers.py). Nothing leaves the machine: the e-mails stay in Odoo's outgoing
# queue. Exits non-zero when a count is wrong.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_odoo
ensure_postgres
bench_database "${BENCH_DB_PREFIX:-dunning_bench_workers}" "$@"
"$VENV/bin/python" "$REPO_DIR/setup/bench_workers.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR,$DUNNING_HOME/oca-addons" "${BENCH_ARGS[@]}" </dev/null
