"""Translation catalogues without GNU gettext: extract messages, merge .po files, compile .mo.

Django's ``makemessages`` and ``compilemessages`` call ``xgettext``, ``msgmerge`` and
``msgfmt``. These functions do the same job in pure Python (``ast``, ``tokenize``
and polib), so a fresh machine can build and test the translations:

- Python files: calls of ``gettext``, ``gettext_lazy``, ``gettext_noop``, ``_``,
  ``ngettext(_lazy)``, ``pgettext(_lazy)`` and ``npgettext(_lazy)`` whose message
  arguments are string literals.
- Templates: Django's own ``templatize`` (what ``makemessages`` feeds to xgettext)
  turns ``{% translate %}`` and ``{% blocktranslate %}`` (with ``count``/``plural``,
  ``with``, ``context`` and ``trimmed``) into such calls, which are then read the
  same way, so the msgids are exactly the ones Django looks up at runtime.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polib  # type: ignore[import-untyped]
from django.utils.translation.template import templatize

#: keyword -> (context argument, singular argument, plural argument), 0-based; -1: none
KEYWORDS: dict[str, tuple[int, int, int]] = {
    "_": (-1, 0, -1),
    "gettext": (-1, 0, -1),
    "gettext_lazy": (-1, 0, -1),
    "gettext_noop": (-1, 0, -1),
    "ngettext": (-1, 0, 1),
    "ngettext_lazy": (-1, 0, 1),
    "pgettext": (0, 1, -1),
    "pgettext_lazy": (0, 1, -1),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
TEMPLATE_SUFFIXES = (".html", ".txt")
SKIP_DIRS = {"migrations", "locale", "static", "__pycache__"}
PYTHON_FORMAT = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifr]")
PLURAL_FORMS = {"nl": "nplurals=2; plural=(n != 1);", "en": "nplurals=2; plural=(n != 1);"}


@dataclass
class Message:
    """One translatable message and the files it occurs in."""

    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    files: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def python_format(self) -> bool:
        return bool(PYTHON_FORMAT.search(self.msgid + self.msgid_plural))


def _literal(tokens: list[tokenize.TokenInfo]) -> str | None:
    """The value of one call argument if it is only string literals, else None."""
    if not tokens or any(t.type != tokenize.STRING for t in tokens):
        return None
    try:
        return "".join(ast.literal_eval(t.string) for t in tokens)
    except (ValueError, SyntaxError):
        return None


def _calls_in_tokens(source: str) -> Iterator[tuple[str, list[str | None]]]:
    """``(keyword, [argument value or None, ...])`` for every keyword call in ``source``."""
    # Indentation means nothing in templatize's output; left in, it trips the tokenizer.
    flat = "\n".join(line.lstrip() for line in source.splitlines())
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(flat).readline)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT)
    ]
    i = 0
    while i < len(tokens) - 1:
        tok = tokens[i]
        if tok.type == tokenize.NAME and tok.string in KEYWORDS and tokens[i + 1].string == "(":
            args: list[str | None] = []
            current: list[tokenize.TokenInfo] = []
            depth = 0
            j = i + 2
            while j < len(tokens):
                t = tokens[j]
                if t.type == tokenize.OP and t.string in "([{":
                    depth += 1
                elif t.type == tokenize.OP and t.string in ")]}":
                    if depth == 0:
                        break
                    depth -= 1
                if depth == 0 and t.type == tokenize.OP and t.string == ",":
                    args.append(_literal(current))
                    current = []
                else:
                    current.append(t)
                j += 1
            if current:
                args.append(_literal(current))
            yield tok.string, args
            i = j
        i += 1


def _calls_in_python(source: str) -> Iterator[tuple[str, list[str | None]]]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name not in KEYWORDS:
            continue
        args = [
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
            for a in node.args
        ]
        yield name, args


def _messages(calls: Iterable[tuple[str, list[str | None]]]) -> Iterator[Message]:
    for keyword, args in calls:
        ctx_at, singular_at, plural_at = KEYWORDS[keyword]
        needed = max(ctx_at, singular_at, plural_at)
        if len(args) <= needed:
            continue
        msgid = args[singular_at]
        plural = args[plural_at] if plural_at >= 0 else ""
        context = args[ctx_at] if ctx_at >= 0 else None
        if not msgid or plural is None or (ctx_at >= 0 and context is None):
            continue  # a variable, not a literal: nothing to extract
        yield Message(msgid=msgid, msgid_plural=plural, msgctxt=context)


def messages_in_template(source: str, origin: str = "") -> list[Message]:
    return list(_messages(_calls_in_tokens(templatize(source, origin=origin or None))))


def messages_in_python(source: str) -> list[Message]:
    return list(_messages(_calls_in_python(source)))


def source_files(root: Path) -> Iterator[Path]:
    """Python files and templates under ``root``, sorted, without migrations and static files."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(root).parts[:-1]):
            continue
        if path.suffix == ".py" or (
            path.suffix in TEMPLATE_SUFFIXES and "templates" in path.relative_to(root).parts
        ):
            yield path


def extract(root: Path, relative_to: Path | None = None) -> dict[tuple[str | None, str], Message]:
    """Every translatable message under ``root``, keyed by (context, msgid)."""
    found: dict[tuple[str | None, str], Message] = {}
    base = relative_to or root.parent
    for path in source_files(root):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(base).as_posix()
        if path.suffix == ".py":
            messages = messages_in_python(source)
        else:
            messages = messages_in_template(source, origin=name)
        for message in messages:
            known = found.setdefault(message.key, message)
            if message.msgid_plural and not known.msgid_plural:
                known.msgid_plural = message.msgid_plural
            known.files.add(name)
    return found


HEADER = (
    "Backsoon's interface, translated.\n"
    "Update the entries with `backsoon manage extracttranslations`; `make test` and\n"
    "`make run` compile this file to django.mo (`backsoon manage compiletranslations`)."
)


def new_catalogue(language: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=100)
    po.header = HEADER
    po.metadata = {
        "Project-Id-Version": "Backsoon",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURAL_FORMS.get(language, "nplurals=2; plural=(n != 1);"),
    }
    return po


def merge(
    po: polib.POFile, messages: dict[tuple[str | None, str], Message], *, keep_obsolete: bool
) -> polib.POFile:
    """``po`` brought up to date with ``messages``: what is new is added untranslated,
    translations are kept, entries no longer in the sources become obsolete (``#~``)
    or are dropped; entries are ordered by the first file they occur in."""
    existing = {(e.msgctxt, e.msgid): e for e in po}
    merged = new_catalogue(po.metadata.get("Language", ""))
    merged.metadata.update(po.metadata)
    merged.header = po.header.strip() or HEADER
    ordered = sorted(messages.values(), key=lambda m: (min(m.files), m.msgctxt or "", m.msgid))
    for message in ordered:
        entry = existing.pop(message.key, None)
        if entry is None or entry.obsolete:
            old = entry
            entry = polib.POEntry(msgid=message.msgid, msgctxt=message.msgctxt)
            if message.msgid_plural:
                entry.msgid_plural = message.msgid_plural
                entry.msgstr_plural = dict(old.msgstr_plural) if old else {0: "", 1: ""}
            else:
                entry.msgstr = old.msgstr if old else ""
            if old is not None and "fuzzy" in old.flags:
                entry.flags.append("fuzzy")
        elif message.msgid_plural and entry.msgid_plural != message.msgid_plural:
            entry.msgid_plural = message.msgid_plural
            entry.msgstr_plural = entry.msgstr_plural or {0: "", 1: ""}
            if "fuzzy" not in entry.flags:
                entry.flags.append("fuzzy")
        entry.occurrences = [(name, "") for name in sorted(message.files)]
        entry.flags = [f for f in entry.flags if f != "python-format"]
        if message.python_format:
            entry.flags.append("python-format")
        merged.append(entry)
    if keep_obsolete:
        for entry in existing.values():
            entry.obsolete = True
            entry.occurrences = []
            merged.append(entry)
    return merged


def problems(po: polib.POFile, messages: dict[tuple[str | None, str], Message]) -> list[str]:
    """What keeps ``po`` from being a complete translation of ``messages``."""
    entries = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}
    found: list[str] = []
    for key, message in sorted(messages.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        label = repr(message.msgid) + (f" (context {message.msgctxt!r})" if message.msgctxt else "")
        entry = entries.get(key)
        if entry is None:
            found.append(f"missing: {label}")
        elif entry.fuzzy:
            found.append(f"fuzzy: {label}")
        elif not entry.translated():
            found.append(f"untranslated: {label}")
        elif message.msgid_plural and entry.msgid_plural != message.msgid_plural:
            found.append(f"plural changed: {label}")
        else:
            for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
                if _placeholders(text) != _placeholders(message.msgid + message.msgid_plural):
                    found.append(f"placeholders differ: {label} -> {text!r}")
    return found


def _placeholders(text: str) -> set[str]:
    named = set(re.findall(r"%\(([A-Za-z_]\w*)\)[sd]", text))
    braces = set(re.findall(r"\{([A-Za-z_]\w*)\}", text))
    return {f"%({n})" for n in named} | {f"{{{n}}}" for n in braces}


def compile_catalogue(po_path: Path) -> bool:
    """Write the .mo beside ``po_path``; True when it changed. Fuzzy and empty entries
    are left out, as msgfmt does, so Django falls back to the English text."""
    mo_path = po_path.with_suffix(".mo")
    data = polib.pofile(str(po_path)).to_binary()
    if mo_path.exists() and mo_path.read_bytes() == data:
        return False
    tmp = mo_path.with_suffix(".mo.tmp")
    tmp.write_bytes(data)
    tmp.replace(mo_path)  # atomic: a server reading it never sees half a file
    return True
