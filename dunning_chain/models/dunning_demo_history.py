"""Demo data: six months of simulated history, so that Insight (DSO and CEI per month, what
each step recovered, the effectiveness pivot by weekday and hour) and the payer ratings have
something to show.

Two dozen demo customers (tagged *Demo history*, in several countries and time zones) each
follow one way of paying: on time, a few days after the first reminder, after the phone call,
with a promise made on the call, after the second reminder (letter), disputing invoices, or not
at all (the chain hands them off). Nothing is written behind the product's back: the clock is
set to each moment of the past (freezegun, one of Odoo's requirements) and the real code runs
at that moment: invoices are posted on their date, the hourly run plans and the sender sends
each step at the moment the planner gave it (so the record is sealed in order, with past
moments, and verifies as any other), calls get their outcome logged, payments are registered
and reconciled on their day. What the outside world would have done is simulated and said so:
the mail and SMS gateways are taken as having delivered every message (their queue entries are
marked sent, never sent for real), and every customer and communication of the history carries
a note "Simulated history (demo data)".

Built by dunning.demo._load_demo before the demo's own examples, which it leaves as they are.
"""
import random
from datetime import datetime, time, timedelta

from markupsafe import Markup

from odoo import api, fields, models

HISTORY_DAYS = 190
HISTORY_TAG = "Demo history"
HISTORY_NOTE = Markup(
    "<p><b>Simulated history (demo data)</b>: the invoices, reminders, calls and payments of "
    "the last six months shown here were generated when the demo database was built, with the "
    "clock set to each moment; no message left and no money moved.</p>")
# UTC hour of each simulated day's run (a rotation: the customers' local hours vary)
TICK_HOURS = (7, 12, 9, 14, 8, 15, 10, 13, 11, 16)
# key, name, city, country, tz, lang, behaviour, mobile (SMS step) or False
HISTORY_CUSTOMERS = [
    ("lisboa", "Atlântico Foods Lda (demo)", "Lisboa", "PT", "Europe/Lisbon", "en_US",
     "on_time", False),
    ("paris", "Maison Lumière SARL (demo)", "Paris", "FR", "Europe/Paris", "en_US",
     "on_time", False),
    ("munich", "Isar Werkzeuge GmbH (demo)", "München", "DE", "Europe/Berlin", "de_DE",
     "on_time", "+49 151 22334455"),
    ("sevilla", "Aceites del Sur S.L. (demo)", "Sevilla", "ES", "Europe/Madrid", "es_ES",
     "after_first", "+34 622 110 220"),
    ("amsterdam", "Grachten Design B.V. (demo)", "Amsterdam", "NL", "Europe/Amsterdam",
     "en_US", "after_first", False),
    ("london", "Thames Logistics Ltd (demo)", "London", "GB", "Europe/London", "en_US",
     "after_first", False),
    ("bilbao", "Ferrería Bilbaína S.A. (demo)", "Bilbao", "ES", "Europe/Madrid", "es_ES",
     "after_call", "+34 633 440 550"),
    ("hamburg", "Elbe Handel GmbH (demo)", "Hamburg", "DE", "Europe/Berlin", "de_DE",
     "after_call", False),
    ("mexico", "Zócalo Distribuciones S.A. (demo)", "Ciudad de México", "MX",
     "America/Mexico_City", "es_ES", "promise", False),
    ("zaragoza", "Pilar Construcciones S.L. (demo)", "Zaragoza", "ES", "Europe/Madrid",
     "es_ES", "promise", False),
    ("losangeles", "Pacific Crest Media LLC (demo)", "Los Angeles", "US",
     "America/Los_Angeles", "en_US", "after_letter", False),
    ("wien", "Donau Technik GmbH (demo)", "Wien", "AT", "Europe/Vienna", "de_DE",
     "after_letter", False),
    ("bruxelles", "Atomium Services SA (demo)", "Bruxelles", "BE", "Europe/Brussels",
     "en_US", "dispute", False),
    ("koeln", "Rhein Elektro GmbH (demo)", "Köln", "DE", "Europe/Berlin", "de_DE",
     "dispute", False),
    ("porto", "Douro Têxteis Lda (demo)", "Porto", "PT", "Europe/Lisbon", "en_US",
     "never", False),
    ("murcia", "Huerta Murciana S.L. (demo)", "Murcia", "ES", "Europe/Madrid", "es_ES",
     "never", False),
]
# the steps (days after the due date) that make each kind of payer pay, and after how many days
PAY_AFTER = {"after_first": (7, 2, 5), "after_letter": (30, 3, 7)}
INVOICE_INTERVAL_DAYS = 30


class DunningDemoHistory(models.AbstractModel):
    _inherit = "dunning.demo"

    @api.model
    def _load_demo_history(self, company, product, days=HISTORY_DAYS, keys=None):
        """Simulate ``days`` days of the chain up to yesterday for the history customers of
        ``company`` (``keys``: some of HISTORY_CUSTOMERS' keys, default all). Returns the
        customers."""
        # only demo databases need it: one of Odoo's requirements, not of a production server
        # (freezegun.api's own: odoo.tests replaces the package's shortcut)
        from freezegun.api import freeze_time  # noqa: PLC0415

        env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        self = self.with_env(env)
        today = fields.Date.context_today(self)
        start = today - timedelta(days=days)
        rng = random.Random(15)
        partners = self._demo_history_partners(company, keys)
        sim = {"rng": rng, "company": company, "partners": partners, "pay_on": {},
               "dispute": {}, "resolve": {}, "done": set(),
               "behaviour": {p.id: b for p, b in partners.items()}}
        self._demo_history_invoices(sim, product, start, today)
        # invoices go without their PDF in the history (rendering ~50 invoice PDFs would
        # double the demo's build time): the first reminder's channel attaches none meanwhile
        attaching = env["dunning.level.channel"].sudo().search([("attach_invoices", "=", True)])
        attaching.attach_invoices = False
        freezer = freeze_time(datetime.combine(start, time(8)))
        clock = freezer.start()
        try:
            for offset in range(days):
                day = start + timedelta(days=offset)
                clock.move_to(datetime.combine(day, time(TICK_HOURS[offset % len(TICK_HOURS)])))
                self._demo_history_customers_act(sim, day)
                self._demo_history_run_day(sim, clock, day)
        finally:
            freezer.stop()
            attaching.attach_invoices = True
        comms = env["dunning.communication"].search([("company_id", "=", company.id),
                                                     ("partner_id", "in", list(sim["behaviour"]))])
        comms._message_log_batch(bodies=dict.fromkeys(comms.ids, HISTORY_NOTE))
        Fact = env["dunning.fact"].sudo()
        env.cr.execute("""SELECT c.id FROM dunning_communication c
                           WHERE c.company_id = %s AND c.state = 'sent' AND c.kind != 'thanks'
                             AND NOT EXISTS (SELECT 1 FROM dunning_fact f
                                              WHERE f.communication_id = c.id)""", [company.id])
        missing = [row[0] for row in env.cr.fetchall()]
        if missing:
            Fact._dunning_fact_backfill(missing)
        env["dunning.payer.rating"].sudo()._dunning_compute(companies=company)
        return env["res.partner"].browse(list(sim["behaviour"]))

    # ------------------------------------------------------------------ customers, invoices
    @api.model
    def _demo_history_partners(self, company, keys=None):
        env = self.env
        tag = env["res.partner.category"].search([("name", "=", HISTORY_TAG)], limit=1) \
            or env["res.partner.category"].create({"name": HISTORY_TAG})
        admin = env.ref("base.user_admin")
        partners = {}
        for key, name, city, country, tz, lang, behaviour, mobile in HISTORY_CUSTOMERS:
            if keys is not None and key not in keys:
                continue
            slug = key.replace(" ", "")
            partner = env["res.partner"].create({
                "name": name, "is_company": True, "city": city, "tz": tz,
                "country_id": env["res.country"].search([("code", "=", country)], limit=1).id,
                "lang": lang if env["res.lang"]._lang_get(lang) else "en_US",
                "email": f"accounts@{slug}-demo.example.com", "phone": mobile or False,
                "user_id": admin.id, "category_id": [fields.Command.link(tag.id)],
                "ref": f"DEMO-{slug.upper()[:8]}",
                "comment": HISTORY_NOTE,
            })
            self._xmlid(partner, f"demo_history_{key}")
            partners[partner] = behaviour
        return partners

    @api.model
    def _demo_history_invoices(self, sim, product, start, today):
        """About one invoice a month per customer (due 30 days later), the first in the
        simulation's first month, posted in one go: the chain sees none before its dates."""
        rng, company = sim["rng"], sim["company"]
        vals = []
        for position, (partner, behaviour) in enumerate(sim["partners"].items()):
            first = start + timedelta(days=(position * 3) % 25)
            # nobody keeps delivering to a customer who never pays: two invoices; the others
            # are invoiced every month up to today
            count = 2 if behaviour == "never" else \
                (today - first).days // INVOICE_INTERVAL_DAYS + 1
            for number in range(count):
                day = first + timedelta(days=number * INVOICE_INTERVAL_DAYS + rng.randint(0, 4))
                if day >= today:
                    break
                vals.append({
                    "move_type": "out_invoice", "company_id": company.id,
                    "partner_id": partner.id, "invoice_date": day,
                    "invoice_date_due": day + timedelta(days=30),
                    "invoice_line_ids": [fields.Command.create({
                        "product_id": product.id, "quantity": 1,
                        "price_unit": round(rng.uniform(400, 6000), -1),
                        "tax_ids": [fields.Command.clear()],
                    })],
                })
                if behaviour == "on_time":
                    # between the friendly notice and two days after the due date
                    sim["pay_on"][len(vals) - 1] = day + timedelta(days=30 + rng.randint(-1, 2))
                elif behaviour == "dispute" and number % 2:
                    sim["dispute"][len(vals) - 1] = None  # disputed at its first reminder
        order = sorted(range(len(vals)), key=lambda i: vals[i]["invoice_date"])  # numbering
        moves = self.env["account.move"].with_company(company).create(
            [vals[i] for i in order])
        for move in moves:
            move.invoice_date_due = move.invoice_date + timedelta(days=30)
        moves.action_post()
        ids = {index: move.id for index, move in zip(order, moves)}
        sim["pay_on"] = {ids[i]: day for i, day in sim["pay_on"].items()}
        sim["dispute"] = {ids[i]: None for i in sim["dispute"]}
        return moves

    # ------------------------------------------------------------------ a simulated day
    @api.model
    def _demo_history_customers_act(self, sim, day):
        """What the customers do on this day: pay, dispute; the accountant answers disputes."""
        Move = self.env["account.move"]
        for move_id, on in list(sim["resolve"].items()):
            if on <= day:
                move = Move.browse(move_id)
                del sim["resolve"][move_id]
                if move.dunning_dispute_state == "open":
                    move._dunning_resolve_dispute(
                        False, "The delivery note signed by your warehouse shows the goods "
                        "arrived complete: the invoice stands.", notify=False)
                sim["pay_on"][move_id] = day + timedelta(days=sim["rng"].randint(3, 6))
        for move_id, on in list(sim["dispute"].items()):
            if on and on <= day:
                move = Move.browse(move_id)
                sim["dispute"][move_id] = False
                if move._dunning_is_open():
                    move._dunning_dispute("The goods arrived incomplete: two boxes missing.")
                    sim["resolve"][move_id] = day + timedelta(days=8)
        due = [mid for mid, on in sim["pay_on"].items() if on <= day]
        for move_id in due:
            del sim["pay_on"][move_id]
        moves = Move.browse(due).filtered(lambda m: m.payment_state in ("not_paid", "partial"))
        for _partner, paid in moves.grouped("partner_id").items():
            # one bank transfer per customer and day, for the invoices it pays
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=paid.ids).create({
                    "payment_date": day, "group_payment": True,
                })._create_payments()
            # the collector checks the promised payment came: done
            paid.activity_ids.action_feedback(feedback="Paid (simulated history)")

    @api.model
    def _demo_history_run_day(self, sim, clock, day):
        """The hourly run at the day's hour, the review steps approved (as a manager would),
        then each planned message sent at its moment up to midnight UTC, the reactions to
        what was sent."""
        env = self.env
        company = sim["company"]
        Comm = env["dunning.communication"]
        scope = [("company_id", "=", company.id), ("partner_id", "in", list(sim["behaviour"]))]
        env["dunning.send"]._dunning_run()
        self._demo_history_react(sim, day)
        Comm.search(scope + [("state", "=", "to_review")]).action_approve()
        end = datetime.combine(day + timedelta(days=1), time())
        for _attempt in range(50):
            due = Comm.search(scope + [("state", "=", "scheduled"), ("scheduled_at", "<", end)],
                              order="scheduled_at, id", limit=1)
            if not due:
                break
            if due.scheduled_at > fields.Datetime.now():
                clock.move_to(due.scheduled_at)
            if not env["dunning.send"]._dunning_send_due():
                break
            self._demo_history_react(sim, day)

    @api.model
    def _demo_history_react(self, sim, day):
        """Act on the messages just sent: the gateways deliver them, the collector logs each
        call's outcome and posts the certified letters, tasks get done; which step makes the
        customer pay (or dispute) follows its behaviour."""
        Comm = self.env["dunning.communication"]
        sent = Comm.search([("company_id", "=", sim["company"].id), ("state", "=", "sent"),
                            ("partner_id", "in", list(sim["behaviour"])),
                            ("id", "not in", list(sim["done"]))], order="sent_at, id")
        if not sent:
            return
        sim["done"].update(sent.ids)
        self._demo_history_delivered(sent)
        rng = sim["rng"]
        for comm in sent:
            behaviour = sim["behaviour"][comm.partner_id.id]
            moves = comm.line_ids.filtered("is_open").move_id
            offset = comm.level_id.offset_days
            if comm.channel == "call":
                self._demo_history_call(sim, comm, behaviour, moves, day)
            elif comm.channel == "certified":
                comm._dunning_certified_post(f"BF{comm.id:010d}ES", day)
            elif behaviour in PAY_AFTER and offset == PAY_AFTER[behaviour][0]:
                low, high = PAY_AFTER[behaviour][1:]
                for move in moves:
                    sim["pay_on"].setdefault(move.id, day + timedelta(days=rng.randint(low, high)))
            elif behaviour == "dispute" and offset == 7:
                for move in moves:
                    if move.id in sim["dispute"]:
                        if sim["dispute"][move.id] is None:
                            sim["dispute"][move.id] = day + timedelta(days=1)
                    else:
                        sim["pay_on"].setdefault(move.id, day + timedelta(days=rng.randint(3, 6)))
            activity = comm.activity_id.exists()
            if activity and comm.channel != "call":
                activity.action_feedback(feedback="Done (simulated history)")

    @api.model
    def _demo_history_call(self, sim, comm, behaviour, moves, day):
        if not moves:
            return
        if behaviour == "promise":
            promised = day + timedelta(days=sim["rng"].randint(4, 7))
            comm._dunning_log_call_outcome("promise", {
                "promise_date": promised, "promise_amount": sum(moves.mapped("amount_residual")),
                "note": "Accounts payable confirmed the invoice for their next payment run."})
            for move in moves:
                sim["pay_on"][move.id] = promised
        elif behaviour == "after_call":
            comm._dunning_log_call_outcome("reached", {
                "note": "The invoice had been overlooked: they pay it this week."})
            for move in moves:
                sim["pay_on"].setdefault(move.id, day + timedelta(days=sim["rng"].randint(1, 4)))
        else:
            comm._dunning_log_call_outcome("reached", {
                "note": "Reached the office: no payment date given."})

    @api.model
    def _demo_history_delivered(self, comms):
        """The simulated gateways: every e-mail and SMS of these messages was delivered (their
        queue entries are marked so and never reach a real server), which the next run's
        delivery news copies to the record as it would."""
        messages = comms.mail_message_id
        if not messages:
            return
        env = self.env
        env["mail.mail"].sudo().search([("mail_message_id", "in", messages.ids),
                                        ("state", "=", "outgoing")]).write({"state": "sent"})
        if "sms.sms" in env:
            env["sms.sms"].sudo().search([("mail_message_id", "in", messages.ids),
                                          ("state", "=", "outgoing")]).write({"state": "sent"})
        env["mail.notification"].sudo().search([
            ("mail_message_id", "in", messages.ids),
            ("notification_status", "in", ("ready", "process", "pending")),
        ]).write({"notification_status": "sent"})
