"""Is a hit the brand or a common word / surname? Cues: NER, case, quotes, legal forms, nearby words."""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from nlp.lemmas import Token, word_info
from nlp.ner import Entity
from rezonans.brands import BrandCard

# Words before a name that announce an organisation.
_ORG_BEFORE = {
    "пао",
    "ао",
    "оао",
    "ооо",
    "зао",
    "нко",
    "компания",
    "сеть",
    "ритейлер",
    "ретейлер",
    "оператор",
    "магазин",
    "бренд",
    "дискаунтер",
    "гипермаркет",
    "супермаркет",
    "группа",
    "холдинг",
    "банк",
    "корпорация",
    "акция",
    "сотрудник",
    "клиент",
    "абонент",
    "покупатель",
    "гендиректор",
    "глава",
    "руководство",
    "представитель",
    "пресс-служба",
    "офис",
    "салон",
    "приложение",
    "кассир",
    "директор",
    "акционер",
    "бумага",
    "владелец",
}
# Words in the sentence that point to business news about a company.
_BUSINESS = {
    "выручка",
    "прибыль",
    "абонент",
    "тариф",
    "связь",
    "оператор",
    "покупатель",
    "магазин",
    "касса",
    "кассир",
    "ритейлер",
    "ретейлер",
    "доставка",
    "скидка",
    "цена",
    "клиент",
    "приложение",
    "гендиректор",
    "сотрудник",
    "дивиденд",
    "офис",
    "салон",
    "сим-карта",
    "интернет",
    "роуминг",
    "промокод",
    "инвестор",
    "отчетность",
    "штраф",
    "фас",
    "роспотребнадзор",
    "x5",
    "дикси",
    "перекресток",
    "лента",
    "мтс",
    "билайн",
    "теле2",
    "зарплата",
    "товар",
    "поставщик",
    "сбой",
    "5g",
    "компания",
    "рубль",
    "млрд",
    "млн",
    "акционер",
    "тысяча",
    "открыть",
    "закрыть",
    "запустить",
    "отчитаться",
    "продукт",
    "бренд",
    "рынок",
    "акция",
    "распродажа",
    "клиентский",
    "сеть",
    "пао",
    "купить",
    "заказ",
    "курьер",
    "трафик",
    "вышка",
    "мобильный",
    "абонентский",
    "очередь",
    "просрочка",
    "просроченный",
    "выкуп",
    "облигация",
    "мосбиржа",
    "партнер",
    "спонсор",
    "кампания",
    # posts about a telecom operator or a shop
    "симка",
    "сим",
    "баланс",
    "смс",
    "sms",
    "звонок",
    "дозвониться",
    "безлимит",
    "4g",
    "lte",
    "модем",
    "роутер",
    "номер",
    "перейти",
    "подключить",
    "отключить",
    "списать",
    "поддержка",
    "техподдержка",
    "ловить",
    "сотовый",
    "провайдер",
    "покупка",
    "чек",
    "кэшбэк",
    "бонусный",
    "продавец",
    "настройка",
    "настроить",
    "драйвер",
    "прошивка",
    "iphone",
    "смартфон",
    "инет",
    "опция",
    "подписка",
    "мегабайт",
    "скорость",
    "покрытие",
    "пополнить",
    "оплатить",
    "счет",
}
# Words that point to the common noun (a physical magnet, a loudspeaker, a school mark, a car, a top five).
_COMMON = {
    "холодильник",
    "притягивать",
    "железо",
    "железный",
    "полюс",
    "поле",
    "физика",
    "физик",
    "сувенир",
    "сувенирный",
    "опилки",
    "турист",
    "компас",
    "школа",
    "контрольный",
    "оценка",
    "учитель",
    "учительница",
    "дневник",
    "экзамен",
    "четверть",
    "жигули",
    "ваз",
    "двигатель",
    "кричать",
    "митинг",
    "полицейский",
    "толпа",
    "голос",
    "рука",
    "лучший",
    "сильный",
    "сильнейший",
    "самый",
    "лидер",
    "неодимовый",
    "постоянный",
    "магнитный",
    "сверхпроводящий",
    "ученик",
    "ученица",
    "школьник",
    "первоклассник",
    "поставить",
    "получить",
    "пятерка",
    "двойка",
    "сочинение",
    "предмет",
    "аттестат",
    "хоккеист",
    "звено",
    "шайба",
    "нападение",
    "маршрутка",
    "автобус",
    "тюнинг",
    "иномарка",
    "пикет",
    "протестующий",
    "эвакуация",
    "охрипнуть",
    "батарейка",
    "громко",
    "проглотить",
    "коллекция",
    "привезти",
    "дверца",
    "доска",
    "крепиться",
    "держать",
    "подарить",
    "вожатый",
    "вожатая",
    "отряд",
    "лагерь",
    "активист",
    "экскурсовод",
    "капитан",
    "массовка",
    "аниматор",
}
_PREP_COMMON = {"через"}  # «через мегафон», «через магнит»
_PREP_ORG = {"у", "от"}  # «у мегафона сеть пропадает», «смс от мегафона»
_CASUAL = re.compile(r"(?:^|\s)[@#]\w|https?://|[)(]{2}|!!|\?\?")
_QUOTE = {"«", '"', "„", "“"}
_WORDISH = re.compile(r"\w")


@dataclass(slots=True)
class Verdict:
    """The decision on one hit, with the cues that made it."""

    is_brand: bool
    confidence: float
    cues: list[str]


def is_ambiguous(card: BrandCard, hit_text: str, n_tokens: int) -> bool:
    """Whether a hit needs checking: forced by the card, else a one-word name that the dictionary knows
    as a common word or surname."""
    if card.ambiguous is not None:
        return card.ambiguous
    if n_tokens != 1:
        return False
    low = hit_text.lower()
    info = word_info(low)
    if len(low) > 6 and info.lemma.endswith("банк"):
        return False  # «сбербанк», «газпромбанку»: the dictionary's common noun is the bank itself
    return info.known and (info.common or info.surname)


class TextIndex:
    """Per-text facts that every ambiguous hit of a text shares, computed once so that judging n hits stays
    linear in the text: token starts, the text's casual flag and, per sentence, its token range, first word
    token and the counts of business and common-noun cue words."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.starts = [t.start for t in tokens]
        self.casual_text = bool(_CASUAL.search(text))
        self._sents: dict[tuple[int, int], _SentenceCues] = {}

    def sentence(self, sentence: tuple[int, int]) -> _SentenceCues:
        """Token range and cue-word counts of one sentence (cached)."""
        got = self._sents.get(sentence)
        if got is None:
            lo, hi = bisect_left(self.starts, sentence[0]), bisect_left(self.starts, sentence[1])
            toks = self.tokens
            first_word = next((i for i in range(lo, hi) if _WORDISH.search(toks[i].text)), hi)
            lemmas = [word_info(toks[i].text.lower()).lemma for i in range(lo, hi)]
            biz = [lem in _BUSINESS for lem in lemmas]
            com = [lem in _COMMON for lem in lemmas]
            a, b = sentence
            first = next((c for c in self.text[a:b] if c.isalpha()), "")
            got = self._sents[sentence] = _SentenceCues(
                lo, hi, first_word, biz, com, sum(biz), sum(com), first.islower() or self.casual_text
            )
        return got


@dataclass(slots=True)
class _SentenceCues:
    lo: int  # first token of the sentence
    hi: int  # one past its last token
    first_word: int  # first token with a word character (hi if none)
    biz: list[bool]  # per token of the sentence: its lemma is a business word
    com: list[bool]  # per token: its lemma points to the common noun
    n_biz: int
    n_com: int
    casual: bool  # `casual(text, sentence)`


def judge(
    text: str,
    tokens: list[Token],
    first: int,
    n_tokens: int,
    sentence: tuple[int, int],
    ents: list[Entity],
    other_hits: int = 0,
    ner_checked: bool = True,
    index: TextIndex | None = None,
) -> Verdict:
    """Score one ambiguous hit (tokens[first:first+n_tokens]) in its sentence; confidence = P(brand).

    index: the text's TextIndex, shared by all hits of the text (built here when not given).
    """
    tok = tokens[first]
    start, end = tok.start, tokens[first + n_tokens - 1].end
    word = text[start:end]
    score = -0.3
    cues: list[str] = []
    sc = (index if index is not None else TextIndex(text, tokens)).sentence(sentence)

    def cue(name: str, value: float) -> None:
        nonlocal score
        score += value
        cues.append(f"{name}{value:+.1f}")

    # named-entity tagger (when it ran on this sentence)
    over = [e for e in ents if e.start < end and e.end > start]
    if not ner_checked:
        pass
    elif any(e.type == "ORG" for e in over):
        cue("ner_org", 2.0)
    elif any(e.type == "PER" for e in over):
        cue("ner_per", -2.0)
    elif any(e.type == "LOC" for e in over):
        cue("ner_loc", -1.0)
    else:
        cue("ner_none", -0.5)
    # spelling
    first_in_sent = sc.hi > sc.lo and (sc.first_word >= first or sc.first_word == sc.hi)
    if re.search(r"[A-Za-z]", word):
        cue("latin", 2.0)
    if any(c.isupper() for c in word[1:]) and not word.isupper():
        cue("camel", 3.0)
    elif word[:1].isupper() and not first_in_sent:
        cue("capital", 2.0)
    elif word[:1].islower():
        # posts and comments are written in lower case: there it says little
        cue("lower", -0.6 if sc.casual else -1.5)
    if first > 0 and tokens[first - 1].text == "#" and tokens[first - 1].end == start:
        cue("hashtag", 3.0)
    quoted = first > 0 and tokens[first - 1].text in _QUOTE
    if quoted:
        cue("quoted", 1.5 if word[:1].isupper() else 0.5)
    if first + n_tokens < len(tokens) and tokens[first + n_tokens].text == ":" and first_in_sent:
        cue("headline_colon", 1.0)
    # grammatical number: brand names are not used in the plural
    if "plur" in str(_top_tag(word.lower())):
        cue("plural", -1.5)
    # words around
    before = [word_info(t.text.lower()).lemma for t in tokens[max(0, first - 3) : first] if re.search(r"\w", t.text)]
    if any(b in _ORG_BEFORE for b in before):
        cue("org_word_before", 2.0)
    if before and before[-1] in _PREP_COMMON:
        cue("prep_common", -2.0)
    elif before and before[-1] in _PREP_ORG:
        cue("prep_org", 0.8)
    # cue words of the sentence, the hit's own tokens left out
    own = range(max(first, sc.lo), min(first + n_tokens, sc.hi))
    biz = sc.n_biz - sum(sc.biz[i - sc.lo] for i in own)
    com = sc.n_com - sum(sc.com[i - sc.lo] for i in own)
    if biz:
        cue("business_words", min(2.5, 0.8 * biz))
    if com:
        cue("common_words", -min(3.0, 1.0 * com))
    if other_hits:
        cue("other_brands", 1.0 if other_hits == 1 and word[:1].isupper() else 2.5)
    conf = 1.0 / (1.0 + math.exp(-score))
    return Verdict(conf >= 0.5, round(conf, 3), cues)


def casual(text: str, sentence: tuple[int, int] | None = None) -> bool:
    """A post or comment rather than edited news: the sentence starts in lower case, or the text has handles,
    hashtags, links or doubled punctuation."""
    a, b = sentence if sentence is not None else (0, len(text))
    first = next((c for c in text[a:b] if c.isalpha()), "")
    return first.islower() or bool(_CASUAL.search(text))


@lru_cache(maxsize=50_000)
def _top_tag(word: str):
    """Tag of the most probable parse (cached: an article may repeat one name thousands of times)."""
    from nlp.lemmas import morph

    return morph().parse(word)[0].tag
