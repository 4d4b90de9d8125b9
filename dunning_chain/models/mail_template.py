import uuid

from lxml import etree, html

from odoo import api, models


class MailTemplate(models.Model):
    """A template's QWeb body rendered for many records in one pass.

    Odoo renders a QWeb template field record by record, compiling the template's source again
    for each one (it has no view to cache the compiled code under): for a dunning e-mail, whose
    body carries the customer's statement, compiling costs about as much as rendering. With the
    context key ``dunning_render_once`` (set by the sender when it prepares a batch), the
    records are rendered by one compiled loop over them, each iteration starting from the
    variables the template sets reset, and the result split per record: the same text as
    record by record (``mail.render.mixin._render_template_qweb``). Anything else (one record,
    a template Odoo renders without QWeb, a restricted user) goes Odoo's way."""

    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(self, template_src, model, res_ids, add_context=None,
                              options=None):
        restricted = not self._unrestricted_rendering and not self.env.is_admin() and \
            not self.env.user.has_group("mail.group_mail_template_editor")
        if (not self.env.context.get("dunning_render_once") or len(res_ids) < 2
                or not template_src or restricted
                or not self._has_unsafe_expression_template_qweb(template_src, model)):
            return super()._render_template_qweb(template_src, model, res_ids,
                                                 add_context=add_context, options=options)
        variables = self._render_eval_context()
        if add_context:
            variables.update(**add_context)
        body = html.fragment_fromstring(template_src, create_parent="div")
        marker = f"dunning-render-{uuid.uuid4().hex}"
        loop = etree.Element("t", {"t-foreach": "dunning_render_records",
                                   "t-as": "object"})
        # each record as if rendered alone: what an earlier one set is not seen
        for name in sorted({node.get("t-set") for node in body.iter() if node.get("t-set")}):
            etree.SubElement(loop, "t", {"t-set": name, "t-value": "None"})
        loop.append(body)
        etree.SubElement(loop, "t", {"t-out": "dunning_render_marker"})
        variables.update(dunning_render_records=self.env[model].browse(res_ids),
                         dunning_render_marker=marker)
        rendered = self.env["ir.qweb"]._render(loop, variables, **(options or {}))
        parts = rendered.split(marker)[:len(res_ids)]  # Markup, like Odoo's
        # remove the <div> wrapping each record's nodes, as Odoo does
        return {res_id: part[5:-6] for res_id, part in zip(res_ids, parts)}
