"""Context of mentions: placement and prominence, topics from a small taxonomy, promo codes."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from nlp.lemmas import word_info
from rezonans.brands import BrandCard

TOPICS: dict[str, str] = {
    "products": "products and service",
    "finance": "finance and results",
    "management": "management and staff",
    "law": "law and regulators",
    "incidents": "incidents and complaints",
    "social": "social responsibility",
    "advertising": "advertising and promotions",
}
_TOPIC_WORDS: dict[str, set[str]] = {
    "products": {
        "продукт",
        "услуга",
        "тариф",
        "приложение",
        "сервис",
        "запустить",
        "доставка",
        "карта",
        "кредит",
        "вклад",
        "ипотека",
        "магазин",
        "открыть",
        "ассортимент",
        "функция",
        "клиент",
        "абонент",
        "связь",
        "интернет",
        "5g",
        "4g",
        "кэшбэк",
        "покупатель",
        "товар",
        "новинка",
        "обслуживание",
        "офис",
        "касса",
    },
    "finance": {
        "выручка",
        "прибыль",
        "убыток",
        "отчетность",
        "квартал",
        "дивиденд",
        "акция",
        "облигация",
        "капитализация",
        "мсфо",
        "рсбу",
        "ebitda",
        "инвестор",
        "рубль",
        "млрд",
        "млн",
        "рост",
        "снижение",
        "биржа",
        "мосбиржа",
        "котировка",
        "аналитик",
        "доход",
        "рентабельность",
        "выкуп",
        "бумага",
        "сделка",
        "купить",
        "продать",
    },
    "management": {
        "гендиректор",
        "директор",
        "председатель",
        "правление",
        "назначить",
        "уволить",
        "отставка",
        "сотрудник",
        "персонал",
        "зарплата",
        "вакансия",
        "менеджер",
        "глава",
        "руководитель",
        "покинуть",
        "совет",
        "топ-менеджер",
        "кадровый",
        "забастовка",
        "работник",
        "увольнение",
        "сократить",
    },
    "law": {
        "суд",
        "иск",
        "штраф",
        "фас",
        "цб",
        "центробанк",
        "роскомнадзор",
        "роспотребнадзор",
        "прокуратура",
        "закон",
        "регулятор",
        "лицензия",
        "проверка",
        "оштрафовать",
        "санкция",
        "арбитражный",
        "дело",
        "нарушение",
        "предписание",
        "законопроект",
        "госдума",
        "следователь",
        "взыскать",
        "запрет",
    },
    "incidents": {
        "сбой",
        "жалоба",
        "пожаловаться",
        "авария",
        "утечка",
        "мошенник",
        "отравиться",
        "пожар",
        "кража",
        "просрочка",
        "просроченный",
        "недовольный",
        "очередь",
        "ошибка",
        "проблема",
        "сгореть",
        "задержать",
        "избить",
        "инцидент",
        "скандал",
        "взлом",
        "хакер",
        "не работать",
        "отключение",
        "нарушить",
    },
    "social": {
        "благотворительный",
        "благотворительность",
        "волонтер",
        "экология",
        "экологический",
        "фонд",
        "помощь",
        "поддержка",
        "поддержать",
        "переработка",
        "донор",
        "субботник",
        "инклюзивный",
        "пенсионер",
        "дети",
        "ребенок",
        "детский",
        "школа",
        "образование",
        "устойчивый",
        "esg",
        "сбор",
    },
    "advertising": {
        "реклама",
        "рекламный",
        "промокод",
        "скидка",
        "акция",
        "распродажа",
        "бонус",
        "кэшбэк",
        "спонсор",
        "партнер",
        "ролик",
        "кампания",
        "бренд",
        "ребрендинг",
        "розыгрыш",
        "подарок",
        "лояльность",
        "баннер",
        "амбассадор",
        "коллаборация",
        "маркетинг",
        "продвижение",
    },
}
_WORD = re.compile(r"\w[\w\-]*")
_PROMO_CUE = re.compile(r"(?i)\b(промо-?код\w*|код\w{0,2}|купон\w*|скидк\w*|promo ?code|coupon)\b")
_CODE = re.compile(
    r"\b(?=[A-ZА-ЯЁ0-9_\-]*[A-ZА-ЯЁ])(?=[A-ZА-ЯЁ0-9_\-]*\d|[A-ZА-ЯЁ]{5,})[A-ZА-ЯЁ0-9][A-ZА-ЯЁ0-9_\-]{3,19}\b"
)
_CODE_STOP = {"ПАО", "ООО", "ЗАО", "ОАО", "РФ", "ЦБ", "ФАС", "МСФО", "РСБУ", "СМИ", "ВТБ", "МТС", "СБЕР", "РОССИЯ"}


def topics_of(text: str, top: int = 2, min_hits: int = 2) -> list[str]:
    """Up to `top` topic ids whose keywords (lemmas) occur at least `min_hits` times in the text."""
    counts: Counter[str] = Counter()
    for m in _WORD.finditer(text.lower()):
        lemma = word_info(m.group()).lemma
        for topic, words in _TOPIC_WORDS.items():
            if lemma in words:
                counts[topic] += 1
    return [t for t, c in counts.most_common(top) if c >= min_hits]


def promo_codes(text: str, cards: list[BrandCard] | None = None, window: int = 40) -> list[str]:
    """Promo codes: upper-case codes just after a cue word («промокод», «код», «скидка»), plus brand-card regexes."""
    found: list[str] = []
    for cue in _PROMO_CUE.finditer(text):
        tail = re.split(r"[.!?\n]\s", text[cue.end() : cue.end() + window] + " ", maxsplit=1)[0]
        for m in _CODE.finditer(tail):
            after = cue.end() + m.end()
            if after < len(text) and (text[after].isalnum() or text[after] == "_"):
                continue  # cut off by the window: not a whole code
            code = m.group().strip("-_")
            if code not in _CODE_STOP and not code.isdigit():
                found.append(code)
                break
    for card in cards or []:
        for pattern in card.promo_codes:
            for m in _card_code(pattern).finditer(text):
                found.append(m.group())
    return list(dict.fromkeys(found))


@lru_cache(maxsize=8192)
def _card_code(pattern: str) -> re.Pattern[str]:
    """A brand card's promo-code regex as a whole word, compiled once (re's own cache holds only 512 patterns,
    fewer than 400 cards bring)."""
    return re.compile(rf"(?<!\w){pattern}(?!\w)")


def prominence(placement: str, rel_pos: float, count: int, in_title: bool, ner_org: bool) -> float:
    """0..1: title > lead > body (earlier is higher), more mentions and a title mention raise it."""
    base = {"title": 0.6, "lead": 0.45}.get(placement, 0.1 + 0.25 * (1.0 - min(1.0, max(0.0, rel_pos))))
    score = (
        base
        + 0.07 * min(count - 1, 5)
        + (0.15 if in_title and placement != "title" else 0.0)
        + (0.05 if ner_org else 0.0)
    )
    return round(min(1.0, score), 3)


def is_main_subject(in_title: bool, in_lead: bool, count: int, share: float) -> bool:
    """A brand is the article's main subject when it is in the title, or dominates the mentions."""
    return in_title or (in_lead and count >= 2) or (count >= 3 and share >= 0.5)
