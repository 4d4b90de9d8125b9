#!/usr/bin/env bash
# First command: install PostgreSQL, Odoo 19 and our addons, create the demo database, serve it.
#
#   ODOO_SRC=/path/to/odoo-19.0 ./setup/install.sh      use an existing Odoo 19 source tree
#   ./setup/install.sh                                  reuse a previous install, else download 19.0
#
# Options:  --no-serve     prepare everything, do not start the server (scripted use, CI)
#           --port N       HTTP port to serve on (default 8069)
#           --reset-demo   drop and recreate the demo database
# Idempotent: a second run only checks what is already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SERVE=1
PORT=8069
RESET_DEMO=0
DEMO_DB=${DEMO_DB:-dunning_demo}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-serve) SERVE=0 ;;
    --port) PORT=$2; shift ;;
    --reset-demo) RESET_DEMO=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

mkdir -p "$DUNNING_HOME"

# --- system packages ---------------------------------------------------------------------------
missing=()
command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)      # PDF letters
command -v chromium >/dev/null 2>&1 || missing+=(chromium)            # browser tests of the portal
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)     # tests read the case file PDF
command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)          # psycopg2
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# --- PostgreSQL ---------------------------------------------------------------------------------
ensure_postgres

# --- Odoo 19 source -----------------------------------------------------------------------------
if [ -n "${ODOO_SRC:-}" ]; then
  src=$(cd "$ODOO_SRC" && pwd) || die "ODOO_SRC=$ODOO_SRC does not exist"
  is_odoo19_tree "$src" || die "ODOO_SRC=$src is not an Odoo 19.0 source tree (odoo-bin, odoo/release.py, addons/account)"
elif src=$(odoo_src) && is_odoo19_tree "$src"; then
  say "Reusing the Odoo 19 tree of a previous install: $src"
else
  src="$DUNNING_HOME/odoo"
  say "Downloading Odoo 19.0 from github.com/odoo/odoo into $src"
  rm -rf "$src"
  git clone --depth 1 --branch 19.0 https://github.com/odoo/odoo.git "$src" ||
    die "could not download Odoo 19.0; give an existing tree with ODOO_SRC=/path/to/odoo-19.0"
fi
printf '%s\n' "$src" > "$DUNNING_HOME/odoo-src"
ODOO_SRC_DIR=$src

# --- Python environment -------------------------------------------------------------------------
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python 3.10+ is required ($PY is older)"
if [ ! -x "$VENV/bin/python" ]; then
  say "Creating the virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
# Odoo's pins, adapted: cbor2 5.4.2's sdist does not build on 3.11 (5.6 wheels do), python-ldap
# needs system libraries and no part of our product uses it.
reqs="$DUNNING_HOME/requirements-odoo.txt"
sed -e 's/^cbor2==5\.4\.2/cbor2==5.6.5/' -e '/^python-ldap/d' "$src/requirements.txt" > "$reqs"
stamp=$(cat "$reqs" "$REPO_DIR/setup/requirements.txt" | sha1sum | cut -c1-16)
if [ "$(cat "$VENV/.dunning-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "Installing Odoo's and our Python requirements (a few minutes the first time)"
  "$VENV/bin/pip" install -q --upgrade pip wheel 'setuptools<70'
  # some pinned sdists (e.g. for Python 3.11) only build against the old setuptools above
  "$VENV/bin/pip" install -q --no-build-isolation -r "$reqs"
  "$VENV/bin/pip" install -q -r "$REPO_DIR/setup/requirements.txt"
  echo "$stamp" > "$VENV/.dunning-stamp"
else
  say "Python environment up to date: $VENV"
fi

# Odoo runs from its source tree: make it importable in the environment (pytest-odoo needs it).
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$src" > "$site/odoo-src.pth"

write_odoo_conf "$src"

# --- OCA queue_job (for the optional dunning_queue_job; not installed in the demo database) ----
# The addon is published as a wheel of the odoo.addons namespace; Odoo runs from its source tree,
# whose odoo/addons does not look into the environment's site-packages, so the pinned wheel is
# unpacked into $OCA_ADDONS_DIR (added to the addons path where queue_job is wanted). Its Python
# dependencies (requests, openupgradelib) are in Odoo's and our requirements.
if [ "$(cat "$OCA_ADDONS_DIR/.queue_job-version" 2>/dev/null)" != "$QUEUE_JOB_VERSION" ]; then
  say "Getting OCA queue_job $QUEUE_JOB_VERSION into $OCA_ADDONS_DIR"
  tmp=$(mktemp -d)
  "$VENV/bin/pip" download -q --no-deps "odoo-addon-queue-job==$QUEUE_JOB_VERSION" -d "$tmp" ||
    die "could not download odoo-addon-queue-job==$QUEUE_JOB_VERSION from PyPI"
  "$VENV/bin/python" -m zipfile -e "$tmp"/odoo_addon_queue_job-*.whl "$tmp/wheel"
  mkdir -p "$OCA_ADDONS_DIR"
  rm -rf "$OCA_ADDONS_DIR/queue_job"
  mv "$tmp/wheel/odoo/addons/queue_job" "$OCA_ADDONS_DIR/queue_job"
  printf '%s\n' "$QUEUE_JOB_VERSION" > "$OCA_ADDONS_DIR/.queue_job-version"
  rm -rf "$tmp"
fi

# --- demo database ------------------------------------------------------------------------------
db_exists() { as_postgres "psql -qAt -l" | cut -d'|' -f1 | grep -qx "$1"; }
if [ "$RESET_DEMO" = 1 ] && db_exists "$DEMO_DB"; then
  say "Dropping the demo database $DEMO_DB"
  as_postgres "dropdb '$DEMO_DB'"
  rm -rf "$DUNNING_HOME/filestore/filestore/$DEMO_DB"
fi
installed_addons() {
  as_postgres "psql -qAt -d '$1' -c \"select count(*) from ir_module_module where state = 'installed' and name in ('dunning_chain', 'dunning_portal', 'dunning_sms')\""
}
addons_stamp=$(cd "$REPO_DIR" && find dunning_chain dunning_portal dunning_sms -type f \
  ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-16)
stamp_file="$DUNNING_HOME/$DEMO_DB.stamp"
if db_exists "$DEMO_DB" && [ "$(installed_addons "$DEMO_DB")" = 3 ]; then
  if [ "$(cat "$stamp_file" 2>/dev/null)" = "$addons_stamp" ]; then
    say "Demo database $DEMO_DB is up to date (--reset-demo recreates it)"
  else
    say "Updating our addons in the demo database $DEMO_DB"
    odoo_bin -d "$DEMO_DB" -u "$ADDONS" --stop-after-init --no-http --log-level=warn </dev/null
  fi
else
  say "Installing our addons with demo data into $DEMO_DB (a minute or two)"
  odoo_bin -d "$DEMO_DB" -i "$ADDONS" --with-demo --stop-after-init --no-http --log-level=warn </dev/null
fi
[ "$(installed_addons "$DEMO_DB")" = 3 ] || die "our addons did not install in $DEMO_DB (see the log above)"
echo "$addons_stamp" > "$stamp_file"

cat <<EOF

Done.
  Odoo 19 source   $src
  Python env       $VENV
  Odoo config      $ODOO_CONF
  Demo database    $DEMO_DB  (login admin / password admin)
  Tests            ./setup/test.sh
EOF

if [ "$SERVE" = 1 ]; then
  say "Serving Odoo on http://localhost:$PORT (Ctrl-C stops it)"
  exec "$VENV/bin/python" "$src/odoo-bin" -c "$ODOO_CONF" --addons-path="$src/addons,$REPO_DIR" \
    -d "$DEMO_DB" --db-filter="^$DEMO_DB\$" --http-port="$PORT"
fi
