"""Choices shared by the away models, kept below them so that the calendar models can
use them without importing ``models.py``."""

from __future__ import annotations

from django.db import models


class Audience(models.TextChoices):
    """Who gets an absence's automatic reply (AWAY-SPEC R8)."""

    EVERYONE = "everyone"
    CONNECTIONS = "connections"
    NOBODY = "nobody"
