"""Verify the dunning communication record of a database from the command line.

    ./setup/verify.sh [--database dunning_demo] [--anchor FILE ...]

Checks every sent communication of every company (sealed, matching its seal, linked to its
customer's chain, its events intact) and every anchor (signature, key, file store copy, tips
still in place, nothing appended behind them). With --anchor, also checks anchor files kept
outside the database (the auditor's e-mail attachment): each must be an anchor the database
still holds, unchanged, whose tips are still in the record. Prints one line per problem; exit
status 0 when the record is intact, 1 otherwise.
"""
import argparse
import hashlib
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--anchor", action="append", default=[],
                        help="an anchor file kept outside the database (repeatable)")
    args = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database,
                         f"--addons-path={args.addons_path}", "--log-level=warn"])
    registry = Registry(args.database)
    problems = []
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        companies = env["res.company"].search([])
        sent = env["dunning.communication"].search_count([("state", "=", "sent")])
        anchors = env["dunning.evidence.anchor"].search_count([])
        problems += [text for _comm, _code, text in
                     env["dunning.evidence"]._dunning_verify(companies=companies)]
        Anchor = env["dunning.evidence.anchor"]
        for path in args.anchor:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            digest = hashlib.sha256(text.encode()).hexdigest()
            anchor = Anchor.search([("digest", "=", digest)], limit=1)
            if not anchor or anchor.payload != text:
                problems.append(f"{path}: no anchor with this content in the database "
                                f"(SHA-256 {digest}): deleted or changed")
                continue
            payload = json.loads(text)
            Comm = env["dunning.communication"]
            for customer, comm_id, seal in payload["tips"]:
                comm = Comm.browse(comm_id).exists()
                if not comm or comm.hash != seal:
                    problems.append(f"{path}: anchored communication {comm_id} of customer "
                                    f"{customer} is gone or changed")
        cr.rollback()
    for line in problems:
        print(f"ALTERED  {line}")
    print(f"{sent} sent communications, {anchors} anchors, {len(args.anchor)} anchor files: "
          + ("record intact" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
