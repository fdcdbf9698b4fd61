"""Infrastructure rows shared by the apps."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class PeriodicSlot(models.Model):
    """One row per periodic job and time slot: the worker that inserts it enqueues the job.

    With several workers (on PostgreSQL) the unique constraint lets exactly one of
    them enqueue each run, so periodic jobs are not done twice.
    """

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField(help_text="Slot number: unix time divided by the period.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["name", "slot"], name="periodic_slot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.slot}"
