#!/usr/bin/env bash
# Verify the communication record of a database: ./setup/verify.sh [DATABASE] [--anchor FILE]...
# (default database: dunning_demo). Exit status 0 when intact. See setup/verify.py.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_odoo
DB=dunning_demo
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then DB=$1; shift; fi
"$VENV/bin/python" "$REPO_DIR/setup/verify.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" "$@" </dev/null
