"""Benchmark of the Insight facts and dashboard at scale.

    ./setup/bench_insight.sh [--invoices 25000] [--customers 2500] [--keep]

Generates N posted invoices over M customers: 500 through the ORM (invoice dates over the
last 13 months, due 30 days later, about 60 % paid by registered payments), copied in SQL with
their payments' entries and reconciliations (another customer, dates moved up to 30 days
earlier) up to N; then four sent reminders per invoice (+0 e-mail, +7 e-mail, +15 call, +30
letter, none after the invoice was paid; written in SQL like a history: about 100,000 rows
of facts for 32,000 invoices).
Then prints, with the wall time of each:
  * backfill: the facts of those messages (the nightly job's path: insert + refresh);
  * a payment: one invoice paid, the rows the refresh wrote (only that invoice's) and its
    cost; the refresh of one invoice alone, of one customer's invoices;
  * disputes (rows marked);
  * the dashboard's figures (dunning.insight.dunning_dashboard_data, what the client action
    loads) and the pivot's read_group (step x channel, weekday x hour).
Nothing is asserted: figures to read.
"""
import argparse
import os
import random
import sys
import time
from datetime import date, timedelta


def timed(label, func, *args, **kwargs):
    t0 = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label}: {(time.perf_counter() - t0) * 1000:.0f} ms", flush=True)
    return result


def time_dashboard(env, company=None):
    """The dashboard's figures (dunning.insight.dunning_dashboard_data, the one call its client
    action makes), timed on the server: a first call on cold caches and a second, with the
    number of facts they read. Used by bench.py after its send too."""
    Insight = env["dunning.insight"]
    if company:
        Insight = Insight.with_context(allowed_company_ids=[company.id])
    facts = env["dunning.fact"].search_count([])
    for attempt in ("first", "second"):
        env.invalidate_all()
        timed(f"dashboard figures ({attempt} call, {facts} facts)",
              Insight.dunning_dashboard_data)


def make_templates(env, args, today):
    """Customers; template invoices through the ORM (60 % paid by registered payments, a
    batch per payment date). Returns the partners and the template invoices."""
    cr = env.cr
    t0 = time.perf_counter()
    tzs = ["Europe/Madrid", "America/New_York", "Europe/Berlin", "UTC"]
    partners = env["res.partner"].create([{
        "name": f"Bench customer {i:05d}", "email": f"customer{i}@bench.example.com",
        "is_company": True, "tz": tzs[i % len(tzs)],
    } for i in range(args.customers)])
    product = env["product.product"].create({"name": "Bench service", "type": "service"})
    invoices = env["account.move"]
    for start in range(0, args.templates, 500):
        vals = []
        for i in range(start, min(start + 500, args.templates)):
            day = today - timedelta(days=61 + (i * 7919) % 365)
            vals.append({
                "move_type": "out_invoice", "partner_id": partners[i % len(partners)].id,
                "invoice_date": day, "invoice_date_due": day + timedelta(days=30),
                "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1,
                                             "price_unit": 100 + i % 900, "tax_ids": []})],
            })
        moves = env["account.move"].create(vals)
        for move, val in zip(moves, vals):
            move.invoice_date_due = val["invoice_date_due"]
        moves.action_post()
        invoices |= moves
        cr.commit()
    by_day = {}
    for move in invoices:
        if random.random() < 0.6:
            pay_day = min(move.invoice_date_due + timedelta(days=random.randint(-5, 45)),
                          today - timedelta(days=31))
            by_day[pay_day] = by_day.get(pay_day, env["account.move"]) | move
    for pay_day, moves in sorted(by_day.items()):
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves.ids).create(
            {"payment_date": pay_day, "group_payment": False})._create_payments()
        cr.commit()
    print(f"data: {len(invoices)} template invoices ({sum(len(m) for m in by_day.values())} "
          f"paid) through the ORM in {time.perf_counter() - t0:.0f} s", flush=True)
    return partners, invoices


def clone(env, partners, templates, copies):
    """``copies`` copies of the template invoices, their payments' entries and their
    reconciliations, in SQL: another customer, dates moved 0 to 30 days earlier."""
    from odoo.tools import SQL

    cr = env.cr
    t0 = time.perf_counter()

    def columns(table):
        cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "AND column_name != 'id' ORDER BY ordinal_position", [table])
        return [row[0] for row in cr.fetchall()]

    cr.execute(SQL(
        """CREATE TEMP TABLE bench_partner AS
               SELECT row_number() OVER (ORDER BY id) - 1 AS pos, id FROM res_partner
                WHERE id = ANY(%(ids)s);
           CREATE TEMP TABLE bench_move AS
               SELECT DISTINCT m.id FROM account_move m WHERE m.id = ANY(%(ids2)s)
               UNION SELECT DISTINCT cl.move_id
                 FROM account_move_line il
                 JOIN account_partial_reconcile apr ON apr.debit_move_id = il.id
                 JOIN account_move_line cl ON cl.id = apr.credit_move_id
                WHERE il.move_id = ANY(%(ids2)s);
           CREATE TEMP TABLE bench_copy AS
               SELECT c, (c * 7) %% 31 AS shift FROM generate_series(1, %(copies)s) c;
           CREATE TEMP TABLE bench_move_map AS
               SELECT bc.c, bc.shift, m.id AS old_id, nextval('account_move_id_seq') AS new_id
                 FROM bench_copy bc CROSS JOIN bench_move m;
           CREATE TEMP TABLE bench_line_map AS
               SELECT mm.c, l.id AS old_id, nextval('account_move_line_id_seq') AS new_id,
                      mm.new_id AS move_id
                 FROM bench_move_map mm JOIN account_move_line l ON l.move_id = mm.old_id;
           CREATE TEMP TABLE bench_partner_map AS
               SELECT bc.c, p.id AS old_id, q.id AS new_id
                 FROM bench_copy bc CROSS JOIN bench_partner p
                 JOIN bench_partner q ON q.pos = (p.pos + bc.c) %% (SELECT count(*) FROM bench_partner);
        """, ids=partners.ids, ids2=templates.ids, copies=copies))
    shifted = {"date", "invoice_date", "invoice_date_due", "date_maturity", "max_date",
               "invoice_date_due"}
    partnered = {"partner_id", "commercial_partner_id", "partner_shipping_id"}
    for table, map_table, extra in (("account_move", "bench_move_map", {}),
                                    ("account_move_line", "bench_line_map", {})):
        cols = columns(table)
        select = []
        for col in cols:
            if col in shifted:
                select.append(SQL("t.%s - mm.shift", SQL.identifier(col)) if table == "account_move"
                              else SQL("t.%s - mv.shift", SQL.identifier(col)))
            elif col in partnered:
                select.append(SQL("COALESCE(pm_%s.new_id, t.%s)", SQL(col), SQL.identifier(col)))
            elif col == "name" and table == "account_move":
                select.append(SQL("t.name || '/C' || mm.c"))
            elif col == "move_name":
                select.append(SQL("t.move_name || '/C' || mm.c"))
            elif col == "move_id":
                select.append(SQL("mm.move_id"))
            elif col in ("matching_number", "full_reconcile_id", "statement_line_id"):
                select.append(SQL("NULL"))
            else:
                select.append(SQL("t.%s", SQL.identifier(col)))
        joins = SQL(" ").join(
            SQL("LEFT JOIN bench_partner_map pm_%s ON pm_%s.c = mm.c AND pm_%s.old_id = t.%s",
                SQL(col), SQL(col), SQL(col), SQL.identifier(col))
            for col in partnered if col in cols)
        shift_join = SQL("JOIN bench_move_map mv ON mv.c = mm.c AND mv.new_id = mm.move_id") \
            if table == "account_move_line" else SQL("")
        cr.execute(SQL(
            "INSERT INTO %(table)s (id, %(cols)s) SELECT mm.new_id, %(select)s "
            "FROM %(map)s mm JOIN %(table)s t ON t.id = mm.old_id %(shift)s %(joins)s",
            table=SQL.identifier(table), cols=SQL(", ").join(SQL.identifier(c) for c in cols),
            select=SQL(", ").join(select), map=SQL.identifier(map_table), shift=shift_join,
            joins=joins))
    cols = [c for c in columns("account_partial_reconcile")
            if c not in ("debit_move_id", "credit_move_id", "max_date", "full_reconcile_id")]
    cr.execute(SQL(
        """INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, max_date, %(cols)s)
           SELECT dm.new_id, cm.new_id, apr.max_date - mv.shift, %(select)s
             FROM account_partial_reconcile apr
             JOIN bench_line_map dm ON dm.old_id = apr.debit_move_id
             JOIN bench_line_map cm ON cm.old_id = apr.credit_move_id AND cm.c = dm.c
             JOIN bench_move_map mv ON mv.new_id = dm.move_id""",
        cols=SQL(", ").join(SQL.identifier(c) for c in cols),
        select=SQL(", ").join(SQL("apr.%s", SQL.identifier(c)) for c in cols)))
    cr.execute("SELECT new_id FROM bench_move_map mm JOIN account_move m ON m.id = mm.old_id "
               "WHERE m.move_type = 'out_invoice'")
    ids = [row[0] for row in cr.fetchall()]
    cr.commit()
    env.invalidate_all()
    print(f"data: {len(ids)} invoices (and their payments) copied in SQL in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    return templates | env["account.move"].browse(ids)


def make_history(env, invoices, today):
    """Four sent reminders per overdue invoice, in SQL. Returns their ids."""
    from odoo.tools import SQL

    cr = env.cr
    policy = env.ref("dunning_chain.policy_default")
    levels = {lvl.offset_days: lvl for lvl in policy._levels_by_offset()}
    t0 = time.perf_counter()
    comm_ids = []
    for offset, channel in [(0, "email"), (7, "email"), (15, "call"), (30, "letter")]:
        cr.execute(SQL(
            """INSERT INTO dunning_communication
                   (name, company_id, partner_id, policy_id, level_id, channel, state, kind,
                    currency_id, amount_total, scheduled_at, sent_at, delivery_state,
                    partner_tz, chain_partner_id)
               SELECT 'BENCH/' || m.id || '/' || %(offset)s, m.company_id,
                      m.commercial_partner_id, %(policy)s, %(level)s, %(channel)s, 'sent',
                      'reminder', co.currency_id, m.amount_total_signed,
                      m.invoice_date_due + %(offset)s + time '07:00' + (m.id %% 10) * interval '1 hour',
                      m.invoice_date_due + %(offset)s + time '07:00' + (m.id %% 10) * interval '1 hour',
                      'sent', p.tz, m.commercial_partner_id
                 FROM account_move m JOIN res_partner p ON p.id = m.commercial_partner_id
                 JOIN res_company co ON co.id = m.company_id
                WHERE m.id = ANY(%(ids)s) AND m.invoice_date_due + %(offset)s < %(today)s
                  AND m.move_type = 'out_invoice'
                  -- not when it was paid before the step
                  AND NOT EXISTS (
                      SELECT 1 FROM account_move_line il
                        JOIN account_partial_reconcile apr ON apr.debit_move_id = il.id
                       WHERE il.move_id = m.id AND m.payment_state IN ('paid', 'in_payment')
                       GROUP BY il.move_id
                      HAVING MAX(apr.max_date) < m.invoice_date_due + %(offset)s)
            RETURNING id""",
            offset=offset, policy=policy.id, level=levels[offset].id, channel=channel,
            ids=invoices.ids, today=today))
        ids = [row[0] for row in cr.fetchall()]
        comm_ids += ids
        cr.execute(SQL(
            """INSERT INTO dunning_communication_line
                   (communication_id, move_id, due_date, currency_id, amount_total,
                    amount_residual, amount_overdue, amount_residual_company, is_open)
               SELECT c.id, m.id, m.invoice_date_due, m.currency_id, m.amount_total,
                      m.amount_total, m.amount_total, m.amount_total_signed, TRUE
                 FROM dunning_communication c
                 JOIN account_move m ON m.id = split_part(c.name, '/', 2)::int
                WHERE c.id = ANY(%(ids)s)""", ids=ids))
    cr.commit()
    print(f"data: {len(comm_ids)} sent reminders in {time.perf_counter() - t0:.1f} s",
          flush=True)
    return comm_ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--invoices", type=int, default=32000)
    parser.add_argument("--customers", type=int, default=3200)
    parser.add_argument("--templates", type=int, default=500,
                        help="invoices made through the ORM, then copied in SQL up to N")
    args = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database,
                         f"--addons-path={args.addons_path}", "--log-level=warn"])
    random.seed(42)
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        today = date.today()
        partners, templates = make_templates(env, args, today)
        invoices = clone(env, partners, templates, max(0, args.invoices // args.templates - 1))
        comm_ids = make_history(env, invoices, today)

        # --- backfill: the nightly job's path ---------------------------------------------
        Fact = env["dunning.fact"]
        t0 = time.perf_counter()
        Fact._cron_dunning_fact_backfill()
        cr.commit()
        count = Fact.search_count([])
        print(f"backfill (the nightly job): {count} facts of {len(comm_ids)} reminders in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        timed("nightly job with nothing to add", Fact._cron_dunning_fact_backfill)

        # --- a payment: only that invoice's rows ------------------------------------------
        unpaid = env["account.move"].search([("id", "in", invoices.ids),
                                             ("payment_state", "=", "not_paid")], limit=6)
        move = unpaid[0]
        own = Fact.search_count([("move_id", "=", move.id)])
        calls = []
        refresh = type(Fact)._dunning_fact_refresh

        def spy(model, move_ids):
            t1 = time.perf_counter()
            result = refresh(model, move_ids)
            calls.append((len(move_ids), len(result), time.perf_counter() - t1))
            return result

        type(Fact)._dunning_fact_refresh = spy
        t0 = time.perf_counter()
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create(
            {"payment_date": today})._create_payments()
        cr.commit()
        t_pay = time.perf_counter() - t0
        type(Fact)._dunning_fact_refresh = refresh
        print(f"payment of one invoice ({own} rows of facts of {count}): registered and "
              f"committed in {t_pay * 1000:.0f} ms, of which the facts' refresh "
              f"{sum(c[2] for c in calls) * 1000:.1f} ms; refreshes (invoices, rows written): "
              f"{[(c[0], c[1]) for c in calls]}", flush=True)
        t0 = time.perf_counter()
        for _i in range(20):
            Fact._dunning_fact_refresh(move.ids)
        print(f"refresh of one invoice alone: {(time.perf_counter() - t0) / 20 * 1000:.2f} ms",
              flush=True)
        customer_moves = env["account.move"].search([
            ("commercial_partner_id", "=", move.commercial_partner_id.id),
            ("id", "in", invoices.ids)])
        t0 = time.perf_counter()
        Fact._dunning_fact_refresh(customer_moves.ids)
        print(f"refresh of a customer's {len(customer_moves)} invoices: "
              f"{(time.perf_counter() - t0) * 1000:.1f} ms", flush=True)
        t0 = time.perf_counter()
        rows = Fact._dunning_fact_mark(unpaid[1:].ids, "disputed")
        print(f"disputes of {len(unpaid) - 1} invoices: {len(rows)} rows marked in "
              f"{(time.perf_counter() - t0) * 1000:.1f} ms", flush=True)
        cr.rollback()

        # --- the dashboard and the pivot ---------------------------------------------------
        time_dashboard(env)
        timed("pivot step x channel (asked, paid 7 d, recovery 7/30 %, median days)",
              Fact.formatted_read_group, [], ["level_id", "channel"],
              ["amount_asked:sum", "paid_7:sum", "recovery_7:avg", "recovery_30:avg",
               "days_to_pay:avg"])
        timed("pivot weekday x hour (recovery 7 %)", Fact.formatted_read_group, [],
              ["sent_weekday", "sent_hour"], ["recovery_7:avg"])
        cr.commit()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
