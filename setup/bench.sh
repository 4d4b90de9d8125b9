#!/usr/bin/env bash
# Benchmark: ./setup/bench.sh [--invoices N] [--customers M] [--send] [--channels email] [--peer] [--keep]
# Creates a fresh database with our addons (no demo), generates N overdue invoices over M
# customers, prints the time and memory of planning (and with --send, of sending e-mail plus
# PDF letter; --channels email: e-mail only, for the cost per e-mail), then drops the database
# (--keep keeps it). Stops with an error when the install fails. Odoo's HTTP server of the run
# (wkhtmltopdf fetches the letters' assets from it) listens on a free port of 127.0.0.1, so a
# server already on 8069 is no obstacle.
#
# --peer (implies --send): then the same workload through OCA's account_credit_control
# ($PEER_VERSION below, pinned; its wheel is fetched once with pip download --no-deps into
# $DUNNING_HOME/peer/, outside the repository and outside our Odoo's addons path) in a second
# throwaway database (setup/bench_peer.py), and both side by side with the ratio.
set -euo pipefail
# --scale [--open N] [--due M] [--customers C] [--keep]: the planner on a million open invoices
[ "${1:-}" = --scale ] && { shift; exec "$(dirname "$0")/bench_scale.sh" "$@"; }
. "$(dirname "$0")/lib.sh"
PEER_PACKAGE=odoo-addon-account-credit-control
PEER_VERSION=19.0.1.0.0.13
PEER_MODULE=account_credit_control
require_odoo
ensure_postgres
PEER=0
ARGS=()
for a in "$@"; do
  if [ "$a" = --peer ]; then PEER=1; else ARGS+=("$a"); fi
done

# the peer's addon, unpacked under $DUNNING_HOME/peer/VERSION; sets PEER_ADDONS (its addons dir)
fetch_peer() {
  local dir="$DUNNING_HOME/peer/$PEER_VERSION"
  PEER_ADDONS="$dir/unpacked/odoo/addons"
  if [ ! -f "$PEER_ADDONS/$PEER_MODULE/__manifest__.py" ]; then
    say "Fetching $PEER_PACKAGE==$PEER_VERSION (pip download --no-deps) into $dir"
    mkdir -p "$dir"
    "$VENV/bin/pip" download --quiet --no-deps --only-binary=:all: -d "$dir" \
      "$PEER_PACKAGE==$PEER_VERSION" </dev/null
    "$VENV/bin/python" -m zipfile -e "$dir"/*.whl "$dir/unpacked"
  fi
  # its dependencies must all be in Odoo community (no other OCA addon is fetched)
  "$VENV/bin/python" - "$PEER_ADDONS/$PEER_MODULE/__manifest__.py" "$ODOO_SRC_DIR" <<'EOF'
import ast, os, sys
depends = ast.literal_eval(open(sys.argv[1]).read())["depends"]
missing = [d for d in depends if not any(os.path.isdir(os.path.join(sys.argv[2], p, d))
                                         for p in ("addons", "odoo/addons"))]
print(f"peer depends on {depends}: " + (f"MISSING {missing}" if missing else "all in Odoo 19"))
sys.exit(1 if missing else 0)
EOF
}

if [ "$PEER" = 1 ]; then
  fetch_peer || die "the peer's dependencies are not all in Odoo 19 (above)"
  case " ${ARGS[*]} " in *" --send "*) ;; *) ARGS+=(--send) ;; esac
fi
bench_database "${BENCH_PREFIX:-dunning_bench}" "${ARGS[@]}"
RESULT=$(mktemp)
"$VENV/bin/python" "$REPO_DIR/setup/bench.py" --database "$DB" --config "$ODOO_CONF" \
  --addons-path "$ODOO_SRC_DIR/addons,$REPO_DIR" --result "$RESULT" "${BENCH_ARGS[@]}" </dev/null
if [ "$PEER" = 1 ]; then
  PEER_DB="${BENCH_PREFIX:-dunning_bench}_peer_$$"
  EXTRA_ADDONS_PATH=$PEER_ADDONS bench_other_database "$PEER_DB" "$PEER_MODULE"
  "$VENV/bin/python" "$REPO_DIR/setup/bench_peer.py" --database "$PEER_DB" --config "$ODOO_CONF" \
    --addons-path "$ODOO_SRC_DIR/addons,$PEER_ADDONS" --version "$PEER_VERSION" \
    --ours "$RESULT" "${BENCH_ARGS[@]}" </dev/null
fi
rm -f "$RESULT"
