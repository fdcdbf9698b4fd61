"""The periodic schedule: each job once per slot, whatever the number of workers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backsoon.tasks import PERIODIC, schedule_due
from backsoon.web.models import PeriodicSlot

pytestmark = pytest.mark.django_db


def test_each_periodic_job_is_enqueued_once_per_slot():
    now = datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)
    first = schedule_due(now=now)
    assert len(first) == len(PERIODIC)
    assert schedule_due(now=now) == []  # a second worker in the same minute
    assert len(schedule_due(now=now.replace(minute=1))) == len(PERIODIC)
    assert PeriodicSlot.objects.count() == 2 * len(PERIODIC)
