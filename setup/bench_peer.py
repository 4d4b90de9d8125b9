"""Benchmark of the peer, OCA's account_credit_control, on the same workload as bench.py.

    ./setup/bench.sh --peer          (wrapper: ours, then the peer in its own database, ratio)

The same customers and overdue invoices as bench.py (bench_data.make_invoices), then, as a user
of the addon does it, with its own "3 time policy" (data/data.xml) on the receivable account:
  * generate: a credit control run for today, *Compute Credit Lines* (generate_credit_lines):
              every invoice reaches the first level (10 days net, e-mail);
  * e-mail:   *Ready To Send*, then *Run channel action* (run_channel_action): a communication
              per customer e-mailed with the level's template, which attaches the customer's
              credit control summary as a PDF;
  * letter:   *Print* on the same lines (credit.control.printer), the letter per customer,
              rendered as the browser's download would (the report's PDF of the communications).
Both sides leave their e-mails in Odoo's outgoing queue (ours does so by design; the peer's
immediate SMTP send after commit is turned off with mail_notify_force_send=False): delivery by
a mail server is in neither figure. With --ours FILE (bench.py --result), prints both and the
ratio (total over total).
"""
import json
import resource
import sys
import time
from datetime import date

from bench_data import workload_parser, children_cpu, mail_counts, make_invoices, pdf_pages, rss_mb, \
    serve_reports_here, start_odoo

REPORT = "account_credit_control.report_credit_control_summary"


def timed(label, func, cpus):
    """Run func, print and return its wall time; its CPU time (Odoo, and wkhtmltopdf: the
    children) is added to ``cpus``."""
    cpu0, kids0, t0 = time.process_time(), children_cpu(), time.perf_counter()
    result = func()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    kids = children_cpu() - kids0
    cpus[label] = (cpu, kids)
    print(f"{label}: {wall:.2f} s wall ({cpu:.2f} s CPU in Odoo, {kids:.2f} s in wkhtmltopdf), "
          f"peak RSS {rss_mb(resource.RUSAGE_SELF):.0f} MB", flush=True)
    return result, wall


def main():
    parser = workload_parser(__doc__)
    parser.add_argument("--version", default="", help="the peer's version, for the report")
    parser.add_argument("--ours", metavar="FILE", help="bench.py --result: print the ratio")
    args, _ignored = parser.parse_known_args()  # bench.sh's other options are ours only

    import odoo

    registry, stop = start_odoo(args)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        serve_reports_here(env)
        today = date.today()
        partners = make_invoices(env, args.invoices, args.customers, today)
        # the set-up a user makes: the 3 time policy on the receivable account, the company's
        policy = env.ref("account_credit_control.credit_control_3_time")
        policy.account_ids = partners[:1].property_account_receivable_id
        company.credit_policy_id = policy
        cr.commit()
        env = env(context={"mail_notify_force_send": False, "allowed_company_ids": [company.id]})

        # --- generate ----------------------------------------------------------------------
        cpus = {}
        env.invalidate_all()
        run = env["credit.control.run"].create({"date": today, "policy_ids": [policy.id]})

        def generate():
            run.generate_credit_lines()
            cr.commit()
        _none, generate_wall = timed("generate", generate, cpus)
        levels = {level.name: count for level, count in env["credit.control.line"]._read_group(
            [("run_id", "=", run.id)], ["policy_level_id"], ["__count"])}
        print(f"  {len(run.line_ids)} credit control lines by level {levels}", flush=True)

        # --- e-mail: Ready To Send, Run channel action ---------------------------------------
        env.invalidate_all()
        lines = run.line_ids

        def email():
            run.set_to_ready_lines()
            run.run_channel_action()
            cr.commit()
        _none, email_wall = timed("e-mail", email, cpus)
        comms = lines.communication_id
        messages = env["mail.message"].search([
            ("model", "=", "credit.control.communication"), ("res_id", "in", comms.ids),
            ("subtype_id", "=", env.ref("account_credit_control.mt_request").id)])
        emails = mail_counts(env, messages)
        print(f"  {len(comms)} communications, e-mails: {emails}", flush=True)

        # --- letter: Print on the same lines, the PDF the browser downloads ------------------
        env.invalidate_all()

        # one PDF of all the letters, as the browser downloads it; a wkhtmltopdf without
        # Odoo's patched Qt cannot convert several documents at once (Odoo refuses): then one
        # PDF per customer, as such a user can print them
        from odoo.addons.base.models.ir_actions_report import _wkhtml
        at_once = _wkhtml().is_patched_qt

        def letter():
            action = env["credit.control.printer"].create({"line_ids": lines.ids}).print_lines()
            ids = action["context"]["active_ids"]
            Report = env["ir.actions.report"]
            pdfs = [Report._render_qweb_pdf(action["report_name"], part)[0]
                    for part in ([ids] if at_once else [[i] for i in ids])]
            cr.commit()
            return ids, pdfs
        (letter_ids, pdfs), letter_wall = timed("letter", letter, cpus)
        letters = {"communications": len(letter_ids), "PDFs": len(pdfs),
                   "pages": sum(pdf_pages(pdf) for pdf in pdfs),
                   "rendered": "in one go" if at_once else "one per customer (unpatched Qt)"}
        print(f"  letters: {letters}", flush=True)

        peer = {"version": args.version, "generate": generate_wall, "email": email_wall,
                "letter": letter_wall, "lines": len(lines), "levels": levels,
                "emails": emails, "letters": letters,
                "cpu": sum(cpu for cpu, _kids in cpus.values()),
                "cpu_children": sum(kids for _cpu, kids in cpus.values())}
        if args.ours:
            with open(args.ours, encoding="utf-8") as src:
                compare(json.load(src), peer)
    stop()


def compare(ours, peer):
    """Both runs side by side, and how many times faster ours is (plan + send against
    generate + e-mail + letter)."""
    ours_total = ours["plan"] + ours.get("send", 0.0)
    peer_total = peer["generate"] + peer["email"] + peer["letter"]
    print("", flush=True)
    print(f"=== {ours['invoices']} invoices, {ours['customers']} customers, "
          f"e-mail + PDF letter per customer, same machine, one after the other ===")
    print(f"ours (dunning_chain):        plan {ours['plan']:7.2f} s + send "
          f"{ours.get('send', 0.0):7.2f} s                    = {ours_total:7.2f} s")
    print(f"peer (account_credit_control {peer['version']}): generate {peer['generate']:7.2f} s"
          f" + e-mail {peer['email']:7.2f} s + letter {peer['letter']:7.2f} s = "
          f"{peer_total:7.2f} s")
    for side, data in (("ours", ours.get("email", {})), ("peer", peer["emails"])):
        print(f"  e-mails {side}: {data}")
    letter_ours = ours.get("letter", {})
    print(f"  letters ours: {letter_ours} (a PDF per customer)")
    print(f"  letters peer: {peer['letters']}")
    ours_cpu = ours["plan_cpu"] + ours.get("send_cpu", 0.0)
    print(f"CPU: ours {ours_cpu:.2f} s in Odoo + {ours.get('send_cpu_children', 0.0):.2f} s in "
          f"wkhtmltopdf; peer {peer['cpu']:.2f} s in Odoo + {peer['cpu_children']:.2f} s in "
          f"wkhtmltopdf (the database server's time is in neither)")
    if ours_total:
        print(f"ratio: peer / ours = {peer_total / ours_total:.1f}x (wall time, plan + send "
              f"against generate + e-mail + letter)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
