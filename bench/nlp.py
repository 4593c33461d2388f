"""Benchmark of the NLP stage on generated Russian news articles: load time, articles/s, peak memory.

Usage: python bench/nlp.py [--articles 400] [--brand-share 0.4] [--workers 2]
Prints JSON. Figures: model load (brand cards + tone model + NER), lemmas+matching articles/s, full stage
articles/s (one process and a pool of --workers processes), peak RSS; and the tone model alone: load time and
CPU ms per article (all articles, and those with mentions) and per mention, min and median of --runs runs over
the mentions the analyzer judged (the parse cache is cleared before each run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

# this file is named nlp.py: keep its folder off the import path so that `nlp` is the package
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUBJ = [
    "Правительство",
    "Министерство финансов",
    "Центральный банк",
    "Мэрия Москвы",
    "Губернатор области",
    "Госдума",
    "Росстат",
    "Аналитики",
    "Эксперты рынка",
    "Профсоюз",
    "Прокуратура",
    "Компания",
    "Жители района",
]
VERB = [
    "объявил о",
    "сообщил о",
    "рассказал о",
    "предупредил о",
    "заявил о",
    "пообещал",
    "отчитался о",
    "раскритиковал",
    "одобрил",
    "приостановил",
]
OBJ = [
    "снижении ключевой ставки",
    "росте цен на продукты",
    "новых правилах для застройщиков",
    "программе льготной ипотеки",
    "ремонте дорог в регионах",
    "повышении пенсий",
    "сокращении импорта",
    "строительстве новой станции метро",
    "проверке управляющих компаний",
    "планах на следующий год",
    "субсидиях для фермеров",
    "ограничениях для мигрантов",
    "цифровизации госуслуг",
    "рекордном урожае зерна",
]
TAIL = [
    "Об этом говорится в сообщении ведомства.",
    "Решение вступит в силу с 1 января.",
    "Эксперты считают, что это поддержит спрос.",
    "Ранее подобные меры обсуждались в правительстве.",
    "По данным Росстата, инфляция за месяц составила 0,7%.",
    "Жители уже заметили изменения.",
    "Критики называют меры недостаточными.",
    "Подробности пока не раскрываются.",
]
BRAND_SENT = [
    "{b} объявил о снижении ставок по вкладам.",
    "Клиенты {b_gen} пожаловались на сбой в приложении.",
    "Суд оштрафовал {b_acc} на 500 тысяч рублей.",
    "Аналитики повысили прогноз прибыли {b_gen}.",
    "В {b_loc} стартовала акция: по промокоду VESNA25 скидка 10%.",
    "Глава {b_gen} дал интервью РБК.",
    "{b} запустил благотворительную программу для школ.",
    "Акции {b_gen} подорожали на 3%.",
]
BRANDS = [
    ("Сбербанк", "Сбербанка", "Сбербанк", "Сбербанке"),
    ("ВТБ", "ВТБ", "ВТБ", "ВТБ"),
    ("Т-Банк", "Т-Банка", "Т-Банк", "Т-Банке"),
    ("Магнит", "Магнита", "Магнит", "Магните"),
    ("МегаФон", "МегаФона", "МегаФон", "МегаФоне"),
    ("Альфа-Банк", "Альфа-Банка", "Альфа-Банк", "Альфа-Банке"),
    ("«Пятёрочка»", "«Пятёрочки»", "«Пятёрочку»", "«Пятёрочке»"),
    ("Билайн", "Билайна", "Билайн", "Билайне"),
]


def make_articles(n: int, brand_share: float, seed: int = 7) -> list[dict]:
    """Generated articles of 250–500 words; a share of them mention brands."""
    rnd = random.Random(seed)
    out = []
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    for i in range(n):
        sents = []
        for _ in range(rnd.randint(18, 35)):
            sents.append(f"{rnd.choice(SUBJ)} {rnd.choice(VERB)} {rnd.choice(OBJ)}. {rnd.choice(TAIL)}")
        if rnd.random() < brand_share:
            for _ in range(rnd.randint(1, 4)):
                b = rnd.choice(BRANDS)
                s = rnd.choice(BRAND_SENT).format(b=b[0], b_gen=b[1], b_acc=b[2], b_loc=b[3])
                sents.insert(rnd.randrange(len(sents) + 1), s)
        paras = [" ".join(sents[j : j + 4]) for j in range(0, len(sents), 4)]
        out.append(
            {
                "url": f"https://bench.example.ru/n/{i}",
                "source": {"name": "bench"},
                "title": f"{rnd.choice(SUBJ)} {rnd.choice(VERB)} {rnd.choice(OBJ)}",
                "text": "\n".join(paras),
                "published_at": (t0 + timedelta(hours=i)).isoformat(),
            }
        )
    return out


_ANALYZER = None


def _init() -> None:
    global _ANALYZER
    from nlp import encoder, tone
    from nlp.analyzer import Analyzer
    from nlp.threads import single_threaded_blas
    from rezonans.config import load_settings

    settings = load_settings()
    encoder.configure(settings.e5, settings.e5_threads or 1)  # one engine thread per worker, as the pipeline does
    tone.configure(settings.tone)
    single_threaded_blas()  # as the pipeline's analysis workers

    _ANALYZER = Analyzer.from_file()


def _work(batch: list[dict]) -> int:
    from rezonans.model import Article

    for d in batch:
        _ANALYZER.analyze(Article.model_validate(d))
    return len(batch)


def tone_cost(arts: list, runs: int, path: Path | None = None, students: list[Path] | None = None) -> dict:
    """CPU cost of each tone model alone on the analyzed articles' mentions: `fast` (linear, one mention at a
    time), `transformer` (the default: the student mixed with the linear model, one `predict_batch` per article)
    and `student_only` (the network without the linear part); dependency parses are not cached across runs.
    With several `students` (folders of the transformer's files), each gets its own pair of figures."""
    import statistics

    from nlp.analyzer import _sentence_at
    from nlp.ner import sentences
    from nlp.tone import ToneModel, _parse
    from nlp.tone_student import MODELS, StudentTone

    targets: list[list[tuple[str, int, int]]] = []
    for a in arts:
        items = []
        sents = {"title": [(0, len(a.title))], "lead": None, "body": None}
        for m in a.mentions:
            field = a.title if m.placement == "title" else (a.lead if m.placement == "lead" and a.lead else a.text)
            key = "title" if m.placement == "title" else ("lead" if field is a.lead else "body")
            if sents[key] is None:
                sents[key] = sentences(field)
            s0, s1 = _sentence_at(sents[key], m.start, m.end, field)
            items.append((field[s0:s1], m.start - s0, m.end - s0))
        targets.append(items)
    n_mentions = sum(len(x) for x in targets)
    with_mentions = sum(1 for x in targets if x)
    out: dict = {"tone_mentions": n_mentions, "tone_articles_with_mentions": with_mentions}
    folders = students or [MODELS]
    modes = [("fast", MODELS)] + [(m, f) for f in folders for m in ("transformer", "student_only")]
    for mode, folder in modes:
        t = time.perf_counter()
        model: ToneModel | StudentTone
        if mode == "fast":
            model = ToneModel.load(path) if path else ToneModel.load()
        elif mode == "transformer":
            model = StudentTone.load(folder, linear=ToneModel.load(path) if path else ToneModel.load())
        else:
            model = StudentTone.load(folder, lexicon=ToneModel.load().lexicon)
        load = time.perf_counter() - t
        per_run = []
        for _ in range(runs):
            _parse.cache_clear()
            t = time.process_time()
            for items in targets:
                if mode == "fast":
                    for sentence, a, b in items:
                        model.predict(sentence, a, b)
                elif items:
                    model.predict_batch(items)
            per_run.append(time.process_time() - t)
        lo, med = min(per_run), statistics.median(per_run)
        key = mode if folder == MODELS or len(folders) == 1 else f"{mode}:{folder}"
        out[key] = {
            "version": getattr(model, "version", ""),
            "load_s": round(load, 2),
            "cpu_ms_per_article_min_median": [round(1000 * lo / len(arts), 2), round(1000 * med / len(arts), 2)],
            "cpu_ms_per_article_with_mentions_min_median": [
                round(1000 * lo / max(1, with_mentions), 2),
                round(1000 * med / max(1, with_mentions), 2),
            ],
            "cpu_ms_per_mention_min_median": [
                round(1000 * lo / max(1, n_mentions), 2),
                round(1000 * med / max(1, n_mentions), 2),
            ],
        }
    return {"tone": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=400)
    ap.add_argument("--brand-share", type=float, default=0.4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tone-model", type=Path, default=None, help="linear tone artifact for the `fast` figures")
    ap.add_argument(
        "--student", type=Path, action="append", default=None, help="folder of a transformer model (repeatable)"
    )
    args = ap.parse_args()
    docs = make_articles(args.articles, args.brand_share)
    words = sum(len(d["text"].split()) for d in docs) / len(docs)

    t = time.perf_counter()
    from nlp.analyzer import Analyzer
    from nlp.ner import _tagger
    from nlp.threads import single_threaded_blas
    from nlp.tone import configure, default_model
    from rezonans.config import load_settings
    from rezonans.model import Article

    configure(load_settings().tone)
    single_threaded_blas()  # as `rezonans analyze` and the analysis workers do
    analyzer = Analyzer.from_file()
    default_model()
    _tagger()
    load = time.perf_counter() - t

    arts = [Article.model_validate(d) for d in docs]
    from nlp.analyzer import _lemmas
    from nlp.lemmas import tokenize

    t = time.perf_counter()
    hits = 0
    for a in arts:
        for part in (a.title, a.text):
            toks = tokenize(part)
            _lemmas(toks)
            hits += len(analyzer.matcher.find(part, toks))
    lem_rate = len(arts) / (time.perf_counter() - t)

    t = time.perf_counter()
    for a in arts:
        analyzer.analyze(a)
    full_rate = len(arts) / (time.perf_counter() - t)
    mentions = sum(len(a.mentions) for a in arts)

    tone = tone_cost(arts, args.runs, args.tone_model, args.student)

    batches = [docs[i : i + 25] for i in range(0, len(docs), 25)]
    t = time.perf_counter()
    # spawn, not fork: the parent already runs the e5 engine's threads, which a forked child would inherit mid-lock
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init) as pool:
        done = sum(pool.map(_work, batches))
    pool_rate = done / (time.perf_counter() - t)  # includes each worker's model load

    print(
        json.dumps(
            {
                "articles": len(arts),
                "mean_words": round(words),
                "brand_share": args.brand_share,
                "hits": hits,
                "mentions": mentions,
                "load_s": round(load, 2),
                "lemmas_matching_per_s_1core": round(lem_rate, 1),
                "full_stage_per_s_1core": round(full_rate, 1),
                f"full_stage_per_s_{args.workers}proc": round(pool_rate, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                **tone,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
