# Shared helpers for setup/install.sh and setup/test.sh (sourced, not executed).
#
# Everything the product installs lives OUTSIDE the repository, in one per-user data directory,
# so that any later clone of the repository (and CI) finds it without another install:
#   $DUNNING_HOME            default: ${XDG_DATA_HOME:-$HOME/.local/share}/dunning-odoo
#   $DUNNING_HOME/odoo-src   a file holding the path of the Odoo 19 source tree in use
#   $DUNNING_HOME/odoo       the Odoo 19 tree when the installer had to get it itself
#   $DUNNING_HOME/venv       the Python virtual environment (Odoo's requirements + ours)
#   $DUNNING_HOME/odoo.conf  the Odoo configuration (database role, addons path)

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUNNING_HOME=${DUNNING_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/dunning-odoo}
VENV="$DUNNING_HOME/venv"
ODOO_CONF="$DUNNING_HOME/odoo.conf"
DB_HOST=${DB_HOST:-}
DB_PORT=${DB_PORT:-5432}
DB_USER=${DB_USER:-odoo}
DB_PASSWORD=${DB_PASSWORD:-odoo}
ADDONS="dunning_chain,dunning_portal,dunning_sms"
# OCA queue_job, for the optional bridge dunning_queue_job (the run as queue jobs): the pinned
# addon, unpacked from its wheel by setup/install.sh into this directory outside the repository
# (nothing fetched is committed); setup/test.sh installs it with the bridge in the test database
OCA_ADDONS_DIR="$DUNNING_HOME/oca-addons"
QUEUE_JOB_VERSION=19.0.2.4.0.1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR:\033[0m %s\n' "$*" >&2; exit 2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "'$*' needs root; run it as root or install sudo."
  fi
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$*"
  else sudo -u postgres sh -c "$*"
  fi
}

# The Odoo 19 source tree in use: $ODOO_SRC, else the one recorded by a previous install.
odoo_src() {
  if [ -n "${ODOO_SRC:-}" ]; then printf '%s\n' "$(cd "$ODOO_SRC" && pwd)"; return; fi
  if [ -f "$DUNNING_HOME/odoo-src" ]; then cat "$DUNNING_HOME/odoo-src"; return; fi
  if [ -d "$DUNNING_HOME/odoo/odoo" ]; then printf '%s\n' "$DUNNING_HOME/odoo"; return; fi
  return 1
}

is_odoo19_tree() {
  [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] && [ -d "$1/addons/account" ] &&
    grep -q "^version_info = (19, 0" "$1/odoo/release.py"
}

# Make sure a local PostgreSQL answers and that Odoo's role exists (Odoo refuses 'postgres').
ensure_postgres() {
  if [ -n "$DB_HOST" ] && [ "$DB_HOST" != localhost ] && [ "$DB_HOST" != 127.0.0.1 ]; then
    return 0  # a remote server: the user manages it
  fi
  if ! command -v pg_lsclusters >/dev/null 2>&1 && ! command -v psql >/dev/null 2>&1; then
    say "PostgreSQL is missing: installing it with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client
  fi
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local ver name status
    while read -r ver name _ status _; do
      if [ "$status" != online ]; then
        say "Starting PostgreSQL cluster $ver/$name"
        as_root pg_ctlcluster "$ver" "$name" start
      fi
    done < <(pg_lsclusters -h)
  fi
  local i
  for i in $(seq 1 30); do
    as_postgres "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  as_postgres "psql -qAtc 'select 1'" >/dev/null 2>&1 || die "PostgreSQL does not answer (try: pg_ctlcluster 15 main start)."
  if [ "$(as_postgres "psql -qAtc \"select 1 from pg_roles where rolname='$DB_USER'\"")" != 1 ]; then
    say "Creating the PostgreSQL role '$DB_USER' for Odoo"
    as_postgres "psql -qc \"create role \\\"$DB_USER\\\" login createdb password '$DB_PASSWORD'\""
  fi
}

write_odoo_conf() {
  local src=$1
  mkdir -p "$DUNNING_HOME/filestore"
  cat > "$ODOO_CONF" <<EOF
[options]
addons_path = $src/addons,$REPO_DIR
data_dir = $DUNNING_HOME/filestore
db_host = ${DB_HOST:-localhost}
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
admin_passwd = admin
http_interface = ${HTTP_INTERFACE:-127.0.0.1}
EOF
}

# Fail loudly, with what is missing and the command that provides it.
require_odoo() {
  local src
  if ! src=$(odoo_src) || ! is_odoo19_tree "$src"; then
    cat >&2 <<EOF

No Odoo 19 was found, so the Odoo test suite cannot run (it is never skipped silently).
The tests need an Odoo 19.0 source tree, its Python environment in $VENV and a
PostgreSQL server; setup/install.sh prepares all three. Run it once, either with an existing
Odoo 19 checkout:   ODOO_SRC=/path/to/odoo-19.0 ./setup/install.sh --no-serve
or letting it download Odoo 19.0 from github.com/odoo/odoo:   ./setup/install.sh --no-serve
then run ./setup/test.sh again. (Looked for \$ODOO_SRC, then $DUNNING_HOME/odoo-src and
$DUNNING_HOME/odoo; set DUNNING_HOME if you installed elsewhere.)
EOF
    exit 3
  fi
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import psycopg2, werkzeug, pytest_odoo" 2>/dev/null; then
    printf '\nThe Python environment %s is missing or incomplete (Odoo requirements, pytest-odoo).\nRun: ODOO_SRC=%s ./setup/install.sh --no-serve\n' "$VENV" "$src" >&2
    exit 3
  fi
  ODOO_SRC_DIR=$src
  [ -f "$ODOO_CONF" ] || write_odoo_conf "$src"
}

# How many of our three addons are installed in database $1 (the run goes on only with 3).
addons_installed() {
  "$VENV/bin/python" - "$1" <<EOF
import sys, psycopg2
conn = psycopg2.connect(dbname=sys.argv[1], host="${DB_HOST:-localhost}", port=$DB_PORT,
                        user="$DB_USER", password="$DB_PASSWORD")
cur = conn.cursor()
cur.execute("SELECT count(*) FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)",
            ("$ADDONS".split(","),))
print(cur.fetchone()[0])
EOF
}

odoo_bin() {
  "$VENV/bin/python" "$ODOO_SRC_DIR/odoo-bin" -c "$ODOO_CONF" \
    --addons-path="$ODOO_SRC_DIR/addons,$REPO_DIR${EXTRA_ADDONS_PATH:+,$EXTRA_ADDONS_PATH}" "$@"
}

# A throwaway benchmark database with our addons (no demo): bench_database PREFIX "$@".
# Sets DB (PREFIX_<pid>) and BENCH_ARGS (the arguments but --keep), drops the database at exit
# unless --keep was given, and stops with an error when the install fails.
bench_database() {
  local prefix=$1 a
  shift
  BENCH_KEEP=0
  BENCH_ARGS=()
  BENCH_DBS=()
  for a in "$@"; do
    if [ "$a" = --keep ]; then BENCH_KEEP=1; else BENCH_ARGS+=("$a"); fi
  done
  DB="${prefix}_$$"
  export PGPASSWORD="$DB_PASSWORD"
  trap bench_cleanup EXIT
  bench_install "$DB" "$ADDONS"
  local installed
  installed=$(addons_installed "$DB")
  [ "$installed" = 3 ] || die "only $installed of the 3 addons got installed in $DB (log above)"
}

# Another throwaway database of the same run (dropped with the first one, kept with --keep):
# bench_other_database NAME MODULE, the module found on $EXTRA_ADDONS_PATH too (a peer's addon).
bench_other_database() {
  bench_install "$1" "$2"
  local state
  state=$("$VENV/bin/python" - "$1" "$2" <<EOF
import sys, psycopg2
conn = psycopg2.connect(dbname=sys.argv[1], host="${DB_HOST:-localhost}", port=$DB_PORT,
                        user="$DB_USER", password="$DB_PASSWORD")
cur = conn.cursor()
cur.execute("SELECT state FROM ir_module_module WHERE name = %s", (sys.argv[2],))
print((cur.fetchone() or ["missing"])[0])
EOF
)
  [ "$state" = installed ] || die "$2 is $state in $1, not installed (log above)"
}

bench_install() {
  BENCH_DBS+=("$1")
  say "Creating $1 with $2"
  # pipefail: the status of the pipeline is odoo-bin's (the filter never fails, even on no output)
  if ! odoo_bin -d "$1" -i "$2" --stop-after-init --no-http --log-level=warn </dev/null 2>&1 |
       { grep -v "^Running as user" || true; }; then
    die "installing $2 into $1 failed (log above)"
  fi
}

bench_cleanup() {
  local db
  for db in "${BENCH_DBS[@]}"; do
    if [ "$BENCH_KEEP" = 1 ]; then echo "kept database $db"; continue; fi
    dropdb -h "${DB_HOST:-localhost}" -p "$DB_PORT" -U "$DB_USER" --if-exists "$db" </dev/null || true
    rm -rf "$DUNNING_HOME/filestore/filestore/$db"
  done
}
