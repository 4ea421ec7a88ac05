"""A person in a browser: key from the URL, upload real photos, find one under its category, open, delete."""

from __future__ import annotations

import base64
import hashlib
import shutil

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import ARTIFACTS, WebDriverWait
from tests.e2e.support import CHELSEA, PHOTOS

HOSTILE_NAME = "<img src=x onerror=alert(1)>.png"


def titles(driver) -> list[str]:
    """The gallery's titles, read in one go (the gallery re-renders while it polls)."""
    return driver.execute_script("return [...document.querySelectorAll('#gallery .title')].map(e => e.textContent)")


def test_upload_find_by_category_open_and_delete(server, api_key, browser, tmp_path):
    wait = WebDriverWait(browser, 60)
    hostile = tmp_path / HOSTILE_NAME
    shutil.copy(PHOTOS / "coffee.png", hostile)
    # GIVEN the page opened with the key in the fragment, as imgmgr serve prints it
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    assert "key=" not in browser.current_url
    # WHEN two photos are chosen at once (one with markup in its name)
    browser.find_element(By.ID, "file-input").send_keys(f"{CHELSEA}\n{hostile}")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery li[data-status=ready]")) == 2)
    # THEN the markup is shown as text, never run
    assert HOSTILE_NAME in titles(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "#gallery .caption img") == []
    # WHEN filtering by the category the offline labeler gave the cat
    wait.until(
        lambda d: any("Animals and Pets" in o.text for o in d.find_elements(By.CSS_SELECTOR, "#category option"))
    )
    Select(browser.find_element(By.ID, "category")).select_by_value("Animals and Pets")
    wait.until(lambda d: titles(d) == ["chelsea.png"])
    # AND opening it
    browser.find_element(By.CSS_SELECTOR, "#gallery li[data-status=ready]").click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    wait.until(
        lambda d: (
            d.execute_script(
                "return document.getElementById('v-image').complete && document.getElementById('v-image').naturalWidth"
            )
            > 0
        )
    )
    labels = [chip.text for chip in browser.find_elements(By.CSS_SELECTOR, "#v-labels li .name")]
    renditions = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#v-renditions tbody tr")]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-image-view.png"))
    # THEN it shows its labels and renditions
    assert browser.find_element(By.ID, "v-name").text == "chelsea.png"
    assert any(label.split()[0] == "Cat" for label in labels), labels
    assert any(r.startswith("compressed jpeg") for r in renditions)
    # AND the original can be downloaded until the originals policy (expire, 30 days) removes it
    original = browser.find_element(By.ID, "v-original")
    assert original.text.startswith("Download the original (kept until ")
    assert "the compressed rendition is the best copy" in original.text
    link = original.find_element(By.TAG_NAME, "a").get_attribute("href")
    assert (
        browser.execute_script(
            "const r = new XMLHttpRequest(); r.open('GET', arguments[0], false); r.send(); return r.status;", link
        )
        == 200
    )
    # WHEN deleting it (and confirming)
    browser.find_element(By.ID, "v-delete").click()
    wait.until(ec.alert_is_present()).accept()
    # THEN it is gone from the gallery and the category
    wait.until(lambda d: "chelsea.png" not in titles(d))
    Select(browser.find_element(By.ID, "category")).select_by_value("")
    wait.until(lambda d: titles(d) == [HOSTILE_NAME])
    browser.save_screenshot(str(ARTIFACTS / "browser-after-delete.png"))


def test_page_hashes_files_without_webcrypto_too(server, browser):
    # GIVEN the page (over plain http to another machine, crypto.subtle does not exist)
    browser.get(f"{server.url}/")
    data = CHELSEA.read_bytes()
    # WHEN its fallback hashes a real photo
    digest = browser.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0)); return sha256Fallback(bytes);",
        base64.b64encode(data).decode(),
    )
    # THEN it is the file's SHA-256, which the API compares with the bytes that arrive
    assert digest == hashlib.sha256(data).hexdigest()


def test_files_dropped_on_the_page_are_uploaded_with_progress(server, api_key, browser):
    wait = WebDriverWait(browser, 60)
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    # WHEN a photo is dropped on the drop zone (a real DragEvent carrying a File)
    browser.execute_script(
        """
        const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "dropped cat.png", { type: "image/png" }));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        """,
        base64.b64encode(CHELSEA.read_bytes()).decode(),
    )
    # THEN its row fills its progress bar and the image appears in the gallery, processed
    wait.until(lambda d: d.execute_script("return document.querySelector('#uploads progress')?.value") == 1)
    wait.until(lambda d: titles(d) == ["dropped cat.png"])
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gallery li[data-status=ready]"))
    wait.until(lambda d: d.execute_script("return document.querySelector('#uploads .status').textContent") == "ready")


def test_the_api_reference_draws_every_operation_from_the_openapi_document(server, browser):
    # GIVEN the reference page, opened without a key
    browser.get(f"{server.url}/docs")
    # WHEN it has drawn the app's own OpenAPI document
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#docs-index li")))
    operations = browser.execute_script(
        "return [...document.querySelectorAll('#docs-index li')].map(e => e.textContent)"
    )
    spec = browser.execute_script("return fetch('openapi.json').then((r) => r.json())")
    # THEN every operation of the document is listed, with its parameters and the schemas it refers to
    expected = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    assert set(operations) == expected and "POST /v1/uploads" in expected
    schemas = browser.execute_script("return [...document.querySelectorAll('.docs-schema h3')].map(e => e.textContent)")
    assert set(schemas) == set(spec["components"]["schemas"])
    # AND everything it loaded came from the server itself (nothing from a CDN)
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert loaded and all(url.startswith(server.url) for url in loaded)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "api-reference.png"))


def test_a_delete_that_got_no_answer_is_sent_again_when_the_page_next_loads(server, api_key, browser):
    wait = WebDriverWait(browser, 60)
    # GIVEN a ready photo, open in the page
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    browser.find_element(By.ID, "file-input").send_keys(str(CHELSEA))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery li[data-status=ready]")) == 1)
    item = browser.find_element(By.CSS_SELECTOR, "#gallery li[data-status=ready]")
    image_id = item.get_attribute("data-id")
    item.click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    # WHEN the owner deletes it while the server is down (the DELETE gets no answer)
    server.stop()
    browser.find_element(By.ID, "v-delete").click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: d.find_element(By.ID, "message").text.startswith("Error"))
    # AND the page is loaded again once the server is back
    server.start()
    browser.get(f"{server.url}/")
    # THEN the page sent the DELETE again: nothing of the image is left
    headers = {"x-api-key": api_key}
    wait.until(lambda _d: httpx.get(f"{server.url}/v1/images/{image_id}", headers=headers).status_code == 404)
    left = [p for p in (server.data_dir / "objects").rglob("*") if p.is_file() and f"/{image_id}/" in str(p)]
    assert left == []
    assert browser.execute_script("return localStorage.getItem('imgmgr.pendingDeletes')") is None


def test_the_search_box_finds_by_category_word_and_label_and_says_when_nothing_matches(server, api_key, browser):
    wait = WebDriverWait(browser, 60)
    # GIVEN the cat and the coffee cup uploaded and labelled by the offline labeler
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    browser.find_element(By.ID, "file-input").send_keys(f"{CHELSEA}\n{PHOTOS / 'coffee.png'}")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery li[data-status=ready]")) == 2)
    box = browser.find_element(By.ID, "q")

    def search(text: str) -> None:
        box.clear()
        box.send_keys(text + "\n")

    # WHEN typing a word of the cat's category THEN the cat shows, alone
    search("animals")
    wait.until(lambda d: titles(d) == ["chelsea.png"])
    # WHEN typing the first word of the cat's most confident label (the vocabulary has no synonyms)
    (cat,) = httpx.get(
        f"{server.url}/v1/images", params={"q": "chelsea"}, headers={"x-api-key": api_key}, timeout=10
    ).json()["items"]
    label = httpx.get(f"{server.url}/v1/images/{cat['id']}", headers={"x-api-key": api_key}, timeout=10).json()[
        "labels"
    ][0]["name"]
    search(label.split()[0].lower())
    wait.until(lambda d: titles(d) == ["chelsea.png"])
    # WHEN typing a word nothing has THEN the page says so, with the words
    search("zebra")
    wait.until(lambda d: d.find_elements(By.ID, "no-match"))
    assert browser.find_element(By.ID, "no-match").text == "No images match \u201czebra\u201d."
    assert titles(browser) == []
