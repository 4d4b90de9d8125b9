"""The cost of an e-mail in the send, batched (as the sender does it) against one by one (as
Odoo's mail stack does it by itself), measured in the same run: bench.py --mail-ab.

The planned e-mails are sent in slices of ``slice_size``, alternately one by one and batched
(one by one, batched, batched, one by one, ...), so that a machine whose load changes during
the run weighs on both alike. One by one: the template's body compiled for every record and
every e-mail's outgoing mail created by its own ``message_post``, every HTML text sanitised at
every write, each customer's statement read on its own and the reply-to, alias domain and
company of each message looked up by ``message_post`` (the sender before #16); batched: the
body compiled once per slice, the statements read together and the messages' values computed
in one go before (dunning_channel_email.py, dunning_statement.py), each text sanitised once
and the outgoing mails of the slice created together at its end (mail_template.py,
dunning_send_chatter.py). Both write the same records: the chatter message, its mail.mail and
mail.notification, the notes, the sealed communication.
"""
import time
from contextlib import contextmanager, nullcontext
from unittest.mock import patch


@contextmanager
def one_by_one():
    """The sender as before: Odoo's rendering, sanitising, values and notification for each
    e-mail."""
    from odoo.addons.dunning_chain.models import dunning_send_chatter
    from odoo.addons.dunning_chain.models.dunning_channel_email import DunningChannelEmail
    from odoo.addons.dunning_chain.models.dunning_statement import DunningStatement
    from odoo.addons.dunning_chain.models.dunning_send_chatter import DunningCommunication
    from odoo.addons.dunning_chain.models.mail_template import MailTemplate

    def render(self, *args, **kwargs):
        return super(MailTemplate, self)._render_template_qweb(*args, **kwargs)

    def notify(self, *args, **kwargs):
        return super(DunningCommunication, self)._notify_thread(*args, **kwargs)
    with patch.object(MailTemplate, "_render_template_qweb", render), \
            patch.object(DunningCommunication, "_notify_thread", notify), \
            patch.object(dunning_send_chatter, "sanitised_once", nullcontext), \
            patch.object(DunningChannelEmail, "_dunning_mail_post_values", lambda *a: {}), \
            patch.object(DunningStatement, "_dunning_statement_prefetch", lambda *a: None):
        yield


def mail_ab(env, comms, slice_size=50):
    """Send ``comms`` (e-mails) in alternating slices; print and return the wall and CPU time
    per e-mail of each way."""
    sender = env["dunning.send"].with_context(allowed_company_ids=comms.company_id.ids)
    totals = {"one by one": [0.0, 0.0, 0], "batched": [0.0, 0.0, 0]}
    slices = [comms[i:i + slice_size] for i in range(0, len(comms), slice_size)]
    for index, part in enumerate(slices):
        way = "one by one" if index % 4 in (0, 3) else "batched"
        env.invalidate_all()
        cpu0, t0 = time.process_time(), time.perf_counter()
        if way == "one by one":
            with one_by_one():
                sender._dunning_send_batch(part)
        else:
            sender._dunning_send_batch(part)
        env.cr.commit()
        totals[way][0] += time.perf_counter() - t0
        totals[way][1] += time.process_time() - cpu0
        totals[way][2] += len(part.filtered(lambda c: c.state == "sent"))
    result = {}
    for way, (wall, cpu, sent) in totals.items():
        if sent:
            result[way] = {"e-mails": sent, "wall_ms": wall / sent * 1000,
                           "cpu_ms": cpu / sent * 1000}
            print(f"e-mail {way}: {sent} sent, {wall / sent * 1000:.0f} ms wall and "
                  f"{cpu / sent * 1000:.0f} ms CPU (Odoo) per e-mail", flush=True)
    if len(result) == 2:
        before, after = result["one by one"], result["batched"]
        print(f"e-mail cost batched / one by one: wall {after['wall_ms'] / before['wall_ms']:.2f}"
              f", CPU {after['cpu_ms'] / before['cpu_ms']:.2f}", flush=True)
    return result
