import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from odoo import models, modules, tools
from odoo.tools.pdf import OdooPdfFileReader, OdooPdfFileWriter

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..tools import letter_pdf
from .dunning_send import batch_store

_logger = logging.getLogger(__name__)

LETTER_REPORT = "dunning_chain.action_report_dunning_letter"
LETTERS_PER_RUN = 50
# databases whose report assets were built by a letter run of this process
_ASSETS_WARM = set()


def _run_job(job):
    """One wkhtmltopdf run for a batch of letters, cut per letter (tools/letter_pdf.py)."""
    return letter_pdf.run_letter_job(job, _wkhtml().bin, OdooPdfFileReader, OdooPdfFileWriter)


class DunningChannelLetter(models.AbstractModel):
    """The letter channel, inherited by dunning.communication: the letter report rendered to
    PDF, one wkhtmltopdf run per LETTERS_PER_RUN letters of a batch in background threads (the
    pure part: tools/letter_pdf.py), sent by e-mail when the level has a covering template,
    else kept to print and post. Certified letters and hand-offs (dunning_channel_task.py)
    attach a letter too."""

    _name = "dunning.channel.letter"
    _description = "Dunning Channel: Letter"

    def _dunning_letter_attachment(self, title=None):
        cache = batch_store(self.env.cr).setdefault("dunning_letters", {})
        run = batch_store(self.env.cr).get("dunning_letter_runs", {}).pop(self.id, None)
        if run is not None:
            cache.update(run.result())  # the run started by _dunning_prerender_letters
        content = cache.pop(self.id, None)
        if content is None:
            content = self._dunning_render_letter()
        name = (title or self.env._("Reminder")) + f" {self.name}.pdf"
        return self.env["ir.attachment"].create({
            "name": name.replace("/", "-"), "raw": content, "mimetype": "application/pdf",
            "res_model": self._name, "res_id": self.id,
        })

    def _dunning_render_letter(self):
        """One letter, the way a batch renders them (same font and margins); Odoo's own
        rendering when that fails, and in tests that do not force PDF rendering."""
        self.ensure_one()
        report = self.env["ir.actions.report"].with_context(
            lang=self.partner_id.lang or self.env.lang)
        if not self._dunning_tests_skip_pdf():
            try:
                content = _run_job(self.with_context(
                    lang=self.partner_id.lang or self.env.lang)._dunning_letter_job()).get(self.id)
            except Exception:  # noqa: BLE001 - Odoo's rendering below says what is wrong
                _logger.warning("Could not render letter %s in one run", self.name,
                                exc_info=True)
                content = None
            if content:
                return content
        content, _fmt = report._render_qweb_pdf(LETTER_REPORT, [self.id])
        return content

    def _dunning_tests_skip_pdf(self):
        return ((modules.module.current_test or tools.config["test_enable"])
                and not self.env.context.get("force_report_rendering"))

    def _dunning_prerender_letters(self):
        """Start rendering the letters of these communications: one wkhtmltopdf run per
        LETTERS_PER_RUN letters instead of one run per letter, in background threads, while
        the batch goes on with its e-mails; each run's PDF is cut per letter (see
        tools/letter_pdf.py). _dunning_letter_attachment waits for its letter; anything unexpected
        falls back to one run per letter."""
        traits = self.env["dunning.level.channel"]._dunning_channel_traits()
        letters = self.filtered(lambda c: traits[c.channel].letter)
        if len(letters) < 2 or self._dunning_tests_skip_pdf():
            return
        jobs = []
        for (_company, lang), group in letters.grouped(
                lambda c: (c.company_id, c.partner_id.lang or self.env.lang)).items():
            for start in range(0, len(group), LETTERS_PER_RUN):
                try:
                    jobs.append(group[start:start + LETTERS_PER_RUN].with_context(lang=lang)
                                ._dunning_letter_job())
                except Exception:  # noqa: BLE001 - a failed batch only costs speed
                    _logger.warning("Could not prepare a batch of dunning letters", exc_info=True)
        if not jobs:
            return
        cache = batch_store(self.env.cr).setdefault("dunning_letters", {})
        if len(jobs) > 1 and self.env.cr.dbname not in _ASSETS_WARM:
            # the first run builds the report's assets on the server; parallel runs would race
            # to build them (and one would get no style)
            cache.update(_run_job(jobs.pop(0)))
        _ASSETS_WARM.add(self.env.cr.dbname)
        pending = batch_store(self.env.cr).setdefault("dunning_letter_runs", {})
        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dunning-letters")
        for job in jobs:
            future = pool.submit(_run_job, job)
            pending.update(dict.fromkeys(job["ids"], future))
        pool.shutdown(wait=False)

    def _dunning_letter_job(self):
        """Everything one wkhtmltopdf run needs (arguments, files), prepared with the ORM."""
        report_model = self.env["ir.actions.report"]
        report = report_model._get_report(LETTER_REPORT)
        html = report_model._render_qweb_html(LETTER_REPORT, self.ids, data={"report_type": "pdf"})[0]
        bodies, res_ids, header, footer, paper_args = report_model._prepare_html(
            html, report_model=report.model)
        if len(bodies) != len(self) or res_ids != self.ids:
            raise ValueError("unexpected report structure")
        combined, footer = letter_pdf.combine_letters(bodies, footer)
        args = report_model._build_wkhtmltopdf_args(
            report.get_paperformat(), False, specific_paperformat_args=paper_args)
        return {"args": letter_pdf.letter_args(args, _wkhtml().is_patched_qt), "header": header,
                "footer": footer, "body": combined, "ids": list(self.ids)}

    def _dunning_send_letter(self):
        letter = self._dunning_letter_attachment(self.env._("Reminder letter"))
        template = self._dunning_mail_template()
        if template:
            return self._dunning_send_mail(template, letter)
        body = self.env["ir.qweb"]._render("dunning_chain.dunning_letter_summary", {"comm": self})
        self._message_log(body=body, attachment_ids=letter.ids)
        return {"subject": self.env._("Reminder letter"), "body": body,
                "recipients": self.partner_id._display_address(without_company=False),
                "attachment_ids": letter.ids, "delivery_state": "to_post"}

    def _dunning_callback_date(self):
        """The date of the planned call-back: the policy's next call step, if any."""
        self.ensure_one()
        due = min(self.line_ids.mapped("due_date") or [False]) if self.line_ids else False
        if not due:
            return False
        calls = self.policy_id._levels_by_offset().filtered(
            lambda lvl: lvl.offset_days > self.level_id.offset_days
            and "call" in lvl.channel_ids.mapped("channel"))
        return due + timedelta(days=calls[0].offset_days) if calls else False
