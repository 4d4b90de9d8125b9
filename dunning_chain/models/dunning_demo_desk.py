"""Demo data of the collector's desk: a call whose outcome was logged and one still to make
(the Collector's Day), a burofax delivered with its proof, a case handed to a collection agency with a first recovery. Built by
dunning.demo._load_demo once the chain is planned.

The demo's steps leave as a collector's *Send Anyway* would: within the send window they just
leave; outside it the demo's administrator forces them (the record says so), unless it is 21:00
or later or a public holiday in Madrid, when nobody may: they then stay planned for the next run
and the desk's examples are not built (a database made at another hour has them)."""
import io
from datetime import timedelta

from PIL import Image, ImageDraw, ImageFont

from odoo import api, fields, models

from .dunning_send import batch_store

DEMO_AGENCY = {"name": "Recobros Ibéricos S.L.", "email": "expedientes@recobros-iber.example.com",
               "phone": "+34 915 555 210", "city": "Madrid", "street": "Calle de Serrano 41",
               "zip": "28001"}
DEMO_AGENCY_FEE = 15.0
DEMO_BUROFAX_REFERENCE = "BF0123456789ES"
DEMO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


class DunningDemoDesk(models.AbstractModel):
    _inherit = "dunning.demo"

    @api.model
    def _demo_send(self, comms):
        """Approve and send these planned steps now, as a dunning manager's Send Anyway."""
        comms = comms.filtered(lambda c: c.state in ("to_review", "scheduled"))
        comms.action_approve()
        bypass = batch_store(self.env.cr).setdefault("dunning_window_bypass", {})
        bypass.update(dict.fromkeys(comms.ids, self.env.ref("base.user_admin").id))
        try:
            self.env["dunning.send"]._dunning_send_and_report(comms, title="Demo")
        finally:
            for comm_id in comms.ids:
                bypass.pop(comm_id, None)
        return comms.filtered(lambda c: c.state == "sent")

    @api.model
    def _demo_agency(self, company):
        """The agency the shipped chain hands debts to, in the demo (made once)."""
        agency = self.env.ref("dunning_chain.demo_partner_agency", raise_if_not_found=False)
        if not agency:
            agency = self.env["res.partner"].create(dict(DEMO_AGENCY, is_company=True,
                                                         country_id=company.country_id.id))
            self._xmlid(agency, "demo_partner_agency")
        return agency

    @api.model
    def _load_demo_desk(self, company, partners):
        Comm = self.env["dunning.communication"]
        today = fields.Date.context_today(self)

        def planned(key, channel):
            return Comm.search([("company_id", "=", company.id),
                                ("partner_id", "=", partners[key].id),
                                ("channel", "=", channel),
                                ("state", "in", ("to_review", "scheduled"))])

        handoff = planned("madrid", "handoff")
        handoff.channel_config_id.sudo().handoff_partner_id = self._demo_agency(company)
        # Madrid: the call of the 15-day step, answered with a promise to pay in a week
        for call in self._demo_send(planned("madrid", "call")):
            invoice = call.line_ids.move_id[:1]
            call._dunning_log_call_outcome("promise", {
                "promise_date": today + timedelta(days=7),
                "promise_amount": invoice.amount_residual,
                "note": "Spoke with Marta (accounts payable): the invoice is approved, it goes "
                        "with next week's payment run.",
            })
        # Berlin: the call of the 15-day step, on today's Collector's Day
        self._demo_send(planned("berlin", "call"))
        # Valencia: the burofax of the 45-day step, posted and delivered, the proof uploaded
        for burofax in self._demo_send(planned("valencia", "certified") |
                                       planned("valencia", "email")):
            if burofax.channel != "certified":
                continue
            burofax._dunning_certified_post(DEMO_BUROFAX_REFERENCE, today)
            burofax._dunning_certified_result("delivered", today, self._demo_proof_image(
                burofax, partners["valencia"]), "burofax-acuse-de-recibo.png")
        # Madrid: the hand-off (65 and 100 days late), then the agency's first recovery
        for sent in self._demo_send(handoff):
            case = sent.agency_case_ids[:1]
            if case:
                case.write({"fee_rate": DEMO_AGENCY_FEE, "agency_reference": "RI-2026-0417"})
                self.env["dunning.agency.case.recovery"].create({
                    "case_id": case.id, "date": today, "amount": 1500.0,
                    "fee": company.currency_id.round(1500.0 * DEMO_AGENCY_FEE / 100.0),
                    "note": "First instalment collected by the agency (bank transfer to follow).",
                })

    @api.model
    def _demo_proof_image(self, comm, partner):
        """A delivery receipt as the post would scan it (PNG)."""
        image = Image.new("RGB", (900, 520), "white")
        draw = ImageDraw.Draw(image)
        lines = [
            "BUROFAX - ACUSE DE RECIBO / PROOF OF DELIVERY",
            "",
            f"Referencia / Reference:  {DEMO_BUROFAX_REFERENCE}",
            f"Remitente / Sender:      {comm.company_id.name}",
            f"Destinatario / To:       {partner.name}",
            f"                         {partner.street}, {partner.zip} {partner.city}",
            f"Entregado / Delivered:   {fields.Date.context_today(self)}",
            "Recibido por / Received by:  J. Ferrer (firma / signature)",
            "",
            f"Our reference: {comm.name}",
        ]
        try:
            font = ImageFont.truetype(DEMO_FONT, 20)
        except OSError:  # no DejaVu on this machine: Pillow's own small font
            font = ImageFont.load_default()
        draw.rectangle((10, 10, 889, 509), outline="black", width=3)
        for row, text in enumerate(lines):
            draw.text((40, 40 + row * 42), text, fill="black", font=font)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()
