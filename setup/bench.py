"""Benchmark of the dunning run: planning, then sending e-mail plus PDF letter.

    ./setup/bench.sh --invoices 2000 --customers 200        (wrapper: fresh database, then this)
    ./setup/bench.sh --segments --rating-customers 20000    (and the customers by behaviour)

Generates N overdue posted invoices spread over M customers (in batches through the ORM, like
real invoices), then times, separately:
  * plan:  dunning.plan._dunning_plan() over every overdue invoice;
  * send:  the planned communications of a level that has two channels, e-mail and a PDF letter
           (one of each per customer: the debt summary), sent through _dunning_send_due().
It prints wall time, CPU time, the number of records and peak memory (Python heap via
tracemalloc is not used: it slows the ORM; peak RSS of this process and of its children, the
wkhtmltopdf processes, from getrusage). Nothing is asserted: these are figures to read.
"""
import argparse
import os
import resource
import socket
import sys
import time
from datetime import date, timedelta


def rss_mb(who):
    return resource.getrusage(who).ru_maxrss / 1024.0


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on (the demo server may hold 8069)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--send", action="store_true", help="also time e-mail + PDF letter")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the send to FILE (python -m pstats FILE)")
    parser.add_argument("--segments", action="store_true",
                        help="also time the plan with and without segments (bench_behaviour.py)")
    parser.add_argument("--rating-customers", type=int, default=0, metavar="N",
                        help="also time the payer ratings of N more customers with a paid "
                             "history (bench_behaviour.py)")
    args = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database,
                         f"--addons-path={args.addons_path}", "--log-level=warn",
                         "--http-interface=127.0.0.1", f"--http-port={free_port()}"])
    # wkhtmltopdf fetches the report assets over HTTP: serve them as Odoo would, on the free port
    # chosen above (report.url and web.base.url below follow config['http_port'])
    from odoo.service import server
    server.load_server_wide_modules()
    server.server = server.ThreadedServer(odoo.http.root)
    server.server.start(stop=False)

    # A fixed Wednesday 10:00 UTC with customers in UTC, so that every message is inside the
    # send window whatever the day and hour the benchmark runs (time still ticks).
    from freezegun import freeze_time
    frozen = freeze_time("2026-11-25 10:00:00", tick=True)
    frozen.start()
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        env["ir.config_parameter"].set_param(
            "report.url", f"http://127.0.0.1:{config['http_port']}")
        env["ir.config_parameter"].set_param(
            "web.base.url", f"http://127.0.0.1:{config['http_port']}")
        today = date.today()

        # --- data ------------------------------------------------------------------------
        t0 = time.perf_counter()
        partners = env["res.partner"].create([{
            "name": f"Bench customer {i:05d}", "email": f"customer{i}@bench.example.com",
            "is_company": True, "tz": "UTC",
            "street": f"Calle Mayor {i}", "city": "Madrid", "zip": "28013",
            "country_id": env.ref("base.es").id,
        } for i in range(args.customers)])
        product = env["product.product"].create({"name": "Bench service", "type": "service"})
        # one policy for the benchmark: a single level +30 days with e-mail and letter
        policy = env["dunning.policy"].create({
            "name": "Benchmark chain", "company_id": company.id, "max_per_hour": 0,
            "cap_email": 0, "preference_delay_days": 0, "window_start": 0.0,
            "window_end": 21.0, "meal_blackout": False,
            "level_ids": [(0, 0, {"name": "Reminder", "offset_days": 30, "channel_ids": [
                (0, 0, {"channel": "email",
                        "mail_template_id": env.ref("dunning_chain.mail_template_dunning_firm").id}),
                (0, 0, {"channel": "letter"}),
            ]})],
        })
        company.dunning_policy_id = policy
        batch = 500
        created = 0
        while created < args.invoices:
            vals = []
            for i in range(created, min(created + batch, args.invoices)):
                due = today - timedelta(days=31 + i % 60)
                vals.append({
                    "move_type": "out_invoice", "partner_id": partners[i % len(partners)].id,
                    "invoice_date": due - timedelta(days=30), "invoice_date_due": due,
                    "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1,
                                                 "price_unit": 100 + i % 900, "tax_ids": []})],
                })
            moves = env["account.move"].create(vals)
            for move, val in zip(moves, vals):
                move.invoice_date_due = val["invoice_date_due"]
            moves.action_post()
            created += len(moves)
            cr.commit()
        print(f"data: {args.invoices} posted overdue invoices for {args.customers} customers "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)

        # --- customers by behaviour: ratings, plan with and without segments -------------
        import bench_behaviour
        if args.rating_customers:
            bench_behaviour.bench_ratings(env, args.rating_customers, today)
        if args.segments:
            bench_behaviour.bench_segments(
                env, policy, partners, lambda: env["dunning.plan"].with_context(
                    allowed_company_ids=[company.id])._dunning_plan(companies=company))

        # --- plan ------------------------------------------------------------------------
        env.invalidate_all()
        cpu0, t0 = time.process_time(), time.perf_counter()
        comms = env["dunning.plan"].with_context(
            allowed_company_ids=[company.id])._dunning_plan(companies=company)
        cr.commit()
        plan_wall, plan_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(f"plan: {args.invoices} invoices -> {len(comms)} communications in "
              f"{plan_wall:.2f} s wall ({plan_cpu:.2f} s CPU), peak RSS {rss_mb(resource.RUSAGE_SELF):.0f} MB",
              flush=True)

        # --- send ------------------------------------------------------------------------
        if args.send:
            env.invalidate_all()
            cpu0, t0 = time.process_time(), time.perf_counter()
            profiler = None
            if args.profile:
                import cProfile
                profiler = cProfile.Profile()
                profiler.enable()
            sent = env["dunning.send"].with_context(
                allowed_company_ids=[company.id])._dunning_send_due(commit=True)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            send_wall, send_cpu = time.perf_counter() - t0, time.process_time() - cpu0
            states = dict(env["dunning.communication"]._read_group(
                [("id", "in", comms.ids)], ["state"], ["__count"]))
            by_channel = dict(env["dunning.communication"]._read_group(
                [("id", "in", comms.ids), ("state", "=", "sent")], ["channel"], ["__count"]))
            print(f"send: {sent} communications ({by_channel}) in {send_wall:.2f} s wall "
                  f"({send_cpu:.2f} s CPU in Odoo), states {states}, "
                  f"peak RSS Odoo {rss_mb(resource.RUSAGE_SELF):.0f} MB, "
                  f"wkhtmltopdf {rss_mb(resource.RUSAGE_CHILDREN):.0f} MB", flush=True)
            failed = env["dunning.communication"].search([("id", "in", comms.ids),
                                                          ("state", "=", "failed")], limit=3)
            for comm in failed:
                print(f"  failed {comm.name}: {comm.failure_reason}", flush=True)
            # what Insight's dashboard costs on this database after the send (its facts)
            import bench_insight
            bench_insight.time_dashboard(env, company)
    frozen.stop()
    server.server.stop()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
