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
KEEP=0
args=()
for a in "$@"; do
  if [ "$a" = --keep ]; then KEEP=1; else args+=("$a"); fi
done
DB="dunning_bench_insight_$$"
export PGPASSWORD="$DB_PASSWORD"
cleanup() {
  [ "$KEEP" = 1 ] && { echo "kept database $DB"; return; }
  dropdb -h "${DB_HOST:-localhost}" -p "$DB_PORT" -U "$DB_USER" --if-exists "$DB" </dev/null || true
  rm -rf "$DUNNING_HOME/filestore/filestore/$DB"
}
trap cleanup EXIT
say "Creating $DB with $ADDONS"
if ! odoo_bin -d "$DB" -i "$ADDONS" --stop-after-init --no-http --log-level=warn </dev/null 2>&1 |
     { grep -v "^Running as user" || true; }; then
  die "installing $ADDONS into $DB failed (log above)"
fi
"$VENV/bin/python" "$REPO_DIR/setup/bench_insight.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "${args[@]}" </dev/null
