"""Find human-readable string literals in Python that reach people untranslated."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "backsoon"
#: Raising or returning one of these shows its first argument to a person.
ERRORS = {
    "Invalid",
    "Conflict",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "TooLarge",
    "DomainError",
    "PermissionDenied",
    "ValidationError",
    "FetchRefused",
    "HttpResponseBadRequest",
    "HttpResponseNotFound",
    "HttpResponseForbidden",
}
#: The second argument of these is shown: messages.success(request, text), add_error(field, text).
MESSAGE_FUNCTIONS = {"success", "error", "info", "warning", "add_message", "add_error"}
TEXT_KEYS = {"detail", "message"}


def _is_text(node: ast.AST) -> bool:
    """A literal (or f-string, or literal % values) with words in it."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_text(node.left)
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(v, ast.Constant) and any(c.isalpha() for c in str(v.value))
            for v in node.values
        )
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value.strip()
    )


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def untranslated_literals(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            args = list(node.args)
            if name in ERRORS and args and _is_text(args[0]):
                found.append((node.lineno, ast.unparse(args[0])))
            elif name in MESSAGE_FUNCTIONS and len(args) >= 2 and _is_text(args[1]):
                found.append((node.lineno, ast.unparse(args[1])))
            for kw in node.keywords:
                if kw.arg in ("detail", "error", "message") and _is_text(kw.value):
                    found.append((node.lineno, ast.unparse(kw.value)))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value in TEXT_KEYS
                    and value is not None
                    and _is_text(value)
                ):
                    found.append((node.lineno, ast.unparse(value)))
    return found


def python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)
