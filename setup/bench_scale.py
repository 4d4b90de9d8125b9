"""Scale benchmark: the planner on a database of a million open invoices.

    ./setup/bench.sh --scale [--open 1000000] [--due 100000] [--customers 20000]
                             [--templates 3000] [--build-only] [--profile PREFIX] [--keep]
    # again on a database kept the same day (after --keep):
    $VENV/bin/python setup/bench_scale.py --database DB --config ODOO_CONF \
        --addons-path ADDONS --due 100000 --measure-only

How the database is built (in minutes, not hours; nothing of it is in the addons):

1. Through the ORM, as a user would: EUR and GBP active with rates (one rate each, so amounts
   stay right whatever the date), a payment term in two instalments (50 % at 45 days, 50 % at
   75 days: two receivable lines) next to Odoo's "45 Days", 200 customers in six countries and
   time zones (some with no time zone: their country's is used), then a few thousand real
   invoices posted in batches (USD, EUR, GBP; with and without the 15 % tax; one or two lines).
2. In SQL (setup/bench_scale_clone.py): the customers cloned up to --customers, then the
   invoices cloned up to --open: new ids from Odoo's sequences, names of a journal of their
   own, other customers, dates moved (amounts, residuals, taxes and accounts as Odoo wrote
   them). The due dates are laid out so that the planner's ``today`` sets how many are due:
   --due invoices in 10 groups a few days apart, due for a step of the shipped chain, and the
   rest (invoiced within the last days, first instalment 45 days later) not due for any step.
3. Checks, each stopping the build with a non-zero exit: the counts; on a sample of clones
   through the ORM, Odoo's ``_check_balanced``, the residuals, totals, payment state and due
   date recomputed by Odoo equal the stored ones, the receivable lines are the instalments the
   payment term gives (needed_terms); the planner's candidates are exactly the due invoices.

Measures (each in a fresh process, freezegun at the day measured, in a transaction rolled
back so that one database serves them all): plan at 10k / 100k / 1M open invoices with 10k
due, and at 10k / 50k / 100k due among 1M (with the defaults). Printed: wall and CPU time,
peak RSS of the process (getrusage; the registry alone is the "before" figure), the number of
communications planned and invoices in them (checked against the due invoices). No HTTP server
is started. The figures are read, not asserted (a benchmark, not a timed test).
"""
import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_scale_clone as clone  # noqa: E402

GROUPS, TERM_DAYS = 10, 45  # due groups; days to the first instalment of every term
COUNTRIES = [("base.es", "Europe/Madrid"), ("base.us", "America/New_York"),
             ("base.uk", "Europe/London"), ("base.de", False), ("base.jp", "Asia/Tokyo"),
             ("base.au", "Australia/Sydney")]


def say(msg):
    print(msg, flush=True)


def fail(msg):
    print(f"ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def open_env(args):
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config
    config.parse_config(["-c", args.config, "-d", args.database,
                         f"--addons-path={args.addons_path}", "--log-level=warn"])
    return odoo, Registry(args.database)


class Layout:
    """The dates. B is the latest due date of a due invoice; group k (0..G-1) is due on
    B - S*k. With ``n`` groups due the plan runs on ``day(n)``, where the chain's first step
    for every customer (``offset`` days from the due date) reaches exactly the groups G-n ..
    G-1. The planner's query looks ``reach`` days further (a step for late payers only, before
    the due date): S is larger, so that no invoice it finds is left unplanned."""

    def __init__(self, today, offset, reach):
        self.offset, self.gap = offset, offset - reach
        self.spacing = max(2, self.gap + 1)
        self.base = today - timedelta(days=offset)  # B: day(GROUPS) is today

    def day(self, n):
        return self.base - timedelta(days=self.spacing * (GROUPS - n) - self.offset)

    def group_invoice_date(self, k):
        return self.base - timedelta(days=self.spacing * k + TERM_DAYS)

    def not_due_dates(self):
        """(first, number of days): invoice dates whose first instalment is beyond the
        planner's reach on every day measured, none after the earliest of them."""
        first = self.base + timedelta(days=self.gap + 1 - TERM_DAYS)
        last = self.day(1)
        if last < first:
            fail(f"the chain's first step ({self.offset} days) leaves no room for invoices "
                 "that are not due")
        return first, (last - first).days + 1


def build_templates(env, args, layout):
    """Currencies, payment terms, template customers and invoices, through the ORM."""
    Currency = env["res.currency"].with_context(active_test=False)
    for code, rate in (("EUR", 0.92), ("GBP", 0.79)):
        currency = Currency.search([("name", "=", code)])
        currency.active = True
        env["res.currency.rate"].create({"currency_id": currency.id, "rate": rate,
                                         "name": "2000-01-01"})
    currencies = env.company.currency_id | Currency.search([("name", "in", ("EUR", "GBP"))])
    terms = env.ref("account.account_payment_term_45days") | env["account.payment.term"].create({
        "name": "Bench: 50% at 45 days, 50% at 75 days",
        "line_ids": [(0, 0, {"value": "percent", "value_amount": 50, "nb_days": TERM_DAYS}),
                     (0, 0, {"value": "percent", "value_amount": 50, "nb_days": 75})]})
    env["account.journal"].create({"name": "Benchmark clones", "code": "BNCH", "type": "sale"})
    count = min(200, args.customers)
    partners = env["res.partner"].create([{
        "name": f"Bench customer {i + 1:05d}", "ref": f"BENCH-{i + 1}", "is_company": True,
        "email": f"customer{i + 1}@bench.example.com", "street": f"Main street {i + 1}",
        "city": "Town", "country_id": env.ref(COUNTRIES[i % len(COUNTRIES)][0]).id,
        "tz": COUNTRIES[i % len(COUNTRIES)][1],
    } for i in range(count)])
    product = env["product.product"].create({"name": "Bench service", "type": "service"})
    tax = env.company.account_sale_tax_id
    invoice_date = layout.group_invoice_date(GROUPS - 1)
    made = 0
    while made < args.templates:
        vals = []
        for i in range(made, min(made + 500, args.templates)):
            lines = [(0, 0, {"product_id": product.id, "quantity": 1 + i % 3,
                             "price_unit": 50 + (i * 37) % 950,
                             "tax_ids": [(6, 0, tax.ids if i % 2 else [])]})]
            if i % 4 == 0:
                lines.append((0, 0, {"name": "Travel", "quantity": 1,
                                     "price_unit": 25 + i % 100, "tax_ids": []}))
            vals.append({"move_type": "out_invoice", "partner_id": partners[i % count].id,
                         "invoice_date": invoice_date, "ref": "bench template",
                         "currency_id": currencies[i % len(currencies)].id,
                         "invoice_payment_term_id": terms[i % 3 == 0].id,
                         "invoice_line_ids": lines})
        env["account.move"].create(vals).action_post()
        made += len(vals)
        env.cr.commit()
    return partners


def check_sample(env, size, layout_ids=None):
    """Odoo's own constraints and computations on a sample of clones and templates: raises
    (non-zero exit) at the first difference. Rolled back."""
    cr = env.cr
    cr.execute("""(SELECT id FROM account_move WHERE name LIKE 'BNCH/%%' ORDER BY random()
                   LIMIT %s) UNION (SELECT id FROM account_move WHERE ref = 'bench template'
                   ORDER BY random() LIMIT 20)""", (size,))
    ids = [row[0] for row in cr.fetchall()]
    Move = env["account.move"]
    sample = Move.browse(ids)
    with sample._check_balanced({"records": sample}):
        balanced = len(sample)
    move_fields = ["amount_total", "amount_residual", "amount_residual_signed", "payment_state",
                   "invoice_date_due", "commercial_partner_id"]
    line_fields = ["amount_residual", "amount_residual_currency", "reconciled"]
    cr.execute(f"SELECT id, {', '.join(move_fields)} FROM account_move WHERE id = ANY(%s)",
               (ids,))
    stored = {row[0]: row[1:] for row in cr.fetchall()}
    cr.execute(f"SELECT id, {', '.join(line_fields)}, date_maturity, amount_currency "
               "FROM account_move_line WHERE move_id = ANY(%s) AND display_type = 'payment_term'",
               (ids,))
    stored_lines = {row[0]: row[1:] for row in cr.fetchall()}
    env.invalidate_all()
    lines = sample.line_ids.filtered(lambda line: line.display_type == "payment_term")
    for name in move_fields:
        env.add_to_compute(Move._fields[name], sample)
    for name in line_fields:
        env.add_to_compute(lines._fields[name], lines)
    mismatches = []
    for move in sample:
        got = (move.amount_total, move.amount_residual, move.amount_residual_signed,
               move.payment_state, move.invoice_date_due, move.commercial_partner_id.id)
        want = stored[move.id]
        if any(round(float(a), 2) != round(float(b), 2) if isinstance(a, float) else a != b
               for a, b in zip(got, want)):
            mismatches.append(f"{move.name}: computed {got}, stored {want}")
        terms = sorted((k["date_maturity"], round(v["amount_currency"], 2))
                       for k, v in move.needed_terms.items())
        actual = sorted((stored_lines[line.id][3], round(float(stored_lines[line.id][4]), 2))
                        for line in move.line_ids if line.display_type == "payment_term")
        if terms != actual:
            mismatches.append(f"{move.name}: instalments {actual}, payment term gives {terms}")
    for line in lines:
        got = (line.amount_residual, line.amount_residual_currency, line.reconciled)
        want = stored_lines[line.id][:3]
        if (round(got[0], 2), round(got[1], 2), got[2]) != (round(float(want[0]), 2),
                                                           round(float(want[1]), 2), want[2]):
            mismatches.append(f"line {line.id}: computed {got}, stored {want}")
    cr.rollback()
    if mismatches:
        fail("the sample differs from what Odoo computes:\n  " + "\n  ".join(mismatches[:20]))
    say(f"  sample of {balanced} invoices ({len(lines)} receivable lines): balanced "
        "(_check_balanced), residuals, totals, payment state, due dates and instalments as "
        "Odoo recomputes them")


def check_candidates(env, layout, groups_due, expected):
    found = len(env["dunning.plan"]._dunning_candidates(layout.day(groups_due), env.company))
    if found != expected:
        fail(f"the planner sees {found} candidates on {layout.day(groups_due)}, "
             f"expected {expected}")
    say(f"  planner candidates on {layout.day(groups_due)}: {found} (as laid out)")


def vacuum(args):
    import psycopg2
    from odoo.tools import config
    conn = psycopg2.connect(dbname=args.database, host=config["db_host"] or None,
                            port=config["db_port"] or None, user=config["db_user"],
                            password=config["db_password"])
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in ("res_partner", "account_move", "account_move_line",
                      "account_move_line_account_tax_rel",
                      "account_account_tag_account_move_line_rel"):
            cur.execute(f"VACUUM ANALYZE {table}")
    conn.close()


def measure(args, day, expect, label):
    """Run the plan in a fresh process; returns its figures (dict), None with --build-only."""
    if args.build_only:
        return None
    cmd = [sys.executable, os.path.abspath(__file__), "--database", args.database,
           "--config", args.config, "--addons-path", args.addons_path,
           "--measure", day.isoformat(), "--expect", str(expect)]
    if args.profile:
        cmd += ["--profile", f"{args.profile}.{label}"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode:
        fail(f"the plan measured on {day} failed (exit {out.returncode})")
    say(f"  plan: {out.stdout.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_measure(args):
    odoo, registry = open_env(args)
    from freezegun import freeze_time
    day = date.fromisoformat(args.measure)
    # the clock is moved to the day measured when it is not today (freezegun: a few seconds
    # more per 100,000 invoices planned, in the datetime calls of the moments)
    clock = freeze_time(f"{day} 10:00:00", tick=True) if day != date.today() \
        else contextlib.nullcontext()
    with clock, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        cr.execute("SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' AND "
                   "state = 'posted' AND payment_state IN ('not_paid', 'partial')")
        open_count = cr.fetchone()[0]
        env.invalidate_all()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        profiler = None
        if args.profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        cpu0, t0 = time.process_time(), time.perf_counter()
        comms = env["dunning.plan"].with_context(
            allowed_company_ids=[company.id])._dunning_plan(companies=company)
        env.flush_all()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cr.execute("SELECT count(*), count(DISTINCT move_id) FROM dunning_communication_line "
                   "WHERE communication_id = ANY(%s)", (comms.ids,))
        lines, moves = cr.fetchone()
        cr.execute("SELECT count(DISTINCT partner_id) FROM dunning_communication "
                   "WHERE id = ANY(%s)", (comms.ids,))
        customers = cr.fetchone()[0]
        cr.rollback()
    result = {"day": str(day), "open": open_count, "due": moves, "wall": round(wall, 2),
              "cpu": round(cpu, 2), "rss_before": round(rss_before), "rss_peak": round(rss),
              "communications": len(comms), "lines": lines, "customers": customers}
    print(json.dumps(result), flush=True)
    if moves != args.expect:
        print(f"ERROR: {moves} invoices planned, {args.expect} due", file=sys.stderr)
        os._exit(1)
    os._exit(0)


def print_results(results):
    say("\nplan (one process each, rolled back)")
    say(f"{'':11} {'open':>9} {'due':>8} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7} "
        f"{'(before)':>8} {'comms':>7} {'customers':>9}")
    for label, r in results:
        say(f"{label:11} {r['open']:9d} {r['due']:8d} {r['wall']:7.2f} {r['cpu']:6.2f} "
            f"{r['rss_peak']:7d} {r['rss_before']:8d} {r['communications']:7d} "
            f"{r['customers']:9d}")
    say("targets: 1M open / 100k due < 20 s wall, peak RSS < 1 GB; flat in open, linear in due")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--open", type=int, default=1_000_000, help="open invoices in the end")
    parser.add_argument("--due", type=int, default=100_000, help="of which due for a step")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--templates", type=int, default=3000,
                        help="invoices made through the ORM (cloned in SQL up to --open)")
    parser.add_argument("--sample", type=int, default=300, help="clones checked by the ORM")
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile of each plan to PREFIX.*")
    parser.add_argument("--build-only", action="store_true", help="no plan measured (use --keep)")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the plan at M/10, M/2, M due on a database built before "
                             "(with the same --due, the same day)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return run_measure(args)
    step = args.due // GROUPS
    if (step < args.templates and not args.measure_only) or args.due % GROUPS:
        fail(f"--due must be a multiple of {GROUPS} with --due/{GROUPS} >= --templates")
    sizes = [step, GROUPS * step, args.open]
    if args.open < sizes[1] + args.due - step:
        fail(f"--open must be at least {sizes[1] + args.due - step} with --due {args.due}")

    odoo, registry = open_env(args)
    phases = []
    results = []

    def phase(name, started):
        phases.append((name, time.perf_counter() - started))
        say(f"phase {name}: {phases[-1][1]:.1f} s")

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Level = env["dunning.level"]
        steps = [("count_from", "=", "due"), ("policy_id.kind", "=", "overdue")]
        reach = Level.search(steps, order="offset_days", limit=1).offset_days or 0
        first = Level.search(steps + [("late_payers_only", "=", False),
                                      ("segment_ids", "=", False)],
                             order="offset_days", limit=1).offset_days or 0
        layout = Layout(date.today(), first, reach)
        if args.measure_only:
            for n in (1, GROUPS // 2, GROUPS):
                results.append(("due sweep", measure(args, layout.day(n), step * n, f"m{n}")))
            print_results(results)
            os._exit(0)
        first_nd, nd_days = layout.not_due_dates()
        say(f"layout: {GROUPS} groups of {step} due invoices, the earliest step at "
            f"{layout.offset:+d} days, {layout.spacing} days apart; plans on {layout.day(1)} "
            f"({step} due), "
            f"{layout.day(GROUPS // 2)} ({step * GROUPS // 2}), {layout.day(GROUPS)} "
            f"({args.due}); not due: invoiced {first_nd} + 0..{nd_days - 1} days")
        t0 = time.perf_counter()
        build_templates(env, args, layout)
        phase(f"ORM: {args.templates} invoices, {min(200, args.customers)} customers, "
              "currencies, terms", t0)
        t0 = time.perf_counter()
        template_partners = env["res.partner"].search([("ref", "=like", "BENCH-%")]).ids
        clone.clone_partners(cr, template_partners, args.customers - len(template_partners),
                             len(template_partners) + 1)
        cr.commit()
        ntmpl, npartners = clone.prepare(cr)
        cr.commit()
        journal = env["account.journal"].search([("code", "=", "BNCH")]).id
        phase(f"SQL: customers cloned to {npartners}", t0)

        cloned = 0

        def clone_some(count, date_expr, params):
            nonlocal cloned
            expr = cr.mogrify(date_expr, params).decode().replace("%", "%%")
            clone.clone_invoices(cr, journal, cloned, count, expr, ntmpl, npartners, say=say)
            cloned += count

        def check(groups_due, label):
            t0 = time.perf_counter()
            vacuum(args)
            found = clone.counts(cr)
            say(f"  counts: {found}")
            every = ntmpl + cloned >= npartners  # clone i's customer: i * 7919 mod C
            if (found["open"] != ntmpl + cloned or found["not_paid"] != found["open"]
                    or (every and found["customers"] != npartners)):
                fail(f"expected {ntmpl + cloned} open invoices, not paid"
                     + (f", of {npartners} customers" if every else ""))
            check_sample(env, args.sample)
            check_candidates(env, layout, groups_due, step * groups_due)
            phase(f"checks at {label}", t0)

        # 1. the first due group, up to 10k open (all due)
        t0 = time.perf_counter()
        clone_some(step - ntmpl, "%s::date", (layout.group_invoice_date(GROUPS - 1),))
        phase(f"SQL: {step - ntmpl} due clones", t0)
        check(1, f"{step} open")
        results.append(("open sweep", measure(args, layout.day(1), step, "a")))
        # 2. not due up to 10x
        t0 = time.perf_counter()
        clone_some(sizes[1] - step, "%s::date + i %% %s", (first_nd, nd_days))
        phase(f"SQL: {sizes[1] - step} not-due clones", t0)
        check(1, f"{sizes[1]} open")
        results.append(("open sweep", measure(args, layout.day(1), step, "b")))
        # 3. the other due groups, then not due up to --open
        t0 = time.perf_counter()
        for k in range(GROUPS - 1):
            clone_some(step, "%s::date", (layout.group_invoice_date(k),))
        clone_some(args.open - cloned - ntmpl, "%s::date + i %% %s", (first_nd, nd_days))
        phase(f"SQL: {args.open - sizes[1]} more clones ({args.due - step} due)", t0)
        for n in (1, GROUPS // 2, GROUPS):
            check_candidates(env, layout, n, step * n)
        check(GROUPS, f"{args.open} open")
        for n in (1, GROUPS // 2, GROUPS):
            results.append(("open sweep" if n == 1 else "due sweep",
                            measure(args, layout.day(n), step * n, f"c{n}")))

    say("\nbuild phases (s): " + "; ".join(f"{name}: {secs:.1f}" for name, secs in phases))
    say(f"build total (after the install): {sum(s for _n, s in phases):.1f} s")
    print_results([r for r in results if r[1]])
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
