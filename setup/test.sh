#!/usr/bin/env bash
# Second command: the whole test suite against a real Odoo 19 and PostgreSQL.
#
#   ./setup/test.sh                 every addon test and the top-level tests/
#   ./setup/test.sh -k promise      extra arguments go to pytest
#
# 1. makes sure PostgreSQL runs; 2. creates a throwaway database and installs the three addons
# into it, with the test addon tests/addons/dunning_test_webhook (a channel added by another
# addon: selection, traits, one sender; never installed by install.sh) and OCA queue_job with
# the bridge dunning_queue_job (the scheduled run as queue jobs; the tests run with queue_job's
# QUEUE_JOB__NO_DELAY=1, so a scheduled run's jobs are performed at once in the test's
# transaction and the existing tests of the run see the messages sent; the bridge's own tests
# switch it off and check the jobs themselves); the install log must be free of warnings
# about our addons, told by the logger, not by
# the line (every line carries the database name dunning_test_...): a WARNING, ERROR or CRITICAL
# line whose logger is odoo.addons.dunning_* or whose message names dunning_chain, dunning_portal
# or dunning_sms (Odoo's own warnings about them, e.g. missing access rules), and any record with
# a traceback through a file under /dunning_*/, fail the run; other warnings of Odoo are only
# logged; 3. runs every test with pytest + pytest-odoo (HTTP server on, so HttpCase and browser
# tests run); 4. prints the counts per addon and the closing line "N passed, N failed"
# (setup/junit_summary.py); 5. drops the database. Exits non-zero on any failure, error or
# skipped test (a skipped browser test hides a missing browser).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_odoo
ensure_postgres

DB="dunning_test_$(date +%Y%m%d%H%M%S)_$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dunning-test.XXXXXX")
export PGPASSWORD="$DB_PASSWORD"
cleanup() {
  dropdb -h "${DB_HOST:-localhost}" -p "$DB_PORT" -U "$DB_USER" --if-exists "$DB" </dev/null >/dev/null 2>&1 || true
  rm -rf "$DUNNING_HOME/filestore/filestore/$DB"
  [ -n "${KEEP_LOGS:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

for tool in wkhtmltopdf chromium pdftotext; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool is missing (letters, browser tests and the case file tests need it): run ./setup/install.sh --no-serve"
done

TEST_ADDONS="dunning_test_webhook,queue_job,dunning_queue_job"
[ -f "$OCA_ADDONS_DIR/queue_job/__manifest__.py" ] ||
  die "OCA queue_job is missing in $OCA_ADDONS_DIR (the bridge dunning_queue_job is tested with it): run ./setup/install.sh --no-serve"
export EXTRA_ADDONS_PATH="$REPO_DIR/tests/addons,$OCA_ADDONS_DIR"
say "Installing $ADDONS and $TEST_ADDONS into a fresh database $DB"
start=$(date +%s)
if ! odoo_bin -d "$DB" -i "$ADDONS,$TEST_ADDONS" --stop-after-init --no-http --log-level=info \
     </dev/null > "$WORK/install.log" 2>&1; then
  tail -50 "$WORK/install.log"
  die "installing the addons failed (log above)"
fi
# Warnings and errors logged by our addons (or about them) fail the run. A log record is a line
# "date time pid LEVEL dbname logger: message" and its continuation lines (a traceback).
our_warnings() {
  awk '
    function flush() { if (bad) print rec; rec = ""; bad = 0 }
    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:,]+ [0-9]+ [A-Z]+ [^ ]+ [^ ]+: / {
      flush(); rec = $0
      logger = $6; sub(/:$/, "", logger)
      msg = substr($0, index($0, " " $6 " ") + length($6) + 2)
      bad = $4 ~ /^(WARNING|ERROR|CRITICAL)$/ &&
            (logger ~ /^odoo[.]addons[.]dunning_/ || msg ~ /dunning_(chain|portal|sms|queue_job)/)
      next
    }
    { rec = rec "\n" $0 }
    /File "[^"]*\/dunning_[a-z_]+\// { bad = 1 }
    END { flush() }
  ' "$1"
}
our_warnings "$WORK/install.log" > "$WORK/install-warnings.log"
if [ -s "$WORK/install-warnings.log" ]; then
  cat "$WORK/install-warnings.log"
  die "the install log has warnings from our addons (above)"
fi
installed=$(ADDONS="$ADDONS,$TEST_ADDONS" addons_installed "$DB")
[ "$installed" = 6 ] || die "only $installed of the 6 addons (ours, the test addon, queue_job and the bridge) got installed (see the log: KEEP_LOGS=1 keeps $WORK)"
say "Installed in $(( $(date +%s) - start )) s"

say "Running the tests (pytest + pytest-odoo, HTTP server on)"
cd "$REPO_DIR"
set +e
QUEUE_JOB__NO_DELAY=1 "$VENV/bin/python" -m pytest \
  --odoo-database="$DB" --odoo-config="$ODOO_CONF" \
  --odoo-addons-path="$ODOO_SRC_DIR/addons,$REPO_DIR,$EXTRA_ADDONS_PATH" --odoo-http --odoo-log-level=warn \
  -p no:cacheprovider -o junit_family=xunit2 --junitxml="$WORK/junit.xml" -q -rfEs \
  dunning_chain dunning_portal dunning_sms dunning_queue_job tests "$@" 2>&1 | tee "$WORK/pytest.log"
status=${PIPESTATUS[0]}
set -e

# Counts per addon, and the closing line. No test collected, a skip or a failure: red.
"$VENV/bin/python" "$REPO_DIR/setup/junit_summary.py" "$WORK/junit.xml" "$status"
