"""The Dutch catalogue is complete, and the pure-Python tooling builds it without GNU gettext."""

from __future__ import annotations

import gettext as gnu_gettext
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from backsoon.web.management import i18n

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "backsoon" / "locale" / "nl" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def messages() -> dict:
    return i18n.extract(ROOT / "backsoon", relative_to=ROOT)


def test_every_message_has_a_dutch_translation(messages):
    problems = i18n.problems(polib.pofile(str(PO)), messages)
    assert not problems, (
        "backsoon/locale/nl/LC_MESSAGES/django.po is not complete. Run "
        "`backsoon manage extracttranslations`, translate the new entries (no fuzzy or "
        "empty ones, same placeholders), and `make test` compiles it.\n" + "\n".join(problems)
    )


def test_the_catalogue_holds_no_stale_or_fuzzy_entries(messages):
    po = polib.pofile(str(PO))
    assert not [e.msgid for e in po if e.fuzzy]
    assert not [e.msgid for e in po.obsolete_entries()], "drop the #~ entries"
    stale = {(e.msgctxt, e.msgid) for e in po} - set(messages)
    assert not stale, f"entries no longer in the sources: {sorted(stale, key=str)}"


def test_the_check_command_agrees():
    call_command("extracttranslations", "--check", verbosity=0)


def test_the_compiled_catalogue_is_current():
    mo = PO.with_suffix(".mo")
    assert mo.exists(), "run `backsoon manage compiletranslations` (make test does)"
    assert mo.read_bytes() == polib.pofile(str(PO)).to_binary(), "the .mo is older than the .po"


def test_compiletranslations_builds_a_catalogue_gettext_reads(tmp_path):
    target = tmp_path / "nl" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO, target / "django.po")
    with override_settings(LOCALE_PATHS=[tmp_path]):
        call_command("compiletranslations", verbosity=0)
    with (target / "django.mo").open("rb") as fh:
        catalogue = gnu_gettext.GNUTranslations(fh)
    assert catalogue.gettext("Invitations") == "Uitnodigingen"
    assert catalogue.ngettext("%(n)s connection", "%(n)s connections", 2) == "%(n)s connecties"
    assert catalogue.ngettext("%(n)s connection", "%(n)s connections", 1) == "%(n)s connectie"
    assert catalogue.pgettext("submit a comment", "Comment") == "Plaatsen"


def test_compiletranslations_leaves_fuzzy_and_empty_entries_out(tmp_path):
    target = tmp_path / "nl" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = i18n.new_catalogue("nl")
    po.append(polib.POEntry(msgid="Kept", msgstr="Bewaard"))
    po.append(polib.POEntry(msgid="Unsure", msgstr="Onzeker", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Untranslated", msgstr=""))
    po.save(str(target / "django.po"))
    with override_settings(LOCALE_PATHS=[tmp_path]):
        call_command("compiletranslations", verbosity=0)
    with (target / "django.mo").open("rb") as fh:
        catalogue = gnu_gettext.GNUTranslations(fh)
    assert catalogue.gettext("Kept") == "Bewaard"
    assert catalogue.gettext("Unsure") == "Unsure"
    assert catalogue.gettext("Untranslated") == "Untranslated"


def test_compiletranslations_fails_without_catalogues(tmp_path):
    with override_settings(LOCALE_PATHS=[tmp_path]), pytest.raises(CommandError):
        call_command("compiletranslations", verbosity=0)


TEMPLATE = """{% load i18n %}
<h1>{% translate "Plain" %}</h1>
<p>{% translate "With context" context "a heading" %}</p>
{% translate "Kept as a variable" as label %}
{% blocktranslate with name=user.name %}Hello {{ name }}, 100% sure{% endblocktranslate %}
{% blocktranslate trimmed count counter=n %}
  One thing
{% plural %}
  {{ counter }} things
{% endblocktranslate %}
<input placeholder="{{ x|default:_("From a filter") }}">
"""


def test_template_extraction_matches_what_django_looks_up():
    found = {(m.msgctxt, m.msgid, m.msgid_plural) for m in i18n.messages_in_template(TEMPLATE)}
    assert found == {
        (None, "Plain", ""),
        ("a heading", "With context", ""),
        (None, "Kept as a variable", ""),
        (None, "Hello %(name)s, 100%% sure", ""),
        (None, "One thing", "%(counter)s things"),
        (None, "From a filter", ""),
    }


PYTHON = """
from django.utils.translation import gettext, gettext_lazy as _, ngettext, pgettext
from django.utils import translation

A = _("Lazy label")
B = gettext("Raised " "in two parts")
C = ngettext("%(n)d day", "%(n)d days", 3)
D = pgettext("date format", "j M")
E = translation.gettext("Through the module")
F = gettext(some_variable)
G = f"not {marked}"
"""


def test_python_extraction_reads_every_gettext_form():
    found = {(m.msgctxt, m.msgid, m.msgid_plural) for m in i18n.messages_in_python(PYTHON)}
    assert found == {
        (None, "Lazy label", ""),
        (None, "Raised in two parts", ""),
        (None, "%(n)d day", "%(n)d days"),
        ("date format", "j M", ""),
        (None, "Through the module", ""),
    }
    assert all(m.python_format for m in i18n.messages_in_python(PYTHON) if "%" in m.msgid)


def test_merge_keeps_translations_adds_new_entries_and_retires_old_ones():
    po = i18n.new_catalogue("nl")
    po.append(polib.POEntry(msgid="Stays", msgstr="Blijft"))
    po.append(polib.POEntry(msgid="Gone", msgstr="Weg"))
    messages = {
        (None, "Stays"): i18n.Message("Stays", files={"a.html"}),
        (None, "New"): i18n.Message("New", files={"b.py"}),
    }
    merged = i18n.merge(po, messages, keep_obsolete=True)
    by_id = {e.msgid: e for e in merged}
    assert by_id["Stays"].msgstr == "Blijft"
    assert by_id["New"].msgstr == ""
    assert by_id["Gone"].obsolete
    assert i18n.problems(merged, messages) == ["untranslated: 'New'"]
    assert "Gone" not in {e.msgid for e in i18n.merge(po, messages, keep_obsolete=False)}


def test_problems_catch_a_placeholder_the_translation_lost():
    po = i18n.new_catalogue("nl")
    po.append(polib.POEntry(msgid="Hi %(name)s", msgstr="Hoi %(naam)s"))
    messages = {(None, "Hi %(name)s"): i18n.Message("Hi %(name)s", files={"a.py"})}
    assert i18n.problems(po, messages) == ["placeholders differ: 'Hi %(name)s' -> 'Hoi %(naam)s'"]
