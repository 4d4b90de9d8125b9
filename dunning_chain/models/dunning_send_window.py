import functools
import os
from datetime import time

from babel.dates import get_day_names

from odoo import api, models
from odoo.tools.misc import babel_locale_parse, format_date, format_time, get_lang

from ..tools import window_rules

_I18N = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "i18n")


@functools.lru_cache(maxsize=64)
def _speaks(code):
    """Whether dunning_chain words reasons in this language (English, or a .po file)."""
    return code.startswith("en_") or any(
        os.path.exists(os.path.join(_I18N, f"{name}.po")) for name in (code, code.split("_")[0]))


# Facts that end a sentence of their own ("; "), rather than a reason of the moment (", ")
_NOTES = ("no_preferred", "hour_full", "spread", "cap", "now", "no_moment")
# Facts of rules that cannot be used (tools/window_rules.WindowRulesError)
_RULES = ("window_not_hour", "window_start_negative", "window_after_limit", "window_order",
          "meal_incomplete", "meal_not_hour", "meal_outside_day", "meal_order",
          "meal_covers_window", "weekdays_invalid", "no_allowed_weekday", "preferred_not_allowed",
          "delay_invalid", "midday_not_hour", "midday_outside_window", "avoid_leaves_nothing")


class DunningSendWindow(models.AbstractModel):
    """Words for the facts of the send window (``tools/send_window.py``, ``send_caps.py``,
    ``customer_calendar.py``, ``window_rules.py``): the tools decide and return codes and values,
    this model says them with ``self.env._`` and babel, so every reason translates.

    **Language**: a reason about a customer is worded in *the customer's* language
    (:meth:`_dunning_lang`: the commercial partner's language when installed, else the
    environment's, else the company's, else English). Planning runs from the cron as the
    superuser, so the environment's language says nothing about who reads; the customer's language
    is the one of the message the reason schedules, of its public holidays' names (the
    ``holidays`` library names them in it) and of the customer-facing pages, and a collector who
    chases Spanish customers reads Spanish reasons next to Spanish messages. Errors shown to the
    user who acts (a policy that fits no moment, rules that cannot be used) are worded in the
    environment's language.
    """

    _name = "dunning.send.window"
    _description = "Dunning Send Window Wording"

    @api.model
    def _dunning_lang(self, partner):
        """Code of the language the reasons about ``partner`` are worded in (see the class):
        the customer's when this addon speaks it (a translation file for it or for its base
        language), else English; never half and half (babel's German dates in an English
        sentence)."""
        partner = partner.commercial_partner_id if partner else partner
        code = get_lang(self.env, partner.lang if partner else None).code
        return code if _speaks(code) else "en_US"

    @api.model
    def _dunning_words(self, facts, lang=None):
        """One line of words for a list of facts, in ``lang`` (default: the environment's).

        Facts of a moment (``at``) read "Tuesday 10 Mar 09:00 Europe/Madrid: after the window
        (09:00-18:00), Saturday-Sunday skipped (weekend)"; notes (caps, preference, spreading)
        are sentences of their own separated by "; "; where the time zone comes from ends the
        line in brackets unless it is the customer's own.
        """
        if not lang or lang != self.env.lang:  # (the planner calls it in the language)
            self = self.with_context(lang=get_lang(self.env, lang).code)
        chunks, reasons, suffix = [], None, ""
        for fact in facts:
            code, values = fact
            if code == "at":
                reasons = []
                chunks.append((self._dunning_moment_words(values["at"], values["tz"]), reasons))
            elif code.startswith("tz_"):
                words = self._dunning_fact_words(code, values)
                suffix = f" [{words}]" if words else ""
            elif code in _NOTES or reasons is None:
                chunks.append(self._dunning_fact_words(code, values, first=not chunks))
            else:
                reasons.append(self._dunning_fact_words(code, values))
        if chunks and not isinstance(chunks[0], str):  # "martes 10 mar..." starts a line
            chunks[0] = (chunks[0][0][:1].upper() + chunks[0][0][1:], chunks[0][1])
        return "; ".join(chunk if isinstance(chunk, str) else f"{chunk[0]}: {', '.join(chunk[1])}"
                         for chunk in chunks) + suffix

    def _dunning_fact_words(self, code, values, first=True):
        """Words of one fact in the environment's language; '' for a fact that needs none."""
        _ = self.env._
        v = values
        if code == "now":
            moment = self._dunning_local_words(v["at"], v["tz"])
            if first:
                return _("Now: inside the send window (%s)", moment)
            return _("%s: inside the send window", moment)
        if code in ("before_window", "after_window", "meal", "meal_then_closed"):
            hours = {"start": self._dunning_time(v["start"]), "end": self._dunning_time(v["end"])}
            return {
                "before_window": lambda: _("before the window (%(start)s-%(end)s)", **hours),
                "after_window": lambda: _("after the window (%(start)s-%(end)s)", **hours),
                "meal": lambda: _("meal time (%(start)s-%(end)s)", **hours),
                "meal_then_closed": lambda: _(
                    "meal time (%(start)s-%(end)s), then the window closes", **hours),
            }[code]()
        if code == "clock_change":
            return _("outside hours (clock change)")
        if code == "no_slot_left":
            return _("no slot left that day (clock change)")
        if code == "no_slot":
            return _("%s has no slot (clock change)", self._dunning_day(v["day"]))
        if code == "weekend":
            return _("%s skipped (weekend)", self._dunning_weekday_range(v["first"], v["last"]))
        if code == "not_sending_day":
            names = self._dunning_weekday_range(v["first"], v["last"])
            if v["first"] == v["last"]:
                return _("%s skipped (not a sending day)", names)
            return _("%s skipped (not sending days)", names)
        if code == "closed":
            days = self._dunning_day_range(v["first"], v["last"])
            if v["name"]:
                return _("%(days)s closed (%(name)s)", days=days, name=v["name"])
            return _("%s closed", days)
        if code == "more_closed":
            if v["count"] == 1:
                return _("and 1 more closed day")
            return _("and %s more closed days", v["count"])
        if code == "avoided":
            return _("%(days)s avoided (preferred %(preferred)s)",
                     days=self._dunning_day_range(v["first"], v["last"]),
                     preferred=self._dunning_weekday_set(v["preferred"]))
        if code == "friday_afternoon":
            return _("Friday afternoon avoided (from %s)", self._dunning_time(v["midday"]))
        if code == "monday_morning":
            return _("Monday morning avoided (until %s)", self._dunning_time(v["midday"]))
        if code == "forced_after_limit":
            return _("it is %(time)s in %(tz)s: nothing is sent at or after %(limit)s, even on "
                     "request", time=self._dunning_time(v["at"]), tz=v["tz"],
                     limit=self._dunning_time(v["limit"]))
        if code == "forced_closed":
            args = {"day": self._dunning_day(v["day"]), "tz": v["tz"]}
            if v["name"]:
                return _("it is %(day)s in %(tz)s, a closed day (%(name)s)", name=v["name"],
                         **args)
            return _("it is %(day)s in %(tz)s, a closed day", **args)
        if code == "more":
            return _("and %s more skips", v["count"])
        if code == "first_allowed":
            return _("first allowed time")
        if code == "no_preferred":
            args = {"day": self._dunning_weekday(v["day"]),
                    "preferred": self._dunning_weekday_set(v["preferred"]), "days": v["days"]}
            if v["days"] == 1:
                return _("%(day)s used: no preferred day (%(preferred)s) within 1 day", **args)
            return _("%(day)s used: no preferred day (%(preferred)s) within %(days)s days", **args)
        if code == "hour_full":
            moment = self._dunning_local_words(v["at"], v["tz"])
            if v["skipped"] == 1:
                return _("hour full, moved to %s", moment)
            return _("hour full, moved to %(moment)s (%(count)s full hours skipped)",
                     moment=moment, count=v["skipped"])
        if code == "spread":
            return _("spread to %(time)s (%(position)s/%(per_hour)s in this hour)",
                     time=self._dunning_time(v["at"]), position=v["position"],
                     per_hour=v["per_hour"])
        if code == "cap":
            args = {"cap": v["cap"], "days": v["days"],
                    "date": format_date(self.env, v["contact"], date_format="d MMM"),
                    "channel": (self.env["dunning.plan"]._dunning_channel_label(v["channel"])
                                if v["channel"] else _("messages"))}
            if v["days"] == 1:
                return _("at most %(cap)s %(channel)s in 1 day: moved after the contact of "
                         "%(date)s", **args)
            return _("at most %(cap)s %(channel)s in %(days)s days: moved after the contact of "
                     "%(date)s", **args)
        if code == "no_moment":
            return _("No allowed sending moment within %(days)s days after %(moment)s: check the "
                     "allowed weekdays (%(weekdays)s), the hours (%(start)s-%(end)s) and the "
                     "closed days.",
                     days=v["days"], moment=self._dunning_local_words(v["at"], v["tz"]),
                     weekdays=self._dunning_weekday_set(v["weekdays"]),
                     start=self._dunning_time(v["start"]), end=self._dunning_time(v["end"]))
        if code == "tz_customer":
            return ""
        if code == "tz_country":
            return _("time zone of the customer's country (%s)", v["country"])
        if code == "tz_company_zones":
            return _("company time zone (country %(country)s has %(zones)s time zones)",
                     country=v["country"], zones=v["zones"])
        if code == "tz_company":
            return _("company time zone (customer has no time zone)")
        if code == "tz_utc":
            return _("UTC (no valid customer, country or company time zone)")
        if code == "tz_phone":
            return _("time zone of the mobile number %s", v["number"])
        if code in _RULES:
            return self._dunning_rules_words(code, values)
        raise ValueError(f"Unknown send window fact {code!r}")

    def _dunning_rules_words(self, code, values):
        """Why a policy's send window cannot be used (``tools/window_rules.WindowRulesError``),
        in the environment's language: the user who edits the policy reads it."""
        _ = self.env._
        v = values
        if code == "window_not_hour":
            if v["bound"] == "start":
                return _("Window start must be a decimal hour (9.5 = 09:30), got %s.",
                         repr(v["value"]))
            return _("Window end must be a decimal hour (9.5 = 09:30), got %s.", repr(v["value"]))
        if code == "window_start_negative":
            return _("Window start %s is before 00:00.", repr(v["start"]))
        if code == "window_after_limit":
            return _("Window end %(end)s is after %(limit)s, the legal/courtesy hard limit: no "
                     "reminder may be sent at or after %(limit)s local time.",
                     end=self._dunning_minutes(v["end"]), limit=self._dunning_minutes(v["limit"]))
        if code == "window_order":
            return _("Window start (%(start)s) must be before window end (%(end)s).",
                     start=self._dunning_minutes(v["start"]), end=self._dunning_minutes(v["end"]))
        if code == "meal_incomplete":
            return _("The meal blackout needs both a start and an end (or neither, to switch it "
                     "off).")
        if code == "meal_not_hour":
            if v["bound"] == "start":
                return _("Meal blackout start must be a decimal hour, got %s.", repr(v["value"]))
            return _("Meal blackout end must be a decimal hour, got %s.", repr(v["value"]))
        if code == "meal_outside_day":
            return _("The meal blackout must lie between 00:00 and 24:00.")
        if code == "meal_order":
            return _("Meal blackout start (%(start)s) must be before its end (%(end)s).",
                     start=self._dunning_minutes(v["start"]), end=self._dunning_minutes(v["end"]))
        if code == "meal_covers_window":
            return _("The meal blackout (%(meal_start)s-%(meal_end)s) covers the whole window "
                     "(%(start)s-%(end)s): no time is left to send.",
                     **{key: self._dunning_minutes(v[key])
                        for key in ("meal_start", "meal_end", "start", "end")})
        if code == "weekdays_invalid":
            if v["which"] == "allowed":
                return _("Allowed weekdays must be numbers 0 (Monday) to 6 (Sunday), got %s.",
                         repr(v["value"]))
            return _("Preferred weekdays must be numbers 0 (Monday) to 6 (Sunday), got %s.",
                     repr(v["value"]))
        if code == "no_allowed_weekday":
            return _("At least one weekday must be allowed for sending.")
        if code == "preferred_not_allowed":
            return _("Preferred weekdays must also be allowed weekdays: %s is preferred but not "
                     "allowed.", self._dunning_weekday_set(v["weekdays"]))
        if code == "midday_not_hour":
            return _("The hour splitting morning from afternoon must be a decimal hour, got %s.",
                     repr(v["value"]))
        if code == "midday_outside_window":
            return _("The hour splitting morning from afternoon (%(midday)s) must lie inside the "
                     "window (%(start)s-%(end)s) to avoid Friday afternoons or Monday mornings.",
                     **{key: self._dunning_minutes(v[key]) for key in ("midday", "start", "end")})
        if code == "avoid_leaves_nothing":
            meal = {"start": self._dunning_minutes(v["meal_start"]),
                    "end": self._dunning_minutes(v["meal_end"])}
            if v["weekday"] == 4:
                return _("Nothing is left to send on Fridays: the afternoon is avoided and the "
                         "meal blackout (%(start)s-%(end)s) covers the morning.", **meal)
            return _("Nothing is left to send on Mondays: the morning is avoided and the meal "
                     "blackout (%(start)s-%(end)s) covers the afternoon.", **meal)
        # delay_invalid: the policy's "Preferred Day Tolerance (days)"
        return _("The preferred day tolerance must be a whole number of days (0 or more), "
                 "got %s.", repr(v["value"]))

    # ------------------------------------------------------------------ dates, times, weekdays
    def _dunning_minutes(self, minutes):
        """``21:00`` for minutes after midnight; a wrong input past 24:00 reads ``25:00``."""
        if 0 <= minutes < 24 * 60:
            return self._dunning_time(time(minutes // 60, minutes % 60))
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def _dunning_memo(self, key, make):
        """Words already formatted in this transaction (babel is slow, and a planning run
        words the same days and hours for thousands of customers), per language."""
        memo = self.env.cr.cache.setdefault("dunning.send.window", {})
        key = (self.env.lang or get_lang(self.env).code, *key)
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def _dunning_time(self, value):
        """``09:30`` (a time, or the wall time of an aware datetime)."""
        value = getattr(value, "timetz", lambda: value)()
        return self._dunning_memo(("time", value.hour, value.minute), lambda: format_time(
            self.env, value, time_format="HH:mm"))

    def _dunning_day(self, day):
        """``Thursday 26 Nov`` / ``jueves 26 nov`` / ``Donnerstag, 26. Nov.``: the pattern is
        translated (a babel / CLDR pattern: each language orders its own)."""
        pattern = self.env._("EEEE d MMM")
        return self._dunning_memo(("day", pattern, day), lambda: format_date(
            self.env, day, date_format=pattern))

    def _dunning_day_range(self, first, last):
        if first == last:
            return self._dunning_day(first)
        return f"{self._dunning_day(first)}-{self._dunning_day(last)}"

    def _dunning_moment_words(self, moment, tz):
        """``Tuesday 10 Mar 09:00 Europe/Madrid``: a local moment (aware) in its zone."""
        return f"{self._dunning_day(moment.date())} {self._dunning_time(moment)} {tz}"

    def _dunning_local_words(self, moment, tz):
        """``Tue 24 Nov 2026 09:00 (America/New_York)``."""
        day = self._dunning_memo(("local day", moment.date()), lambda: format_date(
            self.env, moment.date(), date_format="EEE d MMM y"))
        return f"{day} {self._dunning_time(moment)} ({tz})"

    def _dunning_weekday_names(self):
        locale = babel_locale_parse(get_lang(self.env).code)
        return get_day_names("wide", locale=locale)  # 0 = Monday, as Python's weekday()

    def _dunning_weekday(self, day):
        return self._dunning_weekday_names()[day.weekday()]

    def _dunning_weekday_range(self, first, last):
        names = self._dunning_weekday_names()
        if first == last:
            return names[first.weekday()]
        return f"{names[first.weekday()]}-{names[last.weekday()]}"

    def _dunning_weekday_set(self, weekdays):
        """``(1, 2, 3)`` -> ``Tuesday-Thursday``; ``(0, 2)`` -> ``Monday, Wednesday``."""
        names = self._dunning_weekday_names()
        return ", ".join("-".join(names[wd] for wd in group)
                         for group in window_rules.weekday_groups(weekdays)) or self.env._("none")
