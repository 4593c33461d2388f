"""In a real browser: Debian's Chromium, headless, driven by Selenium through Debian's chromedriver (nothing is
downloaded at run time). Opens the feed, types a query, applies a filter, corrects a tone, opens a report, and
saves screenshots (REZONANS_SCREENSHOTS=folder keeps them; docs/web-feed.png was taken this way)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.client import connect
from pipeline.corrections import fetch_article
from rezonans.config import Settings
from rezonans.model import article_id
from tests.web.conftest import Server, load_corpus, start_server, stop

pytestmark = pytest.mark.es

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium; missing binaries fail on CI (scripts/setup.sh installs them) and skip elsewhere."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing: scripts/setup.sh installs them")
        pytest.skip("chromium / chromium-driver not installed (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=ru"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def web_browser(es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over its own copy of the corpus (the browser corrects a tone)."""
    settings = load_corpus(es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-webbr"}))
    server = start_server(settings, tmp_path_factory.mktemp("web") / "browser.log")
    yield server
    stop(server)


def shots() -> Path:
    """Where screenshots go."""
    folder = Path(os.environ.get("REZONANS_SCREENSHOTS") or "/tmp/rezonans-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_feed_query_filter_tone_and_report_in_a_browser(browser, web_browser: Server) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    wait = WebDriverWait(d, 30, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))

    def new_page(action) -> None:
        """Do something that loads a new page and wait until that page has loaded."""
        old = d.find_element(By.TAG_NAME, "html")

        def gone(_drv) -> bool:
            # chromedriver reports a node detached mid-navigation either as stale or as an inspector error
            try:
                return ec.staleness_of(old)(_drv)
            except WebDriverException as exc:
                if "does not belong to the document" in str(exc):
                    return True
                raise

        action()
        wait.until(gone)
        wait.until(lambda drv: drv.execute_script("return document.readyState") == "complete")

    d.get(web_browser.url + "/feed?from=2026-11-16&to=2026-11-22")
    assert d.title.startswith("Лента")
    # type a query
    box = d.find_element(By.ID, "q")
    box.clear()
    new_page(lambda: box.send_keys("Сбербанк", Keys.ENTER))
    assert "q=%D0%A1%D0%B1%D0%B5%D1%80%D0%B1%D0%B0%D0%BD%D0%BA" in d.current_url
    hits = d.find_elements(By.CSS_SELECTOR, "article.hit")
    assert len(hits) == 9
    assert all(m.text.startswith("Сбербанк") for m in d.find_elements(By.CSS_SELECTOR, "article.hit mark"))
    d.save_screenshot(str(shots() / "feed-query.png"))
    # apply a filter: the source select submits the form on change
    new_page(lambda: Select(d.find_element(By.ID, "f-source")).select_by_visible_text("РБК"))
    assert "source=" in d.current_url
    hits = d.find_elements(By.CSS_SELECTOR, "article.hit")
    assert len(hits) == 2 and all("РБК" in h.text for h in hits)
    # correct a tone: the РБК story about the fine (a4) is negative; make it neutral
    a4 = article_id("https://rbc.ru/news/a4")
    row = d.find_element(By.ID, f"hit-{a4}")
    form = row.find_element(By.CSS_SELECTOR, "form.tone-form")
    assert form.find_element(By.CSS_SELECTOR, ".tone").text == "негатив"
    Select(form.find_element(By.NAME, "sentiment")).select_by_value("neutral")
    new_page(form.find_element(By.CSS_SELECTOR, "button").click)
    assert d.find_element(By.CSS_SELECTOR, f"#hit-{a4} .tone").text == "нейтрально"
    assert "source=" in d.current_url  # back on the same filtered feed
    d.save_screenshot(str(shots() / "feed-corrected.png"))
    _, stored = fetch_article(connect(web_browser.settings), web_browser.settings, a4)
    assert stored.brand_tone[0].sentiment == "neutral" and stored.tone_corrections[0].by == "local"
    # open a report
    new_page(d.find_element(By.LINK_TEXT, "Отчёты").click)
    Select(d.find_element(By.ID, "r-brand")).select_by_value("sberbank")
    d.execute_script("document.getElementById('r-week').value = '2026-W47'")
    new_page(d.find_element(By.CSS_SELECTOR, "#report-form button").click)
    assert d.find_element(By.ID, "fig-articles").text == "9"
    assert len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 3
    d.set_window_size(1280, 1700)
    d.save_screenshot(str(shots() / "report.png"))
    d.set_window_size(1280, 900)
    # the alerts page opens (empty here: no alert state)
    new_page(d.find_element(By.LINK_TEXT, "Оповещения").click)
    assert d.title.startswith("Оповещения")
