"""The words of a search: cleaning the box's text, stemming it, and marking the hits in a fragment.

Plain functions (no ORM), shared by both search backends (``tickets/search.py``):

- :func:`clean` bounds what a user typed (length, NUL, lone surrogates, control characters);
- :func:`words` splits text into words the way both backends do (letters and digits; anything else,
  including every FTS5 operator character, separates words);
- :func:`stem` reduces a word with the Snowball stemmer of its alphabet: Cyrillic words with the
  Russian one, the others with the English (Porter2) one. That is what PostgreSQL's ``russian``
  configuration does (``russian_stem`` for words, ``english_stem`` for ASCII words), so one
  language-neutral index finds "принтера" for "принтер" and "printing" for "prints" on both databases;
- :func:`index_terms` is the text the SQLite FTS5 table stores (the stems), and :func:`fts5_match` the
  MATCH expression for a query: every stem double-quoted, so no user input is ever FTS5 syntax;
- :func:`fragment` cuts the part of a message around the first hit into pieces ``(text, is_hit)``; the
  template escapes every piece and wraps hits in ``<mark>``, so message text can never become markup.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

QUERY_MAX = 200  # characters of a search box that are searched (the rest is ignored, never an error)
MAX_WORDS = 8  # words of a query that are searched
INDEX_MAX = 100_000  # characters of one text that are indexed (a tsvector holds at most 1 MB)
WORD_MAX = 60  # characters of one word (longer "words" are noise: base64, hashes)

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_RU = snowballstemmer.stemmer("russian")
_EN = snowballstemmer.stemmer("english")

# Words PostgreSQL's ``russian`` configuration drops (its Russian and English stop lists, the common part):
# a query of only such words finds nothing there, so the SQLite backend ignores them too.
_STOP_TEXT = """
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было
вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас
нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем
была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем
ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец
два об другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя
впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между
a an and are as at be but by for if in into is it no not of on or such that the their then there
these they this to was will with
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def clean(text: str | None) -> str:
    """The box's text, bounded: at most :data:`QUERY_MAX` characters, no NUL, control or lone surrogate."""
    text = (text or "")[: QUERY_MAX * 4]
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Cf") else ch for ch in text
    )  # NUL and controls, lone surrogates (\ud800), format characters
    return " ".join(text.split())[:QUERY_MAX]


def words(text: str) -> list[str]:
    """The words of ``text`` in order, lower-cased ("ё" read as "е", as the Russian stemmer expects)."""
    return [w.replace("ё", "е") for w in _WORD.findall(text.lower()) if len(w) <= WORD_MAX]


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The stem of one lower-cased word, by the stemmer of its alphabet."""
    if word.isdigit():
        return word
    return (_RU if _CYRILLIC.search(word) else _EN).stemWord(word)


def query_terms(text: str) -> list[str]:
    """The distinct stems a query searches for, stop words left out, at most :data:`MAX_WORDS`."""
    result: list[str] = []
    for word in words(clean(text)):
        if word in STOP_WORDS:
            continue
        term = stem(word)
        if term and term not in result:
            result.append(term)
    return result[:MAX_WORDS]


def index_terms(text: str | None) -> str:
    """What the SQLite FTS5 index stores for ``text``: its stems, space-separated."""
    return " ".join(stem(word) for word in words((text or "")[:INDEX_MAX]))


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression requiring every term: each a quoted string, never an operator."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def fragment(text: str, terms: list[str], *, width: int = 220) -> list[tuple[str, bool]]:
    """About ``width`` characters of ``text`` around its first hit, as pieces ``(text, is_hit)``.

    A hit is a word whose stem is one of ``terms``. Without a hit (the title matched, or a customer's
    name) the fragment is the text's beginning. The pieces are plain text: the caller escapes them.
    """
    text = " ".join((text or "").split())
    if not text:
        return []
    wanted = set(terms)
    hits = [m.span() for m in _WORD.finditer(text) if stem(m.group().lower().replace("ё", "е")) in wanted]
    start = 0
    if hits:
        start = max(0, hits[0][0] - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < hits[0][0] else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    pieces: list[tuple[str, bool]] = [("…", False)] if start else []
    position = start
    for hit_start, hit_end in hits:
        if hit_start < start or hit_end > end:
            continue
        if hit_start > position:
            pieces.append((text[position:hit_start], False))
        pieces.append((text[hit_start:hit_end], True))
        position = hit_end
    if position < end:
        pieces.append((text[position:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
