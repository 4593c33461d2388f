"""The NLP stage in one call: `Analyzer(brands).analyze(article)` fills mentions, tone, context, lemmas, reprints."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.context import is_main_subject, prominence, promo_codes, topics_of
from nlp.lemmas import _WORD, Token, tokenize, word_info
from nlp.matcher import BrandMatcher
from nlp.mentions import TextMentions, find_mentions
from nlp.ner import sentences
from nlp.tone import ToneModel, default_model

if TYPE_CHECKING:
    from nlp.tone_student import StudentTone
from rezonans.brands import BrandSet, default_brands_path, load_brands
from rezonans.model import Article, BrandTone, Mention, Sentiment, SourceRef

if TYPE_CHECKING:
    from nlp.reprints import ReprintDetector

log = logging.getLogger(__name__)
LEAD_CHARS = 400  # without an explicit lead, the text's first paragraph (at most this long) counts as the lead
MAX_TONE_MENTIONS = 12  # per brand per article: tone is judged for this many mentions, title and lead first
PLACEMENT_WEIGHT = {"title": 3.0, "lead": 2.0, "body": 1.0}  # weight of a mention's vote in the article's tone
_PLACEMENT_ORDER = {"title": 0, "lead": 1, "body": 2}
_UNSET: Any = object()  # reprints not given: a ReprintDetector is made on first use
_WARM_TEXT = "Сеть «Магнит» открыла магазин, промокод MAGNIT10. Поднесите магнит к компасу."


def _lemmas(tokens: list[Token]) -> list[str]:
    """Most probable lemma of each word token."""
    return [word_info(t.text.lower()).lemma for t in tokens if _WORD.search(t.text)]


def _lead_end(text: str) -> int:
    """End of the implicit lead: the first paragraph, capped at LEAD_CHARS."""
    nl = text.find("\n", 1)
    return min(nl if nl > 0 else len(text), LEAD_CHARS)


def _sentence_at(
    sents: list[tuple[int, int]], start: int, end: int, text: str, starts: list[int] | None = None
) -> tuple[int, int]:
    """The sentence(s) covering [start, end) (sentences sorted by start)."""
    if not sents:
        sents = sentences(text) or [(0, len(text))]
        starts = None
    starts = starts if starts is not None else [s[0] for s in sents]
    i = bisect_right(starts, start) - 1
    a = sents[i] if i >= 0 and sents[i][0] <= start < sents[i][1] else (0, len(text))
    j = bisect_right(starts, max(start, end - 1)) - 1
    b = sents[j] if j >= 0 and sents[j][0] < end <= sents[j][1] else a
    return a[0], max(a[1], b[1])


class Analyzer:
    """Brand mentions, homonyms, tone, prominence, topics, promo codes, lemmas and reprint clusters."""

    def __init__(
        self,
        brands: BrandSet,
        tone: ToneModel | StudentTone | None = None,
        reprints: ReprintDetector | None = None,
        use_ner: bool = True,
        max_tone_mentions: int = MAX_TONE_MENTIONS,
    ) -> None:
        self.brands = brands
        self.max_tone_mentions = max_tone_mentions
        self._matcher: BrandMatcher | None = None
        self._tone = tone
        self._reprints: Any = reprints if reprints is not None else _UNSET
        self.use_ner = use_ner
        self.cards = {c.id: c for c in brands.brands}

    @classmethod
    def from_file(cls, path: str | Path | None = None, **kwargs) -> Analyzer:
        """Analyzer for a brand-card file (default: $REZONANS_BRANDS, else the shipped example)."""
        return cls(load_brands(path or default_brands_path()), **kwargs)

    @property
    def tone(self) -> ToneModel | StudentTone:
        """The tone model (`nlp.tone.configure` picks which), loaded on first use."""
        if self._tone is None:
            self._tone = default_model()
        return self._tone

    @property
    def matcher(self) -> BrandMatcher:
        """The compiled brand names, built on first use (a process that only clusters never builds them)."""
        if self._matcher is None:
            self._matcher = BrandMatcher(self.brands)
        return self._matcher

    @property
    def reprints(self) -> ReprintDetector:
        """The reprint detector (stateful), made on first use: a process that never clusters never imports it
        (datasketch brings scipy: ≈ 1 s and ≈ 40 MiB)."""
        if self._reprints is _UNSET:
            from nlp.reprints import ReprintDetector

            self._reprints = ReprintDetector()
        return self._reprints

    @reprints.setter
    def reprints(self, value: ReprintDetector) -> None:
        self._reprints = value

    def warm(self) -> Analyzer:
        """Load every model now (tokenizer, dictionary, brand names, NER, tone) rather than on the first article."""
        from nlp import ner

        _ = self.matcher, self.tone
        ner.load()
        self.analyze(
            Article(url="http://127.0.0.1/warm", source=SourceRef(name="warm"), text=_WARM_TEXT), reprints=False
        )
        return self

    # -- pieces -----------------------------------------------------------------------------------
    def _field_mentions(self, text: str, tokens: list[Token]) -> TextMentions:
        return find_mentions(text, self.brands, self.matcher, use_ner=self.use_ner, tokens=tokens)

    def target_tone(
        self, text: str, start: int, end: int, sents: list[tuple[int, int]] | None = None
    ) -> tuple[Sentiment, float]:
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
        # every accepted hit becomes a mention; tone is judged for at most `max_tone_mentions` per brand,
        # title and lead first, so that an article with thousands of mentions costs a bounded amount
        rows = []
        for name, value, tm in found:
            starts = [s[0] for s in tm.sentences]
            for f in tm.accepted:
                h = f.hit
                placement = name if name != "body" else ("lead" if h.start < lead_end else "body")
                rows.append((name, value, f, placement, _sentence_at(tm.sentences, h.start, h.end, value, starts)))
        judged: dict[str, int] = defaultdict(int)
        chosen: list[int] = []
        order = sorted(range(len(rows)), key=lambda k: (_PLACEMENT_ORDER[rows[k][3]], rows[k][2].hit.start))
        for k in order:
            brand = rows[k][2].hit.brand
            if judged[brand] < self.max_tone_mentions:
                judged[brand] += 1
                chosen.append(k)
        # one batch per article: the transformer reads all judged mentions in one network pass
        batch = []
        for k in chosen:
            _, value, f, _, sent = rows[k]
            batch.append((value[sent[0] : sent[1]], f.hit.start - sent[0], f.hit.end - sent[0]))
        results = self.tone.predict_batch(batch)
        tone_of: dict[int, tuple[str, float, str]] = {
            k: (r.label, round(r.score, 3), r.reason) for k, r in zip(chosen, results, strict=True)
        }
        topics_at: dict[tuple[str, tuple[int, int]], list[str]] = {}
        codes_at: dict[tuple[str, tuple[int, int], str], list[str]] = {}
        mentions: list[Mention] = []
        judged_ids: set[int] = set()
        capped: set[str] = set()
        for k, (name, value, f, placement, sent) in enumerate(rows):
            h = f.hit
            piece = value[sent[0] : sent[1]]
            if (name, sent) not in topics_at:
                topics_at[(name, sent)] = topics_of(piece, top=1, min_hits=1)
            if (name, sent, h.brand) not in codes_at:
                codes_at[(name, sent, h.brand)] = promo_codes(piece, [self.cards[h.brand]])
            topics, own_codes = topics_at[(name, sent)], codes_at[(name, sent, h.brand)]
            label, score, reason = tone_of.get(k, ("neutral", 0.0, ""))
            if k in tone_of:
                judged_ids.add(len(mentions))
            else:
                capped.add(h.brand)
            mentions.append(
                Mention(
                    brand=h.brand,
                    start=h.start,
                    end=h.end,
                    text=h.text,
                    matched_form=h.name,
                    placement=placement,
                    sentiment=label,
                    sentiment_score=score,
                    tone_reason=reason,
                    confidence=f.confidence,
                    topics=topics,
                    promo_codes=own_codes,
                    prominence=0.0 if not value else h.start / max(1, len(value)),  # relative position, replaced below
                )
            )
        self._context(article, mentions)
        article.mentions = mentions
        # article-level tone per brand
        per: dict[str, list[Mention]] = defaultdict(list)
        per_judged: dict[str, list[Mention]] = defaultdict(list)
        for i, m in enumerate(mentions):
            per[m.brand].append(m)
            if i in judged_ids:
                per_judged[m.brand].append(m)
        tones = []
        for brand, ms in per.items():
            label, score, reason = article_tone_reason(per_judged[brand])
            tones.append(
                BrandTone(
                    brand=brand,
                    sentiment=label,
                    score=round(score, 3),
                    mentions=len(ms),
                    tone_reason=reason,
                    tone_capped=brand in capped,
                )
            )
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
        article.tone_model = self.tone.version
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
    """Tone of an article towards one brand from its mentions (see `article_tone_reason`)."""
    label, score, _ = article_tone_reason(mentions)
    return label, score


def article_tone_reason(mentions: list[Mention]) -> tuple[str, float, str]:
    """Tone of an article towards one brand: the label with the most weighted mention votes, and why.

    A mention's weight is its placement's (title 3, lead 2, body 1) times (0.5 + prominence); a neutral mention
    votes with half its weight (a passing mention should not outvote a negative headline). A tie between
    positive and negative is neutral; a tie between a polar label and neutral goes to the polar one. A single
    mention always gives its own label. The score is the weighted mean of the mention scores; the reason is the
    placement and reason of the heaviest mention with the winning label.
    """
    if not mentions:
        return "neutral", 0.0, ""
    weights = [PLACEMENT_WEIGHT.get(m.placement, 1.0) * (0.5 + m.prominence) for m in mentions]
    votes: dict[str, float] = {"positive": 0.0, "neutral": 0.0, "negative": 0.0}
    for w, m in zip(weights, mentions, strict=True):
        votes[m.sentiment] += w * (0.5 if m.sentiment == "neutral" else 1.0)
    best = max(votes.values())
    leaders = [label for label, v in votes.items() if abs(v - best) < 1e-9]
    if len(leaders) == 1:
        label = leaders[0]
    elif "positive" in leaders and "negative" in leaders:
        label = "neutral"
    else:
        label = next(lb for lb in leaders if lb != "neutral")
    score = sum(w * m.sentiment_score for w, m in zip(weights, mentions, strict=True)) / sum(weights)
    reason = ""
    if label != "neutral":
        top = max((wm for wm in zip(weights, mentions, strict=True) if wm[1].sentiment == label), key=lambda wm: wm[0])[
            1
        ]
        reason = f"{top.placement}: {top.tone_reason}" if top.tone_reason else top.placement
    return label, score, reason
