"""What the benchmarks share (bench.py: ours, bench_peer.py: OCA's account_credit_control):
Odoo started on a throwaway database with its HTTP server on a free port (wkhtmltopdf fetches
the report assets from it), the clock frozen on a weekday inside any send window, the same
customers and overdue invoices, and the counts that show e-mails and letters really exist.
"""
import argparse
import os
import resource
import socket
import time
from datetime import timedelta

#: A fixed Wednesday 10:00 UTC with customers in UTC, so that every message is inside the send
#: window whatever the day and hour the benchmark runs (time still ticks).
FROZEN_AT = "2026-11-25 10:00:00"


def workload_parser(doc):
    """The options every run of the same workload takes (bench.py, bench_peer.py): the
    database, Odoo's configuration and addons path, the invoices and customers."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    return parser


def rss_mb(who):
    return resource.getrusage(who).ru_maxrss / 1024.0


def children_cpu():
    """CPU seconds of this process's finished children so far (wkhtmltopdf)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on (the demo server may hold 8069)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_odoo(args):
    """Odoo on ``args.database`` (``args.config``, ``args.addons_path``) with its HTTP server
    on a free port of 127.0.0.1 and the clock frozen at FROZEN_AT. Returns (registry, stop)."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.service import server
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database,
                         f"--addons-path={args.addons_path}", "--log-level=warn",
                         "--http-interface=127.0.0.1", f"--http-port={free_port()}"])
    server.load_server_wide_modules()
    server.server = server.ThreadedServer(odoo.http.root)
    server.server.start(stop=False)
    from freezegun import freeze_time
    frozen = freeze_time(FROZEN_AT, tick=True)
    frozen.start()
    registry = Registry(args.database)

    def stop():
        frozen.stop()
        server.server.stop()
        os._exit(0)
    return registry, stop


def serve_reports_here(env):
    """Reports' assets (report.url) and links (web.base.url) from this run's HTTP server."""
    from odoo.tools import config
    url = f"http://127.0.0.1:{config['http_port']}"
    env["ir.config_parameter"].set_param("report.url", url)
    env["ir.config_parameter"].set_param("web.base.url", url)


def make_invoices(env, invoices, customers, today, batch=500):
    """``customers`` companies in Madrid with an e-mail address, and ``invoices`` posted
    invoices over them (round robin), due 31 to 90 days before ``today``, created through the
    ORM in batches like real invoices and committed. The company gets an e-mail address (the
    sender of its reminders). Returns the customers."""
    t0 = time.perf_counter()
    company = env.company
    company.email = company.email or "billing@bench.example.com"
    partners = env["res.partner"].create([{
        "name": f"Bench customer {i:05d}", "email": f"customer{i}@bench.example.com",
        "is_company": True, "tz": "UTC",
        "street": f"Calle Mayor {i}", "city": "Madrid", "zip": "28013",
        "country_id": env.ref("base.es").id,
    } for i in range(customers)])
    product = env["product.product"].create({"name": "Bench service", "type": "service"})
    created = 0
    while created < invoices:
        vals = []
        for i in range(created, min(created + batch, invoices)):
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
        env.cr.commit()
    print(f"data: {invoices} posted overdue invoices for {customers} customers "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)
    return partners


def pdf_pages(raw):
    """Pages of a PDF (0 when it is not one)."""
    import io
    from odoo.tools.pdf import PdfFileReader
    if not raw or not raw.startswith(b"%PDF"):
        return 0
    return len(PdfFileReader(io.BytesIO(raw)).pages)


def mail_counts(env, messages):
    """What these chatter messages gave Odoo's mail queue: outgoing e-mails (mail.mail), their
    recipients' e-mail notifications, and the PDF files they carry (files, pages)."""
    mails = env["mail.mail"].sudo().search([("mail_message_id", "in", messages.ids)])
    notifications = env["mail.notification"].sudo().search_count([
        ("mail_message_id", "in", messages.ids), ("notification_type", "=", "email")])
    pdfs = messages.sudo().attachment_ids.filtered(lambda a: a.mimetype == "application/pdf")
    return {"messages": len(messages), "mail.mail": len(mails),
            "e-mail notifications": notifications,
            "mail states": dict(sorted(
                (s, c) for s, c in mails._read_group([("id", "in", mails.ids)], ["state"],
                                                     ["__count"]))),
            "PDFs attached": len(pdfs),
            "their pages": sum(pdf_pages(a.raw) for a in pdfs)}
