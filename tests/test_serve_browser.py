"""The search page in a real browser: Debian's headless Chromium, driven by Selenium
through Debian's chromedriver (nothing is downloaded at run time).

Type a query with a typo (completion shows on the way), see the correction and
the highlighted results, click a facet, go to page 2, open a document; no
Content-Security-Policy violation in the console. Screenshots go to
``$SEARCHLIB_TEST_ARTIFACTS`` (else the test's temporary folder).

Without /usr/bin/chromium or /usr/bin/chromedriver the tests are skipped, and
say so (``pytest -rs``; the reason is printed too): ``apt-get install chromium
chromium-driver`` (.ci/run tries it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # a browser to start: CI runs it, the quick loop does not

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,900",
)


def _skip(reason: str) -> None:
    print(f"\nsearchlib: skipping the browser tests: {reason}")
    pytest.skip(reason, allow_module_level=True)


_missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
if _missing:
    _skip(
        f"no headless browser ({', '.join(_missing)} missing): "
        "apt-get install chromium chromium-driver"
    )
for _module in ("selenium", "starlette", "uvicorn", "httpx2"):
    try:
        __import__(_module)
    except ImportError:
        _skip(f"needs {_module}: pip install -e '.[serve,test]'")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_serve import corpus, running  # noqa: E402 (the French corpus, uvicorn in a thread)

from searchlib import Date, Index, Keyword  # noqa: E402
from searchlib.serve import create_app  # noqa: E402


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile in ``profile``."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SEARCHLIB_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with Index.create(
        tmp_path / "fiches.index", fields={"source": Keyword(), "date": Date()}
    ) as ix:
        ix.add(corpus())
        with running(create_app(ix, label="fiches.index")) as where:
            yield where


def wait(driver: WebDriver, condition: Any) -> Any:
    return WebDriverWait(driver, 20).until(condition)


def test_search_correct_facet_page_and_open_a_document(
    url: str, artifacts: Path, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as driver:
        driver.get(url + "?lang=fr")
        box = driver.find_element(By.ID, "q")
        label = driver.find_element(By.CSS_SELECTOR, "label[for=q]")
        assert label.text == "Rechercher dans fiches.index"
        box.send_keys("licen")
        # completion as you type: a listbox of options under the box
        option = wait(
            driver, ec.visibility_of_element_located((By.CSS_SELECTOR, "#completions li"))
        )
        assert option.text.startswith("licenciement")
        assert box.get_attribute("aria-expanded") == "true"
        box.send_keys(Keys.ARROW_DOWN)
        assert box.get_attribute("aria-activedescendant") == "completion-0"
        box.send_keys(Keys.ESCAPE)
        box.send_keys("ciment")  # « licenciment »: a typo
        box.send_keys(Keys.ENTER)
        notice = wait(driver, ec.visibility_of_element_located((By.CLASS_NAME, "correction")))
        assert "Résultats pour « licenciement »." in notice.text
        as_typed = notice.find_element(By.CLASS_NAME, "as-typed")
        assert as_typed.text == "Rechercher « licenciment » tel que saisi"
        marks = driver.find_elements(By.CSS_SELECTOR, ".hit mark")
        assert marks and all(m.text.lower() == "licenciement" for m in marks)
        assert len(driver.find_elements(By.CSS_SELECTOR, ".hit")) == 10
        driver.save_screenshot(str(artifacts / "serve-results.png"))

        driver.find_element(By.PARTIAL_LINK_TEXT, "fiches-service-public").click()
        chosen = wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, ".facets a.chosen")))
        assert chosen.text.startswith("fiches-service-public")
        assert "f.source=fiches-service-public" in driver.current_url
        count = driver.find_element(By.CSS_SELECTOR, ".count").text
        assert count.startswith("1–10 sur 12 documents"), count

        driver.get(url + "?q=licenciement&lang=fr")
        driver.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
        current = wait(
            driver, ec.presence_of_element_located((By.CSS_SELECTOR, "a[aria-current=page]"))
        )
        assert current.text == "2"
        assert driver.find_element(By.CSS_SELECTOR, ".count").text.startswith("11–19 sur 19")

        title = driver.find_element(By.CSS_SELECTOR, ".hit h2 a")
        heading = title.text
        title.click()
        wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "article.document")))
        assert driver.find_element(By.TAG_NAME, "h1").text == heading
        assert driver.find_elements(By.CSS_SELECTOR, ".text mark")
        driver.save_screenshot(str(artifacts / "serve-document.png"))
        driver.find_element(By.PARTIAL_LINK_TEXT, "Retour aux résultats").click()
        wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "a[aria-current=page]")))
        assert "page=2" in driver.current_url

        problems = [
            entry["message"]
            for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
        ]
        assert problems == []
    assert (artifacts / "serve-results.png").stat().st_size > 1000


def test_the_keyboard_reaches_everything_in_order(url: str, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as driver:
        driver.get(url + "?q=licenciement&lang=en")
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        skip = driver.switch_to.active_element
        assert skip.text == "Skip to results"
        order = []
        for _ in range(6):
            driver.switch_to.active_element.send_keys(Keys.TAB)
            element = driver.switch_to.active_element
            order.append(element.get_attribute("id") or element.tag_name)
        assert order[:4] == ["q", "button", "sort", "passages"]
