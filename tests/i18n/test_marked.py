"""Every visible text is marked for translation, in templates and in Python."""

from __future__ import annotations

import re

import pytest

from .pyscan import python_files, untranslated_literals
from .scan import ROOT, templates, untranslated_text


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_text_is_marked_for_translation(path):
    found = untranslated_text(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(ROOT)}: wrap in {{% translate %}} / {{% blocktranslate %}}: {found}"
    )


def test_the_template_scan_finds_unmarked_text():
    source = (
        '{% load i18n %}<p>Hello {{ name }}</p><input placeholder="Search" value="{{ q }}">'
        '<button title="{% translate "Fine" %}">Go</button>'
        "{% blocktranslate %}Marked {{ x }}{% endblocktranslate %}<script>var a = 'no';</script>"
        "{# a comment #}<span>· … ✓</span><a>API</a>{% comment %}Not shown{% endcomment %}"
        '<form data-confirm="Sure?"></form>{% if x %}Yes{% else %}{% translate "No" %}{% endif %}'
    )
    assert untranslated_text(source) == ["Hello", "Search", "Go", "Sure?", "Yes"]


PYTHON_SKIP = {"demo.py"}  # demo content: members' own texts, not the interface


@pytest.mark.parametrize(
    "path",
    [p for p in python_files() if p.name not in PYTHON_SKIP],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_texts_shown_to_people_are_marked(path):
    found = untranslated_literals(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(ROOT)}: wrap in gettext() (with %(name)s placeholders, "
        f"not f-strings): {found}"
    )


def test_the_python_scan_finds_unmarked_literals():
    source = """
raise Invalid("Plain text here.", code="x")
raise Conflict(f"An f-string {x}.", code="y")
raise NotFound(gettext("Marked text."), code="z")
messages.success(request, "Saved it.")
form.add_error(None, "Something wrong.")
JsonResponse({"detail": "Sign in first.", "code": "c"})
raise Invalid(problem, code="variable")
raise Invalid("%(n)s items." % {"n": 1})
"""
    assert sorted(text for _line, text in untranslated_literals(source)) == sorted(
        [
            "'Plain text here.'",
            "f'An f-string {x}.'",
            "'Saved it.'",
            "'Something wrong.'",
            "'Sign in first.'",
            "'%(n)s items.' % {'n': 1}",
        ]
    )


#: A literal date format in a template filter or a formats.date_format() call.
LITERAL_FORMAT = re.compile(
    r"""date:\s*(["'])(?P<a>[^"'\n]*)\1|date_format\([^,\n]+,\s*(["'])(?P<b>[^"'\n]*)\3"""
)


def test_short_month_formats_are_translatable():
    """Django's "M" is title case in every language ("2 Jan"); Dutch months are lower
    case ("2 jan"), so formats with a month abbreviation come from the catalogue
    (context "date format") and never from a literal in a template or a view."""
    offenders = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in [*templates(), *python_files()]
        for m in LITERAL_FORMAT.finditer(path.read_text(encoding="utf-8"))
        if "M" in (m.group("a") or m.group("b") or "").replace("\\M", "")
    ]
    assert not offenders


def test_the_format_scan_finds_a_literal_month_abbreviation():
    found = [
        m.group(0)
        for m in LITERAL_FORMAT.finditer(
            '{{ d|date:"j M" }} {{ d|date:"l j F" }} formats.date_format(day, "D j M Y")'
        )
        if "M" in (m.group("a") or m.group("b") or "")
    ]
    assert found == ['date:"j M"', 'date_format(day, "D j M Y"']
