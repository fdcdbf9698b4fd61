"""``backsoon manage compiletranslations``: compile every .po under LOCALE_PATHS to .mo.

A pure-Python ``compilemessages`` (polib): no GNU gettext needed. Fuzzy and empty
entries are left out, so those messages show in English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backsoon.web.management import i18n


class Command(BaseCommand):
    help = "Compile every .po catalogue under LOCALE_PATHS to the .mo file Django reads."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        catalogues = sorted(po for base in settings.LOCALE_PATHS for po in Path(base).rglob("*.po"))
        if not catalogues:
            raise CommandError(f"No .po files under {settings.LOCALE_PATHS}.")
        for po_path in catalogues:
            try:
                changed = i18n.compile_catalogue(po_path)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{po_path}: {exc}") from exc
            if options["verbosity"] >= 1:
                state = "compiled" if changed else "up to date"
                self.stdout.write(f"{po_path.with_suffix('.mo')}: {state}")
