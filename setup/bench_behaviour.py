"""Benchmark parts for the customers by behaviour (used by bench.py):

* ``--rating-customers N``: a paid history for N more customers, written straight in SQL (five
  paid invoices each over the last year, with the reminders sent before the payments: 60 % pay
  on time, 20 % after the +7 e-mail, 15 % after the +7 e-mail and the +15 call, 5 % dispute
  two invoices), then the time of the nightly payer ratings (every customer, twice: first
  computation, then the update of existing rows) and of one customer's recompute (what a
  payment triggers);
* ``--segments``: the planner's time with and without segments in the same run, alternated
  (without, with, without, with; each run rolled back): three segments (rated D, Spanish
  customers owing over 2,000, tagged VIP) choosing copies of the benchmark policy, a level of
  the benchmark policy limited to VIP, a tenth of the customers tagged VIP and a tenth with no
  letters (in both runs).
"""
import time
from datetime import timedelta

INVOICES_PER_CUSTOMER = 5


def synth_history(env, count, today):
    """N customers, each with five paid invoices (and the reminders before their payment) in
    the last year. Plain SQL: the ORM would take an hour to post and pay 100,000 invoices, and
    the rating only reads these columns."""
    cr = env.cr
    company = env.company
    journal = env["account.journal"].search([("type", "=", "sale"),
                                             ("company_id", "=", company.id)], limit=1)
    currency = company.currency_id.id
    receivable = env["account.account"].search([("account_type", "=", "asset_receivable"),
                                                ("company_ids", "in", company.id)], limit=1).id
    policy = env.ref("dunning_chain.policy_default")
    level_email = policy.level_ids.filtered(lambda lvl: lvl.offset_days == 7)
    level_call = policy.level_ids.filtered(lambda lvl: lvl.offset_days == 15)
    cr.execute("""
        INSERT INTO res_partner (name, active, is_company, type, autopost_bills,
                                 dunning_customer_kind, email, create_date, write_date)
        SELECT 'Rated customer ' || lpad(i::text, 6, '0'), TRUE, TRUE, 'contact', 'ask', 'auto',
               'rated' || i || '@bench.example.com', now(), now()
          FROM generate_series(1, %s) i RETURNING id""", [count])
    partner_ids = [row[0] for row in cr.fetchall()]
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)",
               [partner_ids])
    moves = []  # (partner, due, paid, kind) kind: on_time / first / call / dispute
    for index, partner_id in enumerate(partner_ids):
        share = index % 20  # 12 of 20 on time, 4 after the e-mail, 3 after the call, 1 disputes
        kind = ("on_time" if share < 12 else "first" if share < 16 else "call" if share < 19
                else "dispute")
        for k in range(INVOICES_PER_CUSTOMER):
            due = today - timedelta(days=30 + 60 * k + index % 7)
            late = {"on_time": 0, "first": 9, "call": 20, "dispute": 0}[kind]
            moves.append((partner_id, due, due + timedelta(days=late), kind))
    cr.execute("""
        INSERT INTO account_move (name, journal_id, company_id, currency_id, state, move_type,
                                  auto_post, date, invoice_date, invoice_date_due, partner_id,
                                  commercial_partner_id, payment_state, dunning_dispute_state,
                                  create_date, write_date)
        SELECT 'BENCH/' || n, %s, %s, %s, 'posted', 'out_invoice', 'no', due - 30, due - 30,
               due, p, p, 'paid', d, now(), now()
          FROM unnest(%s::int[], %s::date[], %s::varchar[], %s::int[]) AS t(p, due, d, n)
        RETURNING id""", [journal.id, company.id, currency, [m[0] for m in moves],
                          [m[1] for m in moves],
                          ["rejected" if m[3] == "dispute" and i % 5 < 2 else "none"
                           for i, m in enumerate(moves)],
                          list(range(len(moves)))])
    move_ids = [row[0] for row in cr.fetchall()]
    cr.execute("""
        INSERT INTO account_move_line (move_id, company_id, currency_id, account_id,
                                       display_type, date_maturity, partner_id, create_date,
                                       write_date)
        SELECT m, %s, %s, %s, 'payment_term', due, p, now(), now()
          FROM unnest(%s::int[], %s::date[], %s::int[]) AS t(m, due, p) RETURNING id""",
               [company.id, currency, receivable, move_ids, [m[1] for m in moves],
                [m[0] for m in moves]])
    line_ids = [row[0] for row in cr.fetchall()]
    # the payments: one counterpart line for all (the rating reads the partials' dates)
    cr.execute("""
        INSERT INTO account_move (name, journal_id, company_id, currency_id, state, move_type,
                                  auto_post, date, create_date, write_date)
        VALUES ('BENCH/PAY', %s, %s, %s, 'posted', 'entry', 'no', %s, now(), now())
        RETURNING id""", [journal.id, company.id, currency, today])
    cr.execute("""
        INSERT INTO account_move_line (move_id, company_id, currency_id, account_id,
                                       display_type, create_date, write_date)
        VALUES (%s, %s, %s, %s, 'payment_term', now(), now()) RETURNING id""",
               [cr.fetchone()[0], company.id, currency, receivable])
    credit = cr.fetchone()[0]
    cr.execute("""
        INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, max_date,
                                               company_id, create_date, write_date)
        SELECT l, %s, paid, %s, now(), now() FROM unnest(%s::int[], %s::date[]) AS t(l, paid)
    """, [credit, company.id, line_ids, [m[2] for m in moves]])
    # the reminders sent before the payments
    comms = []  # (partner, level, channel, sent, move)
    for move_id, (partner_id, due, _paid, kind) in zip(move_ids, moves):
        if kind in ("first", "call"):
            comms.append((partner_id, level_email.id, "email", due + timedelta(days=7), move_id))
        if kind == "call":
            comms.append((partner_id, level_call.id, "call", due + timedelta(days=15), move_id))
    cr.execute("""
        INSERT INTO dunning_communication (name, company_id, partner_id, policy_id, level_id,
                                           channel, state, kind, sent_at, scheduled_at,
                                           delivery_state, create_date, write_date)
        SELECT 'BENCH-' || m, %s, p, %s, lv, ch, 'sent', 'reminder', sent + time '10:00',
               sent + time '10:00', 'sent', now(), now()
          FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::date[], %s::int[])
               AS t(p, lv, ch, sent, m)
        RETURNING id""", [company.id, policy.id, *(list(col) for col in zip(*comms))])
    comm_ids = [row[0] for row in cr.fetchall()]
    cr.execute("""
        INSERT INTO dunning_communication_line (communication_id, move_id, is_open)
        SELECT c, m, FALSE FROM unnest(%s::int[], %s::int[]) AS t(c, m)""",
               [comm_ids, [c[4] for c in comms]])
    cr.execute("ANALYZE account_move; ANALYZE account_move_line; "
               "ANALYZE account_partial_reconcile; ANALYZE dunning_communication; "
               "ANALYZE dunning_communication_line")
    env.invalidate_all()
    return env["res.partner"].browse(partner_ids), len(moves), len(comm_ids)


def bench_ratings(env, count, today):
    cr = env.cr
    t0 = time.perf_counter()
    partners, invoices, comms = synth_history(env, count, today)
    cr.commit()
    print(f"rating data: {count} customers, {invoices} paid invoices, {comms} reminders sent "
          f"(SQL) in {time.perf_counter() - t0:.1f} s", flush=True)
    Rating = env["dunning.payer.rating"]
    for label in ("first", "update"):
        env.invalidate_all()
        cpu0, t0 = time.process_time(), time.perf_counter()
        rows = Rating._cron_dunning_compute_ratings()
        cr.commit()
        print(f"ratings nightly ({label}): {rows} rows in {time.perf_counter() - t0:.2f} s wall "
              f"({time.process_time() - cpu0:.2f} s CPU)", flush=True)
    spread = dict(Rating._read_group([], ["rating"], ["__count"]))
    print(f"ratings: {spread}", flush=True)
    one = partners[len(partners) // 2]
    timings = []
    for _i in range(5):
        t0 = time.perf_counter()
        Rating._dunning_compute(one, env.company)
        timings.append(time.perf_counter() - t0)
    cr.commit()
    print(f"rating of one customer (on payment): best {min(timings) * 1000:.1f} ms, "
          f"worst {max(timings) * 1000:.1f} ms of 5", flush=True)


def bench_segments(env, policy, partners, plan):
    """Plan alternately without and with segments (each run rolled back)."""
    cr = env.cr
    vip = env["res.partner.category"].create({"name": "VIP"})
    spain = env.ref("base.es")
    partners[::10].write({"category_id": [(4, vip.id)]})
    partners[5::10].write({"dunning_no_letter": True})
    strict = policy.copy({"name": "Benchmark strict"})
    big = policy.copy({"name": "Benchmark big debts"})
    Segment = env["dunning.segment"]
    segments = Segment.create([
        {"name": "Rated D", "rating_d": True, "policy_id": strict.id},
        {"name": "Spanish, over 2,000", "country_ids": [(6, 0, spain.ids)],
         "amount_min": 2000.0, "policy_id": big.id},
        {"name": "VIP", "category_ids": [(6, 0, vip.ids)]},
    ])
    template = policy.level_ids.channel_ids.mail_template_id[:1]
    vip_level = env["dunning.level"].create({
        "policy_id": policy.id, "name": "VIP courtesy", "offset_days": 45,
        "segment_ids": [(6, 0, segments[2].ids)],
        "channel_ids": [(0, 0, {"channel": "email", "mail_template_id": template.id})]})
    cr.commit()
    for with_segments in (False, True, False, True):
        segments.write({"active": with_segments})
        vip_level.active = with_segments
        cr.commit()
        env.invalidate_all()
        cpu0, t0 = time.process_time(), time.perf_counter()
        comms = plan()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        policies = dict(env["dunning.communication"]._read_group(
            [("id", "in", comms.ids)], ["policy_id"], ["__count"]))
        print(f"plan {'with' if with_segments else 'without'} segments: {len(comms)} "
              f"communications in {wall:.2f} s wall ({cpu:.2f} s CPU), by policy "
              f"{ {p.name: n for p, n in policies.items()} }", flush=True)
        cr.rollback()
    segments.write({"active": False})
    vip_level.active = False
    cr.commit()
