#!/usr/bin/env bash
# Second command: the whole test suite against a real Odoo 19 and PostgreSQL.
#
#   ./setup/test.sh                 every addon test and the top-level tests/
#   ./setup/test.sh -k promise      extra arguments go to pytest
#
# 1. makes sure PostgreSQL runs; 2. creates a throwaway database and installs the three addons
# into it (the install log must be free of warnings from our addons); 3. runs every test with
# pytest + pytest-odoo (HTTP server on, so HttpCase and browser tests run); 4. prints the counts
# per addon and the closing line "N passed, N failed"; 5. drops the database. Exits non-zero on
# any failure, error or skipped test (a skipped browser test hides a missing browser).
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

for tool in wkhtmltopdf chromium; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool is missing (letters and browser tests need it): run ./setup/install.sh --no-serve"
done

say "Installing $ADDONS into a fresh database $DB"
start=$(date +%s)
if ! odoo_bin -d "$DB" -i "$ADDONS" --stop-after-init --no-http --log-level=info \
     </dev/null > "$WORK/install.log" 2>&1; then
  tail -50 "$WORK/install.log"
  die "installing the addons failed (log above)"
fi
# Warnings and errors logged by our addons (or about them) fail the run.
if grep -E ' (WARNING|ERROR|CRITICAL) ' "$WORK/install.log" | grep -iE 'dunning' > "$WORK/install-warnings.log"; then
  cat "$WORK/install-warnings.log"
  die "the install log has warnings from our addons (above)"
fi
installed=$("$VENV/bin/python" - "$DB" <<EOF
import sys, psycopg2
conn = psycopg2.connect(dbname=sys.argv[1], host="${DB_HOST:-localhost}", port=$DB_PORT,
                        user="$DB_USER", password="$DB_PASSWORD")
cur = conn.cursor()
cur.execute("SELECT count(*) FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)",
            ("$ADDONS".split(","),))
print(cur.fetchone()[0])
EOF
)
[ "$installed" = 3 ] || die "only $installed of the 3 addons got installed (see the log: KEEP_LOGS=1 keeps $WORK)"
say "Installed in $(( $(date +%s) - start )) s"

say "Running the tests (pytest + pytest-odoo, HTTP server on)"
cd "$REPO_DIR"
set +e
"$VENV/bin/python" -m pytest \
  --odoo-database="$DB" --odoo-config="$ODOO_CONF" \
  --odoo-addons-path="$ODOO_SRC_DIR/addons,$REPO_DIR" --odoo-http --odoo-log-level=warn \
  -p no:cacheprovider -o junit_family=xunit2 --junitxml="$WORK/junit.xml" -q -rfEs \
  dunning_chain dunning_portal dunning_sms tests "$@" 2>&1 | tee "$WORK/pytest.log"
status=${PIPESTATUS[0]}
set -e

# Counts per addon, and the closing line. No test collected, a skip or a failure: red.
"$VENV/bin/python" - "$WORK/junit.xml" "$status" <<'EOF'
import collections, sys, xml.etree.ElementTree as ET
path, status = sys.argv[1], int(sys.argv[2])
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError):
    print(f"pytest left no report (exit {status})")
    print("0 passed, 1 failed")
    sys.exit(1)
counts = collections.defaultdict(collections.Counter)
for case in root.iter("testcase"):
    cls = case.get("classname", "")
    parts = cls.split(".")
    group = next((p for p in parts if p.startswith("dunning_")), None)
    if group is None:
        group = "tests/" + (parts[1] if len(parts) > 2 and parts[0] == "tests" else "")
    outcome = "passed"
    for child in case:
        if child.tag in ("failure", "error"):
            outcome = "failed"
        elif child.tag == "skipped":
            outcome = "skipped"
    counts[group][outcome] += 1
total = collections.Counter()
print()
print(f"{'suite':<24}{'passed':>8}{'failed':>8}{'skipped':>9}")
for group in sorted(counts):
    c = counts[group]
    total.update(c)
    print(f"{group:<24}{c['passed']:>8}{c['failed']:>8}{c['skipped']:>9}")
failed = total["failed"] + total["skipped"]   # a skipped test counts as a failure here
if total["skipped"]:
    print(f"{total['skipped']} skipped test(s) count as failures (e.g. a browser test without its browser)")
if not sum(total.values()):
    print("no test ran")
    failed = max(failed, 1)
if status not in (0, 1, 5) or (status == 1 and not failed):
    failed = max(failed, 1)   # pytest itself broke (collection or internal error)
    print(f"pytest exited with status {status}")
print(f"{total['passed']} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
