"""The NLP stage in one call: `Analyzer(brands).analyze(article)` fills mentions, tone, context, lemmas, reprints."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from nlp.context import is_main_subject, prominence, promo_codes, topics_of
from nlp.lemmas import _WORD, Token, tokenize, word_info
from nlp.matcher import BrandMatcher
from nlp.mentions import TextMentions, find_mentions
from nlp.ner import sentences
from nlp.reprints import ReprintDetector
from nlp.tone import ToneModel, default_model
from rezonans.brands import BrandSet, default_brands_path, load_brands
from rezonans.model import Article, BrandTone, Mention

log = logging.getLogger(__name__)
LEAD_CHARS = 400  # without an explicit lead, the text's first paragraph (at most this long) counts as the lead


def _lemmas(tokens: list[Token]) -> list[str]:
    """Most probable lemma of each word token."""
    return [word_info(t.text.lower()).lemma for t in tokens if _WORD.search(t.text)]


def _lead_end(text: str) -> int:
    """End of the implicit lead: the first paragraph, capped at LEAD_CHARS."""
    nl = text.find("\n", 1)
    return min(nl if nl > 0 else len(text), LEAD_CHARS)


def _sentence_at(sents: list[tuple[int, int]], start: int, end: int, text: str) -> tuple[int, int]:
    """The sentence(s) covering [start, end)."""
    if not sents:
        sents = sentences(text) or [(0, len(text))]
    a = next((s for s in sents if s[0] <= start < s[1]), (0, len(text)))
    b = next((s for s in sents if s[0] < end <= s[1]), a)
    return a[0], max(a[1], b[1])


class Analyzer:
    """Brand mentions, homonyms, tone, prominence, topics, promo codes, lemmas and reprint clusters."""

    def __init__(
        self,
        brands: BrandSet,
        tone: ToneModel | None = None,
        reprints: ReprintDetector | None = None,
        use_ner: bool = True,
    ) -> None:
        self.brands = brands
        self.matcher = BrandMatcher(brands)
        self._tone = tone
        self.reprints = reprints if reprints is not None else ReprintDetector()
        self.use_ner = use_ner
        self.cards = {c.id: c for c in brands.brands}

    @classmethod
    def from_file(cls, path: str | Path | None = None, **kwargs) -> Analyzer:
        """Analyzer for a brand-card file (default: $REZONANS_BRANDS, else the shipped example)."""
        return cls(load_brands(path or default_brands_path()), **kwargs)

    @property
    def tone(self) -> ToneModel:
        """The tone model, loaded on first use."""
        if self._tone is None:
            self._tone = default_model()
        return self._tone

    # -- pieces -----------------------------------------------------------------------------------
    def _field_mentions(self, text: str, tokens: list[Token]) -> TextMentions:
        return find_mentions(text, self.brands, self.matcher, use_ner=self.use_ner, tokens=tokens)

    def target_tone(
        self, text: str, start: int, end: int, sents: list[tuple[int, int]] | None = None
    ) -> tuple[str, float]:
        """Label and score of the tone towards text[start:end], judged in its sentence."""
        a, b = _sentence_at(sents or [], start, end, text)
        res = self.tone.predict(text[a:b], start - a, end - a)
        return res.label, round(res.score, 3)

    # -- whole article ----------------------------------------------------------------------------
    def analyze(self, article: Article, reprints: bool = True) -> Article:
        """Fill the NLP fields of an article (in place) and return it.

        With reprints=False the reprint cluster is left for `assign_cluster`: everything else depends on the
        article alone, so it can run in another process while clusters are built up in arrival order here.
        """
        fields = [("title", article.title), ("lead", article.lead), ("body", article.text)]
        tokens = {name: tokenize(value) if value else [] for name, value in fields}
        article.lemmas = " ".join(lem for name, _ in fields for lem in _lemmas(tokens[name]))

        found: list[tuple[str, str, TextMentions]] = []
        for name, value in fields:
            if value:
                tm = self._field_mentions(value, tokens[name])
                if tm.found:
                    found.append((name, value, tm))
        lead_end = 0 if article.lead else _lead_end(article.text)
        mentions: list[Mention] = []
        for name, value, tm in found:
            for f in tm.accepted:
                h = f.hit
                placement = name if name != "body" else ("lead" if h.start < lead_end else "body")
                sent = _sentence_at(tm.sentences, h.start, h.end, value)
                res = self.tone.predict(value[sent[0] : sent[1]], h.start - sent[0], h.end - sent[0])
                mentions.append(
                    Mention(
                        brand=h.brand,
                        start=h.start,
                        end=h.end,
                        text=h.text,
                        matched_form=h.name,
                        placement=placement,
                        sentiment=res.label,
                        sentiment_score=round(res.score, 3),
                        confidence=f.confidence,
                        topics=topics_of(value[sent[0] : sent[1]], top=1, min_hits=1),
                        promo_codes=promo_codes(value[sent[0] : sent[1]], [self.cards[h.brand]]),
                        prominence=0.0
                        if not value
                        else h.start / max(1, len(value)),  # relative position, replaced below
                    )
                )
        self._context(article, mentions)
        article.mentions = mentions
        # article-level tone per brand
        per: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            per[m.brand].append(m)
        tones = []
        for brand, ms in per.items():
            label, score = article_tone(ms)
            tones.append(BrandTone(brand=brand, sentiment=label, score=round(score, 3), mentions=len(ms)))
        article.brand_tone = tones
        article.brand_sentiment = {t.brand: t.sentiment for t in tones}
        # topics of the article: from the sentences around mentions (whole text when no brand is found)
        if mentions:
            ctx = " ".join(
                article.title
                if m.placement == "title"
                else (article.lead if m.placement == "lead" and article.lead else "")
                for m in mentions
            )
            body_sents = {
                (s, e) for name, value, tm in found if name == "body" for f in tm.accepted for s, e in [f.sentence]
            }
            ctx += " " + " ".join(article.text[s:e] for s, e in sorted(body_sents))
            article.topics = topics_of(ctx, top=2, min_hits=1)
        else:
            article.topics = topics_of(" ".join([article.title, article.lead, article.text]), top=2, min_hits=2)
        all_cards = list(self.cards.values())
        article.promo_codes = promo_codes("\n".join([article.title, article.lead, article.text]), all_cards)
        # caller-given targets
        if article.targets:
            sents = sentences(article.text) if article.text else []
            for t in article.targets:
                if 0 <= t.start < t.end <= len(article.text):
                    t.sentiment, t.sentiment_score = self.target_tone(article.text, t.start, t.end, sents)
                else:
                    log.warning(
                        "article %s: target [%d, %d) is outside the text (%d chars); left unjudged",
                        article.id,
                        t.start,
                        t.end,
                        len(article.text),
                    )
        if reprints:
            self.assign_cluster(article)
        article.analyzed_at = datetime.now(UTC)
        return article

    def assign_cluster(self, article: Article) -> Article:
        """Set the reprint cluster and originality of an article (stateful: clusters build up as articles come)."""
        if self.reprints is not None:
            article.cluster, article.is_original = self.reprints.add(article)
        return article

    def _context(self, article: Article, mentions: list[Mention]) -> None:
        """Prominence and main subject of each mention from placement, position, count and NER."""
        counts: dict[str, int] = defaultdict(int)
        for m in mentions:
            counts[m.brand] += 1
        total = max(1, len(mentions))
        in_title = {m.brand for m in mentions if m.placement == "title"}
        in_lead = {m.brand for m in mentions if m.placement == "lead"}
        for m in mentions:
            rel = m.prominence
            m.prominence = prominence(m.placement, rel, counts[m.brand], m.brand in in_title, m.confidence > 0.9)
            m.main_subject = is_main_subject(
                m.brand in in_title, m.brand in in_lead, counts[m.brand], counts[m.brand] / total
            )

    def analyze_many(self, articles: Iterable[Article]) -> Iterator[Article]:
        """Analyse articles one by one (streaming; reprint clusters build up as they come)."""
        for article in articles:
            try:
                yield self.analyze(article)
            except Exception as exc:  # one bad article must not stop the run
                log.error("article %s could not be analysed (%s); passed through unchanged", article.id, exc)
                yield article


def article_tone(mentions: list[Mention]) -> tuple[str, float]:
    """Tone of an article towards one brand: the label with the most prominence-weighted mention votes.

    A tie (for example one positive and one negative mention of equal weight) is neutral, and a single
    mention always gives its own label. The score is the weighted mean of the mention scores.
    """
    weights = [0.5 + m.prominence for m in mentions]
    votes: dict[str, float] = {"positive": 0.0, "neutral": 0.0, "negative": 0.0}
    for w, m in zip(weights, mentions, strict=False):
        votes[m.sentiment] += w
    best = max(votes.values())
    leaders = [label for label, v in votes.items() if v == best]
    label = leaders[0] if len(leaders) == 1 else "neutral"
    score = sum(w * m.sentiment_score for w, m in zip(weights, mentions, strict=False)) / sum(weights)
    return label, score
