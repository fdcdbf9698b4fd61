"""Find visible template text that is not marked for translation."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2] / "backsoon"
#: Text that is the same in every language: the brand, "API", the handle sign.
ALLOWED = {"Backsoon", "API", "@", "back", "soon"}
#: Attributes whose text a person reads or hears.
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm", "label"}
HOLE = "\x00"  # where a template tag or variable was
LETTERS = re.compile(r"[^\W\d_]")


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self.found.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.found.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append(data)


def untranslated_text(source: str) -> list[str]:
    """Every run of visible text in ``source`` outside the translation tags."""
    parts: list[str] = []
    depth_translate = depth_comment = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans"):
                depth_translate += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                depth_translate -= 1
            elif name == "comment":
                depth_comment += 1
            elif name == "endcomment":
                depth_comment -= 1
            parts.append(HOLE)
        elif token.token_type == TokenType.TEXT and not (depth_translate or depth_comment):
            parts.append(token.contents)
        else:
            parts.append(HOLE)
    finder = _TextFinder()
    finder.feed("".join(parts))
    finder.close()
    problems = []
    for text in finder.found:
        for chunk in text.split(HOLE):
            chunk = " ".join(chunk.split())
            if LETTERS.search(chunk) and chunk.strip(" .,:;·…!?()") not in ALLOWED:
                problems.append(chunk)
    return problems


def templates() -> list[Path]:
    return sorted(p for p in ROOT.rglob("templates/**/*.html"))
