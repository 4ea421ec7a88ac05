"""The page as a photographer keeps using it: a server that goes away and comes back, a batch with
duplicates and failures, a failed image retried, an idle page that stops asking."""

from __future__ import annotations

import hashlib
import shutil
import time

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from lambdas.adapters.clock import SystemClock
from tests.browser.conftest import ARTIFACTS, WebDriverWait
from tests.e2e.support import CHELSEA, PHOTOS

BATCH = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png")
PHONE = (390, 844)
DESKTOP = (1280, 1000)


def open_page(browser, server, api_key) -> WebDriverWait:
    wait = WebDriverWait(browser, 90)
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    return wait


def rows(driver) -> dict[str, str]:
    """The upload panel's rows: file name -> status text, read in one go."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#uploads li')]"
        ".map((li) => [li.querySelector('.name').textContent, li.querySelector('.status').textContent]))"
    )


def gallery(driver) -> dict[str, str]:
    """The gallery's cards: title -> data-status, read in one go."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#gallery li[data-id]')]"
        ".map((li) => [li.querySelector('.title').textContent, li.dataset.status]))"
    )


def screenshot(driver, name: str, size: tuple[int, int]) -> None:
    driver.set_window_size(*size)
    time.sleep(0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def api_requests(driver) -> int:
    """How many API requests the page has made so far."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/')).length"
    )


def parked_failure(server, api_key, path=CHELSEA) -> str:
    """An image whose compress step failed and was parked (retries exhausted), its original stored; its id.

    Made as the pipeline leaves one: declared, the original in the store, the record failed (retryable,
    parked), no queue row left to run it.
    """
    data = path.read_bytes()
    body = {"filename": path.name, "content_type": "image/png", "size": len(data)}
    body["sha256"] = hashlib.sha256(data).hexdigest()
    answer = httpx.post(f"{server.url}/v1/uploads", json=body, headers={"x-api-key": api_key}).json()
    image_id = answer["image"]["id"]
    metadata = SqliteMetadataStore(server.data_dir / "metadata.sqlite3")
    record = metadata.get(image_id)
    FileObjectStore(server.data_dir / "objects").put(record.original_key, data, content_type="image/png")
    now = SystemClock().now()
    uploaded = metadata.transition(
        record, record.uploaded(at=now, size=len(data), sha256=body["sha256"], sniffed_format=None, sniffed_mime=None)
    )
    metadata.transition(
        uploaded,
        uploaded.failed(
            at=now,
            code="Dependency.Unavailable",
            message="the disk was full",
            step="compress",
            retryable=True,
            max_attempts=1,
        ),
    )
    return image_id


def abandoned_upload(server, api_key) -> str:
    """A declared upload whose bytes never came (the page was closed); its id."""
    body = {"filename": "never-sent.png", "content_type": "image/png", "size": 10, "sha256": "b" * 64}
    return httpx.post(f"{server.url}/v1/uploads", json=body, headers={"x-api-key": api_key}).json()["image"]["id"]


def test_the_page_survives_the_server_going_away_mid_batch_and_resumes_when_it_is_back(
    server, api_key, browser, tmp_path
):
    wait = open_page(browser, server, api_key)
    # GIVEN a batch being processed, some of it shown in the gallery already
    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(PHOTOS / name) for name in BATCH))
    wait.until(lambda d: any(s == "uploaded, processing…" for s in rows(d).values()))
    wait.until(lambda d: gallery(d))
    # WHEN the server stops
    server.stop()
    # THEN the page says so and keeps what it showed (no blank gallery)
    wait.until(ec.visibility_of_element_located((By.ID, "offline")))
    assert "cannot be reached" in browser.find_element(By.ID, "offline").text
    assert gallery(browser), "the gallery went blank"
    screenshot(browser, "offline-desktop.png", DESKTOP)
    screenshot(browser, "offline-phone.png", PHONE)
    browser.set_window_size(*DESKTOP)
    # WHEN the server comes back on the same port and data directory
    server.start()
    # THEN the notice goes, and without a reload every file ends ready and shown
    wait.until(ec.invisibility_of_element_located((By.ID, "offline")))
    wait.until(lambda d: set(rows(d).values()) == {"ready"} and len(rows(d)) == len(BATCH))
    wait.until(lambda d: gallery(d) == dict.fromkeys(BATCH, "ready"))


def test_a_batch_shows_duplicates_failures_in_plain_words_and_a_live_gallery_in_a_compact_panel(
    server, api_key, browser, tmp_path
):
    # GIVEN a batch of photos, one of them twice under another name, an empty file, a text file, a broken one
    files = [PHOTOS / name for name in BATCH]
    shutil.copy(CHELSEA, tmp_path / "chelsea copy.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "broken.png").write_bytes(b"these bytes are no picture at all " * 20)
    files += [tmp_path / name for name in ("chelsea copy.png", "empty.png", "notes.txt", "broken.png")]
    wait = open_page(browser, server, api_key)
    # Record how many files were sent when the gallery first showed one of them.
    browser.execute_script(
        """
        new MutationObserver((_, observer) => {
          if (!document.querySelector('#gallery li[data-id]')) return;
          window.sentWhenShown = [...document.querySelectorAll('#uploads .status')]
            .filter((s) => !/hashing|requesting|uploading|%|waiting/.test(s.textContent)).length;
          observer.disconnect();
        }).observe(document.getElementById('gallery'), { childList: true });
        """
    )
    # WHEN they are chosen at once
    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(f) for f in files))
    # THEN the gallery showed images before the batch was all sent (live, no reload)
    wait.until(lambda d: d.execute_script("return window.sentWhenShown") is not None)
    assert browser.execute_script("return window.sentWhenShown") < len(files)
    # AND each file ends as it should, errors in plain words
    expected = dict.fromkeys(BATCH, "ready") | {
        "chelsea copy.png": "duplicate: same file as chelsea.png",
        "empty.png": "failed: The file is empty.",
        "notes.txt": "failed: This file type is not accepted. Use JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC or AVIF.",
        "broken.png": "failed: This file is not an image.",
    }
    wait.until(lambda d: rows(d) == expected)
    wait.until(lambda d: gallery(d) == dict.fromkeys(BATCH, "ready") | {"broken.png": "failed"})
    # AND the panel counts the batch
    totals = browser.find_element(By.ID, "batch-totals").text
    assert totals.startswith("10 files · 6 done · 3 failed · 1 duplicate · ")
    screenshot(browser, "upload-panel-desktop.png", DESKTOP)
    # AND the gallery stays in view, on a phone too
    for size in (DESKTOP, PHONE):
        browser.set_window_size(*size)
        top = browser.execute_script("return document.getElementById('gallery').getBoundingClientRect().top")
        assert top < size[1] * 0.75, f"the gallery starts at {top} px of {size[1]}"
    screenshot(browser, "upload-panel-phone.png", PHONE)
    browser.set_window_size(*DESKTOP)
    # WHEN the broken file is uploaded again
    browser.find_element(By.ID, "file-input").send_keys(str(tmp_path / "broken.png"))
    # THEN it is retried, not called a duplicate, and fails again in plain words (the same bytes)
    wait.until(lambda d: rows(d) == {"broken.png": "failed: This file is not an image."})
    broken = next(
        item
        for item in httpx.get(
            f"{server.url}/v1/images", params={"status": "failed"}, headers={"x-api-key": api_key}
        ).json()["items"]
    )
    assert broken["failure"]["code"] == "Image.NotAnImage"


def test_a_parked_failure_is_retried_from_its_card_and_an_idle_page_stops_asking(server, api_key, browser):
    # GIVEN a parked failure and an upload that was never sent
    failed_id = parked_failure(server, api_key)
    abandoned_upload(server, api_key)
    wait = open_page(browser, server, api_key)
    wait.until(lambda d: len(gallery(d)) == 2)
    card = browser.find_element(By.CSS_SELECTOR, f'#gallery li[data-id="{failed_id}"]')
    # THEN its card says why in plain words, and offers a retry
    assert card.find_element(By.CSS_SELECTOR, ".failure").text == (
        "A service the server needs is unavailable. Try again in a moment."
    )
    # AND, nothing being in progress, the idle page asks (almost) nothing
    time.sleep(2)
    before = api_requests(browser)
    time.sleep(10)
    assert api_requests(browser) - before <= 2
    # WHEN the owner retries it
    card.find_element(By.CSS_SELECTOR, "button.retry").click()
    # THEN it is processed again and becomes ready, in place, without a reload
    wait.until(lambda d: gallery(d).get("chelsea.png") == "ready")
    assert browser.find_elements(By.ID, "viewer") and not browser.find_element(By.ID, "viewer").is_displayed()


def test_on_a_phone_a_batch_folds_to_its_totals_and_the_gallery_stays_in_view(server, api_key, browser):
    # GIVEN the page on a phone
    browser.set_window_size(*PHONE)
    wait = open_page(browser, server, api_key)
    # WHEN a batch is chosen
    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(PHOTOS / name) for name in BATCH[:4]))
    wait.until(lambda d: set(rows(d).values()) == {"ready"} and len(rows(d)) == 4)
    wait.until(lambda d: len(gallery(d)) == 4)
    # THEN the panel shows its totals line, its list folded, and the gallery starts within the screen
    assert browser.find_element(By.ID, "batch-totals").text.startswith("4 files · 4 done · 0 failed · 0 duplicates")
    assert browser.execute_script("return document.getElementById('batch').open") is False
    height = browser.execute_script("return window.innerHeight")
    top = browser.execute_script("return document.getElementById('gallery').getBoundingClientRect().top")
    assert top < height * 0.8, f"the gallery starts at {top} px of {height}"
    screenshot(browser, "upload-panel-phone-batch.png", PHONE)
    # AND the list opens on demand
    browser.find_element(By.CSS_SELECTOR, "#batch summary").click()
    assert browser.find_element(By.CSS_SELECTOR, "#uploads li").is_displayed()
