"""The languages a function may be written in, and how a file name or a short name maps to one.

Canonical names are the store's (``python``, ``typescript``, ``javascript``); the short forms of
the CLI (``py``, ``ts``, ``js``) are accepted everywhere a language is taken. TypeScript and
JavaScript share one runtime (``js``: V8 through mini-racer), Python has its own (``python``).
"""

from __future__ import annotations

from pathlib import PurePath

LANGUAGES = ("python", "typescript", "javascript")
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py",),
    "typescript": (".ts", ".mts", ".cts"),
    "javascript": (".js", ".mjs", ".cjs"),
}
DEFAULT_FILENAMES = {"python": "handler.py", "typescript": "handler.ts", "javascript": "handler.js"}
_ALIASES = {"py": "python", "ts": "typescript", "js": "javascript"}
SHORT_NAMES = {v: k for k, v in _ALIASES.items()}


def normalize_language(name: str) -> str:
    """``python``/``typescript``/``javascript`` for a canonical or short name; ValueError otherwise."""
    lowered = str(name).strip().lower()
    canonical = _ALIASES.get(lowered, lowered)
    if canonical not in LANGUAGES:
        known = ", ".join([*LANGUAGES, *_ALIASES])
        raise ValueError(f"unknown language {name!r}; expected one of {known}")
    return canonical


def language_of(filename: str | PurePath) -> str | None:
    """The language a file name's extension says, or None for an unknown extension."""
    suffix = PurePath(str(filename)).suffix.lower()
    return next((lang for lang, exts in EXTENSIONS.items() if suffix in exts), None)


def resolve_language(filename: str | PurePath | None, language: str | None = None) -> str:
    """The language of a function from its explicit ``language`` or else its file name.

    Raises ValueError when neither tells, or when the two disagree (``handler.py`` as TypeScript).
    """
    by_name = language_of(filename) if filename else None
    if language:
        chosen = normalize_language(language)
        if by_name is not None and by_name != chosen:
            raise ValueError(f"{filename} is a {by_name} file name, but the language given is {chosen}")
        return chosen
    if by_name is None:
        known = ", ".join(ext for exts in EXTENSIONS.values() for ext in exts)
        raise ValueError(f"cannot tell the language of {filename!r}: expected a file ending in {known}")
    return by_name


def runtime_of(language: str) -> str:
    """The worker runtime that runs a language: ``python`` or ``js``."""
    return "python" if normalize_language(language) == "python" else "js"
