"""What the CLI says, in Russian (default) and English (`language: en`): one dict entry per message, both
languages side by side, so a missing translation is a test failure rather than a silent English line."""

from __future__ import annotations

from rezonans.config import ConfigError, load_settings

MESSAGES: dict[str, tuple[str, str]] = {
    # search
    "search.title": (
        "{total} {results}, страница {page} из {pages} ({ms} мс)",
        "{total} {results}, page {page} of {pages} ({ms} ms)",
    ),
    "search.col.date": ("дата", "date"),
    "search.col.source": ("источник", "source"),
    "search.col.tone": ("тон", "tone"),
    "search.col.article": ("статья", "article"),
    "search.col.reprints": ("перепечатки", "reprints"),
    "search.exported": ("выгружено {count} {results} в {path}", "exported {count} {results} to {path}"),
    "search.brand_word": (
        "«{word}» понимается как бренд {name} (brand:{brand}); чтобы искать само слово, возьмите его в кавычки",
        "'{word}' is read as the brand {name} (brand:{brand}); quote it to search for the word itself",
    ),
    "search.no_cards": (
        "карточки брендов не заданы: названия брендов в запросе ищутся как слова; "
        "укажите --brands FILE или REZONANS_BRANDS",
        "no brand cards: brand names in the query are searched as words; pass --brands FILE or set REZONANS_BRANDS",
    ),
    # report
    "report.written": ("отчёт ({fmt}) записан в {path}", "report ({fmt}) written to {path}"),
    "report.cards": ("карточки брендов: {path}", "brand cards: {path}"),
    "report.no_cards": (
        "карточки брендов не заданы (--brands FILE или REZONANS_BRANDS): в отчёте идентификаторы вместо названий, "
        "конкуренты только из -c",
        "no brand cards (--brands FILE or REZONANS_BRANDS): the report shows ids instead of names, "
        "competitors only from -c",
    ),
    # crawl
    "crawl.summary": (
        "{articles} новых статей, {pages} страниц, {errors} ошибок за {elapsed} с ({rate} стр./с)",
        "{articles} new articles, {pages} pages, {errors} errors in {elapsed} s ({rate} pages/s)",
    ),
    "crawl.progress": (
        "обход: источников {done}/{total}, страниц {pages}, статей {articles}, ошибок {errors}, {rate} стр./с",
        "crawl: sources {done}/{total}, pages {pages}, articles {articles}, errors {errors}, {rate} pages/s",
    ),
    "crawl.failed_source": ("  {name}: {causes}", "  {name}: {causes}"),
    "crawl.out": ("статьи дописаны в {path}", "articles appended to {path}"),
    "crawl.index": (
        "в индексе: записано статей {indexed}, обновлены счётчики постов {updated}, отложено в спул {spooled}, "
        "отклонено {rejected}; процессов анализа {workers}",
        "index: {indexed} articles written, counters of {updated} posts refreshed, {spooled} spooled, "
        "{rejected} rejected; {workers} analysis processes",
    ),
    "crawl.replayed": (
        "из спула отправлено {count} (отложенных прошлыми запусками)",
        "{count} sent from the spool (left by earlier runs)",
    ),
    "crawl.spooled": (
        "Elasticsearch был недоступен: отложенное лежит в {files}; отправьте позже командой `rezonans index replay`",
        "Elasticsearch was unreachable: what waits is in {files}; send it later with `rezonans index replay`",
    ),
    "crawl.rejected": (
        "документы, которые Elasticsearch отклонил, с причинами: {path}",
        "documents Elasticsearch rejected, with its reasons: {path}",
    ),
    # tone corrections
    "tone.set": ("{id}: тон по отношению к {brand} теперь «{tone}»", "{id}: tone towards {brand} is now {tone}"),
    "tone.exported": ("выгружено исправлений: {count}{where}", "exported {count} corrections{where}"),
    "tone.to": (" в {path}", " to {path}"),
    # index
    "index.ready": ("шаблоны индексов готовы для префикса {prefix!r}", "templates ready for prefix {prefix!r}"),
    "index.skipped": ("пропущено: {line}", "skipped {line}"),
    "index.loaded": (
        "записано {indexed}, отложено в спул {spooled}, отклонено {rejected}, плохих строк {bad}",
        "indexed {indexed}, spooled {spooled}, rejected {rejected}, bad lines {bad}",
    ),
    "index.unreachable": (
        "Elasticsearch недоступен: когда он заработает, выполните `rezonans index replay`",
        "Elasticsearch was unreachable: run `rezonans index replay` once it is up",
    ),
    "index.replayed": (
        "отправлено {indexed}, ещё ждут {spooled}, отклонено {rejected}",
        "replayed {indexed}, still waiting {spooled}, rejected {rejected}",
    ),
    "index.exported": ("выгружено статей: {count}", "exported {count} articles"),
    "index.would_drop": ("будут удалены: {names}", "would drop: {names}"),
    "index.dropped": ("удалены: {names}", "dropped: {names}"),
    "index.nothing": ("ничего", "nothing"),
    "index.moved": ("{index}: документов {count}", "{index}: {count} documents"),
    "index.nothing_to_migrate": ("переносить нечего", "nothing to migrate"),
    # alerts
    "alerts.checked": (
        "правил: {rules}, оценено интервалов: {scored}, оповещений: {alerts}, отложено: {held}, отброшено: {dropped}",
        "rules: {rules}  buckets scored: {scored}  alerts: {alerts}  held: {held}  dropped: {dropped}",
    ),
    "alerts.watched": (
        "проверок: {checks}, оповещений: {alerts}, запущено обходов: {crawls}, неудачных обходов: {failures}, "
        "ошибок: {errors}",
        "checks: {checks}  alerts: {alerts}  crawls: {crawls}  crawl failures: {failures}  errors: {errors}",
    ),
    "alerts.rule": (
        "{name}: {metric} по {what} за интервал {bucket} с, чувствительность {sensitivity}, каналы {channels}",
        "{name}: {metric} of {what} per {bucket}s, sensitivity {sensitivity}, channels {channels}",
    ),
    "alerts.metric.volume": ("объём", "volume"),
    "alerts.metric.negative": ("негатив", "negative"),
    "alerts.metric.negative_share": ("доля негатива", "negative share"),
    "alerts.metric.new_story": ("новый сюжет", "new story"),
    "alerts.no_state": ("состояния нет", "no state"),
    "alerts.removed": ("удалено {path}", "removed {path}"),
    "alerts.forgot": ("состояние правила {rule} забыто", "forgot {rule}"),
    # local Elasticsearch
    "es.installed": ("установлен {name} в {path}", "installed {name} in {path}"),
    "es.cluster_up": (
        "кластер Elasticsearch из {nodes} узлов работает: {urls} ({seconds} с)",
        "a {nodes}-node Elasticsearch cluster is up at {urls} ({seconds}s)",
    ),
    "es.cluster_use": ("подключение: export {env}", "use it with: export {env}"),
    "es.up": (
        "Elasticsearch работает: {url} (запуск {seconds} с)",
        "Elasticsearch is up at {url} (started in {seconds}s)",
    ),
    "es.running": ("Elasticsearch уже работает: {url}", "Elasticsearch already running at {url}"),
    "es.stopped_nodes": ("остановлено узлов: {count}", "stopped {count} node(s)"),
    "es.stopped": ("остановлен", "stopped"),
    "es.not_running": ("не запущен", "not running"),
    # outcomes
    "outcomes.imported": (
        "{file}: {kind}, импортировано строк: {rows} в {index}, отклонено: {bad}",
        "{file}: {kind}, {rows} rows imported into {index}, {bad} refused",
    ),
    "outcomes.bad_line": ("  строка {line}: {reason}", "  line {line}: {reason}"),
    "outcomes.kind.redemptions": ("погашения промокодов", "redemptions"),
    "outcomes.kind.survey": ("опрос", "survey"),
    # reanalyze
    "reanalyze.progress": (
        "  обработано статей: {scanned}, упоминают {brand}: {after}",
        "  re-analysed {scanned} articles, {after} now mention {brand}",
    ),
    "reanalyze.done": (
        "просмотрено {scanned}, записано {written}, ошибок {failed}, отложено в спул {spooled}",
        "scanned {scanned}, written {written}, failed {failed}, spooled {spooled}",
    ),
    "reanalyze.brand": (
        "{brand}: статей до {before}, после {after} (упоминаний: {mentions})",
        "{brand}: {before} articles before, {after} after ({mentions} mentions)",
    ),
    "reanalyze.any_brand": ("какой-либо бренд", "a brand"),
    # analyze
    "analyze.done": (
        "проанализировано статей: {done}, пропущено плохих строк: {bad}",
        "analysed {done} articles, skipped {bad} bad lines",
    ),
    # demo
    "demo.written": (
        "записано: {files}; поиск по демо-данным: REZONANS_INDEX_PREFIX={prefix} rezonans search '{query}'",
        "written: {files}; search it with REZONANS_INDEX_PREFIX={prefix} rezonans search '{query}'",
    ),
}

_PLURALS: dict[str, tuple[tuple[str, str, str], str, str]] = {
    "results": (("результат", "результата", "результатов"), "result", "results"),
}


def language() -> str:
    """The configured language (ru unless `language: en`); a bad config falls back to ru (the command reports it)."""
    try:
        return load_settings().language
    except ConfigError:
        return "ru"


def plural_word(key: str, n: int, lang: str) -> str:
    """The word for n things in the language: 1 результат, 2 результата, 5 результатов / 1 result, 2 results."""
    from rezonans.formats import plural

    ru, en_one, en_many = _PLURALS[key]
    if lang == "en":
        return en_one if n == 1 else en_many
    return plural(n, *ru)


def say(key: str, lang: str | None = None, **values: object) -> str:
    """The message `key` in the language, with `values` filled in."""
    ru, en = MESSAGES[key]
    return (en if (lang or language()) == "en" else ru).format(**values)
