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
import json
import resource
import sys
import time
from datetime import date

from bench_data import workload_parser, children_cpu, mail_counts, make_invoices, pdf_pages, rss_mb, \
    serve_reports_here, start_odoo


def main():
    parser = workload_parser(__doc__)
    parser.add_argument("--send", action="store_true", help="also time e-mail + PDF letter")
    parser.add_argument("--channels", default="email,letter", metavar="LIST",
                        help="the level's channels (default email,letter; 'email' alone gives "
                             "the cost per e-mail)")
    parser.add_argument("--mail-ab", action="store_true",
                        help="e-mail only: send alternately one by one (Odoo's way) and batched "
                             "(ours), and print the cost per e-mail of each (bench_mail.py)")
    parser.add_argument("--result", metavar="FILE",
                        help="write the figures as JSON to FILE (bench_peer.py compares them)")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the send to FILE (python -m pstats FILE)")
    parser.add_argument("--segments", action="store_true",
                        help="also time the plan with and without segments (bench_behaviour.py)")
    parser.add_argument("--rating-customers", type=int, default=0, metavar="N",
                        help="also time the payer ratings of N more customers with a paid "
                             "history (bench_behaviour.py)")
    args = parser.parse_args()
    if args.mail_ab:
        args.channels, args.send = "email", False

    import odoo

    registry, stop = start_odoo(args)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        serve_reports_here(env)
        today = date.today()

        # --- data ------------------------------------------------------------------------
        # one policy for the benchmark: a single level +30 days with e-mail and letter
        template = env.ref("dunning_chain.mail_template_dunning_firm")
        policy = env["dunning.policy"].create({
            "name": "Benchmark chain", "company_id": company.id, "max_per_hour": 0,
            "cap_email": 0, "preference_delay_days": 0, "window_start": 0.0,
            "window_end": 21.0, "meal_blackout": False,
            "level_ids": [(0, 0, {"name": "Reminder", "offset_days": 30, "channel_ids": [
                (0, 0, {"channel": channel, "mail_template_id": template.id
                        if channel == "email" else False})
                for channel in args.channels.split(",")]})],
        })
        company.dunning_policy_id = policy
        partners = make_invoices(env, args.invoices, args.customers, today)

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
        result = {"invoices": args.invoices, "customers": args.customers,
                  "communications": len(comms), "plan": plan_wall, "plan_cpu": plan_cpu}

        if args.mail_ab:
            import bench_mail
            result["mail_ab"] = bench_mail.mail_ab(env, comms)

        # --- send ------------------------------------------------------------------------
        if args.send:
            env.invalidate_all()
            cpu0, kids0, t0 = time.process_time(), children_cpu(), time.perf_counter()
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
            send_kids = children_cpu() - kids0
            states = dict(env["dunning.communication"]._read_group(
                [("id", "in", comms.ids)], ["state"], ["__count"]))
            by_channel = dict(env["dunning.communication"]._read_group(
                [("id", "in", comms.ids), ("state", "=", "sent")], ["channel"], ["__count"]))
            print(f"send: {sent} communications ({by_channel}) in {send_wall:.2f} s wall "
                  f"({send_cpu:.2f} s CPU in Odoo, {send_kids:.2f} s in wkhtmltopdf), "
                  f"states {states}, "
                  f"peak RSS Odoo {rss_mb(resource.RUSAGE_SELF):.0f} MB, "
                  f"wkhtmltopdf {rss_mb(resource.RUSAGE_CHILDREN):.0f} MB", flush=True)
            failed = env["dunning.communication"].search([("id", "in", comms.ids),
                                                          ("state", "=", "failed")], limit=3)
            for comm in failed:
                print(f"  failed {comm.name}: {comm.failure_reason}", flush=True)
            # what Insight's dashboard costs on this database after the send (its facts)
            import bench_insight
            bench_insight.time_dashboard(env, company)
            result.update(send=send_wall, send_cpu=send_cpu, send_cpu_children=send_kids, sent=sent,
                          **send_counts(env, comms))
            print(f"  e-mails: {result['email']}", flush=True)
            print(f"  letters: {result['letter']}", flush=True)
            if result["email"]["messages"]:
                print(f"  per e-mail: {send_wall / result['email']['messages'] * 1000:.0f} ms "
                      f"of the send (every channel included)", flush=True)
        if args.result:
            with open(args.result, "w", encoding="utf-8") as out:
                json.dump(result, out)
    stop()


def send_counts(env, comms):
    """What the send produced, for an honest comparison: the e-mails (chatter messages, mails
    in Odoo's queue, PDFs they carry) and the letters (PDF files, pages)."""
    sent = comms.filtered(lambda c: c.state == "sent")
    emails = sent.filtered(lambda c: c.channel == "email")
    letters = sent.filtered(lambda c: c.channel == "letter").attachment_ids.filtered(
        lambda a: a.mimetype == "application/pdf")
    return {"email": mail_counts(env, emails.mail_message_id),
            "letter": {"PDFs": len(letters), "pages": sum(pdf_pages(a.raw) for a in letters)}}


if __name__ == "__main__":
    sys.exit(main())
