"""``backsoon manage extracttranslations``: update the .po catalogues from the sources.

A pure-Python ``makemessages``: no GNU gettext needed. See ``backsoon/web/management/i18n.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backsoon.web.management import i18n


class Command(BaseCommand):
    help = (
        "Extract translatable messages from backsoon's Python files and templates into "
        "locale/<language>/LC_MESSAGES/django.po for every language but the source (en)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; fail if a catalogue lacks a message or has an empty or fuzzy one.",
        )
        parser.add_argument(
            "--keep-obsolete",
            action="store_true",
            help="Keep messages no longer in the sources as #~ entries (default: drop them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR) / "backsoon"
        locale_dir = Path(settings.LOCALE_PATHS[0])
        messages = i18n.extract(root, relative_to=Path(settings.BASE_DIR))
        languages = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
        failures: list[str] = []
        for language in languages:
            path = locale_dir / language / "LC_MESSAGES" / "django.po"
            if options["check"]:
                if not path.exists():
                    failures.append(f"{path}: missing")
                    continue
                failures += [
                    f"{language}: {p}" for p in i18n.problems(polib.pofile(str(path)), messages)
                ]
                continue
            po = (
                polib.pofile(str(path), wrapwidth=100)
                if path.exists()
                else i18n.new_catalogue(language)
            )
            merged = i18n.merge(po, messages, keep_obsolete=options["keep_obsolete"])
            path.parent.mkdir(parents=True, exist_ok=True)
            merged.save(str(path))
            todo = len(i18n.problems(merged, messages))
            if options["verbosity"] >= 1:
                self.stdout.write(
                    f"{path.relative_to(settings.BASE_DIR)}: {len(messages)} messages, "
                    f"{todo} to translate"
                )
        if failures:
            raise CommandError("\n".join(failures))
