#!/usr/bin/env bash
# Benchmark: ./setup/bench.sh [--invoices N] [--customers M] [--send] [--keep]
# Creates a fresh database with our addons (no demo), generates N overdue invoices over M
# customers, prints the time and memory of planning (and with --send, of sending e-mail plus
# PDF letter), then drops the database (--keep keeps it). Stops with an error when the install
# fails. Odoo's HTTP server of the run (wkhtmltopdf fetches the letters' assets from it) listens
# on a free port of 127.0.0.1, so a server already on 8069 is no obstacle.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_odoo
ensure_postgres
KEEP=0
args=()
for a in "$@"; do
  if [ "$a" = --keep ]; then KEEP=1; else args+=("$a"); fi
done
DB="dunning_bench_$$"
export PGPASSWORD="$DB_PASSWORD"
cleanup() {
  [ "$KEEP" = 1 ] && { echo "kept database $DB"; return; }
  dropdb -h "${DB_HOST:-localhost}" -p "$DB_PORT" -U "$DB_USER" --if-exists "$DB" </dev/null || true
  rm -rf "$DUNNING_HOME/filestore/filestore/$DB"
}
trap cleanup EXIT
say "Creating $DB with $ADDONS"
# pipefail: the status of the pipeline is odoo-bin's (the filter never fails, even on no output)
if ! odoo_bin -d "$DB" -i "$ADDONS" --stop-after-init --no-http --log-level=warn </dev/null 2>&1 |
     { grep -v "^Running as user" || true; }; then
  die "installing $ADDONS into $DB failed (log above)"
fi
installed=$(addons_installed "$DB")
[ "$installed" = 3 ] || die "only $installed of the 3 addons got installed in $DB (log above)"
"$VENV/bin/python" "$REPO_DIR/setup/bench.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "${args[@]}" </dev/null
