"""Text helpers of the read model: language fallback, sort keys, normalized facet values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

LANGS: tuple[str, ...] = ("it", "fr", "en", "co", "sc")
"""Languages the API serves names in (docs/api.md, Language: it, fr, en, and co / sc where sources have them)."""

FALLBACK: tuple[str, ...] = ("en", "it", "fr")
"""After the requested language, names fall back to these, in this order, then to any."""

DEFAULT_LANG = "en"
NO_NAME = "\U0010ffff"  # sorts after every real name, so nameless entities come last
_SPACES = re.compile(r"\s+")


def lang_chain(lang: str) -> tuple[str, ...]:
    """The languages to try for `lang`: itself, then the fallbacks."""
    chain = _CHAINS.get(lang)
    return chain if chain is not None else (lang, *(f for f in FALLBACK if f != lang))


_CHAINS = {lang: (lang, *(f for f in FALLBACK if f != lang)) for lang in LANGS}


def pick(values: Mapping[str, str], lang: str) -> tuple[str | None, str | None]:
    """The value in the best language for `lang`, and that language ("" = no tag).

    >>> pick({"it": "Torre", "fr": "Tour"}, "en")
    ('Torre', 'it')
    """
    for candidate in lang_chain(lang):
        if candidate in values:
            return values[candidate], candidate
    for candidate in sorted(values):
        return values[candidate], candidate
    return None, None


def fold(text: str) -> str:
    """Case-folded text without accents and with single spaces: `Città  Alta` -> `citta alta`."""
    if text.isascii():
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def sort_keys(values: Mapping[str, str], langs: tuple[str, ...] = LANGS) -> list[str]:
    """The keys an entity sorts by, one per language: its folded best name, nameless last."""
    folded: dict[str, str] = {}
    keys = []
    for lang in langs:
        name, _ = pick(values, lang)
        if name is None:
            keys.append(NO_NAME)
            continue
        if name not in folded:
            folded[name] = fold(name)
        keys.append(folded[name])
    return keys


def facet_value(text: str) -> str:
    """A free-text facet value (municipality) as matched: folded, without '|'."""
    return fold(text).replace("|", " ")


def pipes(values: list[str] | tuple[str, ...] | set[str]) -> str:
    """Values as one '|a|b|' string, sorted, for `instr` matching in SQL."""
    return "|" + "|".join(sorted(set(values))) + "|" if values else "|"
