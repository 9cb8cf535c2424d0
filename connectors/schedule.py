"""Schedules of connector syncs: ``every 15m``, ``every 2h``, ``daily 02:30`` or cron.

Times are the cooperative's local time (settings.TIME_ZONE, Europe/Warsaw).
"""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.utils.translation import gettext as _

EVERY_RE = re.compile(r"^every\s+(\d+)\s*(m|min|h)$", re.IGNORECASE)
DAILY_RE = re.compile(r"^daily\s+([01]?\d|2[0-3]):([0-5]\d)$", re.IGNORECASE)


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    text: str
    interval: dt.timedelta | None = None
    cron: str | None = None

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first run strictly after ``moment`` (aware datetime)."""
        if self.interval is not None:
            # Aligned to the interval, so "every 15m" runs at :00, :15, :30, :45.
            seconds = int(self.interval.total_seconds())
            epoch = int(moment.timestamp())
            return dt.datetime.fromtimestamp((epoch // seconds + 1) * seconds, tz=dt.UTC)
        local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
        return croniter(self.cron, local).get_next(dt.datetime).astimezone(dt.UTC)


def parse_schedule(text: str) -> Schedule:
    text = " ".join((text or "").split())
    if match := EVERY_RE.match(text):
        amount = int(match.group(1))
        unit = match.group(2).lower()
        minutes = amount * 60 if unit == "h" else amount
        if minutes < 1 or minutes > 7 * 24 * 60:
            raise ScheduleError(_("The interval must be between 1 minute and 7 days."))
        return Schedule(text, interval=dt.timedelta(minutes=minutes))
    if match := DAILY_RE.match(text):
        return Schedule(text, cron=f"{int(match.group(2))} {int(match.group(1))} * * *")
    if len(text.split()) == 5 and croniter.is_valid(text):
        return Schedule(text, cron=text)
    raise ScheduleError(
        _("Unknown schedule %(text)r: use 'every 15m', 'every 2h', 'daily 02:30' or cron.")
        % {"text": text}
    )
