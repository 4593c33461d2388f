"""Find brand names in text: whole tokens, every case form (pymorphy3 normal forms), multi-word and hyphenated."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from nlp.homonyms import is_ambiguous
from nlp.lemmas import Token, tokenize, word_info
from rezonans.brands import BrandCard, BrandSet

_DASHES = {"-", "–", "—", "‐", "‑"}
_WORDCHAR = re.compile(r"\w")
_NOT_KEY = re.compile(r"[\W_]+")
# What may follow a brand's name inside a handle: «@Beeline_RUS», «@Tele2Russia», «@sberbank_help».
_HANDLE_TAILS = {
    "ru",
    "rus",
    "russia",
    "rf",
    "kz",
    "uz",
    "ua",
    "by",
    "official",
    "news",
    "online",
    "press",
    "help",
    "support",
    "care",
    "team",
    "group",
    "bank",
    "pr",
    "info",
    "media",
    "tv",
    "corp",
    "corpru",
    "ukraine",
    "life",
    "ру",
    "рф",
    "онлайн",
    "россия",
    "украина",
    "пресс",
    "помощь",
}
_HANDLE_HEADS = ("ru", "by", "kz", "ua", "uz", "the", "my")
_SOCIAL = re.compile(
    r"(?:([#@])([^\W_]\w*)|(?<![\w.\-])(?:https?://)?(?:www\.)?([^\W_][\w\-]*)\.(?:ru|рф|com|net|org|su|kz|by|ua|uz|io)\b)",
    re.IGNORECASE,
)


def compact(text: str) -> str:
    """A name squeezed for handles and hashtags: lower case, ё as е, no spaces, hyphens, dots or underscores."""
    return _NOT_KEY.sub("", text.lower().replace("ё", "е"))


def _boundary_after(body: str, n: int) -> bool:
    """Whether the n-th squeezed character of a handle is followed by a separator, a digit or a capital letter."""
    seen = 0
    for i, ch in enumerate(body):
        if _NOT_KEY.fullmatch(ch):
            continue
        seen += 1
        if seen == n:
            nxt = body[i + 1 : i + 2]
            return not nxt or not nxt.isalpha() or (nxt.isupper() and not body[: i + 1].isupper())
    return False


def token_forms(text: str) -> frozenset[str]:
    """Every key a text token can match: its lower-case form and all its possible normal forms."""
    if text in _DASHES:
        return frozenset({"-"})
    low = text.lower().replace("’", "'")
    if not _WORDCHAR.search(low):
        return frozenset({low})
    return word_info(low).forms


def pattern_keys(text: str) -> frozenset[str]:
    """Keys of one word of a brand name: the word itself plus its nominative readings (all readings if none)."""
    if text in _DASHES:
        return frozenset({"-"})
    low = text.lower().replace("ё", "е")
    if not _WORDCHAR.search(low):
        return frozenset({low})
    from nlp.lemmas import morph

    parses = morph().parse(low)
    nomn = {p.normal_form.replace("ё", "е") for p in parses if "nomn" in p.tag or "Fixd" in p.tag}
    return frozenset({low} | (nomn or {p.normal_form.replace("ё", "е") for p in parses}))


@dataclass(slots=True)
class Pattern:
    """One compiled brand name (or exclusion phrase) as a sequence of per-token key sets."""

    brand: str
    name: str
    keys: list[frozenset[str]]
    exclude: bool = False


@dataclass(slots=True)
class Hit:
    """A brand name found in a text."""

    brand: str
    start: int
    end: int
    text: str
    name: str  # the card name or alias that matched
    first_token: int  # index of the first token in the token list
    n_tokens: int
    kind: str = "name"  # "name" (words of a name), "hashtag", "handle" (@name) or "domain" (e-mail or web address)


@dataclass
class BrandMatcher:
    """Match all brand cards against texts; build once, reuse for every article."""

    brands: BrandSet
    patterns: list[Pattern] = field(default_factory=list)
    _index: dict[str, list[Pattern]] = field(default_factory=dict)
    _compact: dict[str, tuple[str, str]] = field(default_factory=dict)  # squeezed name -> (brand, card name)
    _ambiguous: set[str] = field(default_factory=set)  # cards with a name that is also a common word
    _excluded: list[str] = field(default_factory=list)  # squeezed exclusion phrases («магнитогорск»)

    def __post_init__(self) -> None:
        for card in self.brands.brands:
            self._add_card(card)

    def _add_card(self, card: BrandCard) -> None:
        """Compile a card's names and exclusion phrases."""
        if any(is_ambiguous(card, n, len(tokenize(n))) for n in card.match_names):
            self._ambiguous.add(card.id)
        self._excluded.extend(k for k in (compact(e) for e in card.exclude) if len(k) >= 3)
        for name in [*card.match_names, *card.handles]:
            key = compact(name)
            if len(key) >= 3:
                self._compact.setdefault(key, (card.id, name))
        for name, excl in [(n, False) for n in card.match_names] + [(e, True) for e in card.exclude]:
            toks = tokenize(name)
            if not toks:
                continue
            pat = Pattern(card.id, name, [pattern_keys(t.text) for t in toks], excl)
            self.patterns.append(pat)
            for key in pat.keys[0]:
                self._index.setdefault(key, []).append(pat)

    def find(self, text: str, tokens: list[Token] | None = None) -> list[Hit]:
        """All brand hits in `text`, longest match first at each position, no overlaps, exclusions applied."""
        tokens = tokenize(text) if tokens is None else tokens
        forms = [token_forms(t.text) for t in tokens]
        found: list[tuple[int, int, Pattern]] = []  # (first token, n tokens, pattern)
        n = len(tokens)
        index = self._index
        for i in range(n):
            cands = None
            for key in forms[i]:
                lst = index.get(key)
                if lst:
                    cands = lst if cands is None else cands + lst
            if not cands:
                continue
            for pat in cands:
                k = len(pat.keys)
                if i + k > n:
                    continue
                ok = True
                for j in range(1, k):
                    if not (pat.keys[j] & forms[i + j]):
                        ok = False
                        break
                    # a hyphen inside a name must be written without spaces around it («Т-Банк», not «Т - Банк» ... both ok)
                if ok:
                    found.append((i, k, pat))
        if not found:
            return self.find_social(text, tokens, []) if self._compact else []
        excluded = [(i, i + k) for i, k, p in found if p.exclude]
        found.sort(key=lambda f: (f[0], -f[1]))
        hits: list[Hit] = []
        last_end = -1
        for i, k, pat in found:
            if pat.exclude or i < last_end:
                continue
            if any(a <= i and i + k <= b for a, b in excluded) or any(
                a < i + k and i < b and b - a > k for a, b in excluded
            ):
                continue
            start, end = tokens[i].start, tokens[i + k - 1].end
            hits.append(Hit(pat.brand, start, end, text[start:end], pat.name, i, k))
            last_end = i + k
        if self._compact:
            hits = sorted(hits + self.find_social(text, tokens, hits), key=lambda h: h.start)
        return hits

    def _squeezed(self, token: str, loose: bool) -> tuple[str, str] | None:
        """(brand, name) of a hashtag or handle: its squeezed text is a name, or (loose) starts with one that is
        followed by a known tail («Beeline_RUS», «mts_ua»), a word boundary («MegaFonKomiPR», «МТСУкраина») or,
        for long unambiguous names, anything («megafonvolga»); a known prefix may come first («ru_mts»)."""
        key = compact(token)
        got = self._compact.get(key)
        if got is not None or not loose:
            return got
        body = token.lstrip("@#")
        for pre in ("", *_HANDLE_HEADS):
            if pre and not key.startswith(pre):
                continue
            rest = key[len(pre) :]
            for cut in range(len(rest) if pre else len(rest) - 1, 2, -1):
                got = self._compact.get(rest[:cut])
                if got is None:
                    continue
                tail = rest[cut:]
                if tail in _HANDLE_TAILS or _boundary_after(body, len(pre) + cut):
                    return got
                if not pre and (cut >= 7 or (cut >= 6 and got[0] not in self._ambiguous)):
                    return got
        return None

    def find_social(self, text: str, tokens: list[Token], taken: list[Hit]) -> list[Hit]:
        """Hashtags (#БанкМосквы), handles (@Beeline_RUS) and addresses (pomogite@beeline.ru, mts.ru) of a brand,
        also glued to the text before them («вопроса.#билайн», «#МТС#крымнаш»)."""
        # taken spans, sorted and without overlaps, so the one that starts last before b is the only one that
        # can overlap [a, b): a bisection, not a scan of every hit (an article may hold thousands)
        span_starts = [h.start for h in taken]
        span_ends = [h.end for h in taken]
        starts = [t.start for t in tokens]
        hits: list[Hit] = []
        for m in _SOCIAL.finditer(text):
            sign = m.group(1) or ""
            g = 2 if sign else 3
            body, a, b = m.group(g), m.start(g), m.end(g)
            k = bisect_left(span_starts, b) - 1
            if k >= 0 and span_ends[k] > a:
                continue  # already a name hit (e.g. «#Сбербанк»)
            if sign == "#":
                got, kind = self._squeezed(body, loose=True), "hashtag"
            elif sign == "@" and (m.start() == 0 or not text[m.start() - 1].isalnum()):
                got, kind, a = self._squeezed(body, loose=True), "handle", m.start()
            else:  # e-mail or web address
                got, kind = self._squeezed(body, loose=False), "domain"
            if got is None or any(compact(body).startswith(e) for e in self._excluded):
                continue
            first = max(0, bisect_right(starts, a) - 1)
            hits.append(Hit(got[0], a, b, text[a:b], got[1], first, 1, kind))
            k = bisect_left(span_starts, a)
            span_starts.insert(k, a)
            span_ends.insert(k, b)
        return hits
