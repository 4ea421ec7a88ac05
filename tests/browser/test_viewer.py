"""The image viewer as a photographer uses it: zoom, previous/next, downloads, EXIF, honest savings; the
gallery on a phone (srcset, no overflow), dark mode and the keyboard shortcuts."""

from __future__ import annotations

import re
import time

import httpx
import numpy as np
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import ARTIFACTS, WebDriverWait
from tests.e2e.support import CHELSEA, PHOTOS
from tests.unit.imaging import imaging_samples as samples

PHONE = (390, 844)
DESKTOP = (1280, 1000)


def camera_jpeg(path, width: int = 2400, height: int = 1600):
    """A photo-like JPEG larger than the screen, with a camera's EXIF (and GPS, which must not show)."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([128 + 90 * np.sin(x / 40.0), 255 * x / width, 200 * ((x // 64 + y // 64) % 2)], axis=-1)
    pixels = np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(path, "JPEG", quality=90, exif=samples.camera_exif())
    return path


def open_page(browser, server, api_key) -> WebDriverWait:
    wait = WebDriverWait(browser, 90)
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    return wait


def upload(browser, wait, *paths) -> None:
    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(p) for p in paths))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery li[data-status=ready]")) == len(paths))


def titles(driver) -> list[str]:
    return driver.execute_script("return [...document.querySelectorAll('#gallery .title')].map(e => e.textContent)")


def open_card(browser, wait, title: str) -> None:
    index = titles(browser).index(title)
    browser.find_elements(By.CSS_SELECTOR, "#gallery li[data-id]")[index].click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    wait.until(lambda d: d.find_element(By.ID, "v-name").text == title)
    wait.until(
        lambda d: d.execute_script(
            "const i = document.getElementById('v-image'); return i.complete && i.naturalWidth > 0"
        )
    )


def detail(server, api_key, browser) -> dict:
    image_id = browser.execute_script("return state.current.id")
    return httpx.get(f"{server.url}/v1/images/{image_id}", headers={"x-api-key": api_key}).json()


def unsigned(url: str) -> str:
    return url.split("?", 1)[0]


def shot(browser, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(0.3)
    browser.save_screenshot(str(ARTIFACTS / name))


def image_box(browser) -> dict:
    return browser.execute_script(
        "const i = document.getElementById('v-image'), s = document.getElementById('v-stage');"
        "return {shown: i.getBoundingClientRect().width, natural: i.naturalWidth, zoom: s.dataset.zoom,"
        " scrollable: s.scrollWidth > s.clientWidth, left: s.scrollLeft, top: s.scrollTop}"
    )


def test_the_viewer_zooms_to_1_1_and_back_pans_downloads_and_shows_the_camera(server, api_key, browser, tmp_path):
    wait = open_page(browser, server, api_key)
    upload(browser, wait, camera_jpeg(tmp_path / "x-t5.jpg"))
    open_card(browser, wait, "x-t5.jpg")
    # THEN it opens fit to the screen, the compressed rendition at full resolution scaled down
    box = image_box(browser)
    assert box["zoom"] == "fit" and box["natural"] == 2400 and box["shown"] < 2400
    shot(browser, "viewer-desktop.png")
    # WHEN the image is clicked THEN it shows at 1:1 and can be panned by dragging
    browser.find_element(By.ID, "v-image").click()
    wait.until(lambda d: image_box(d)["zoom"] == "actual")
    box = image_box(browser)
    assert box["shown"] == 2400 and box["scrollable"]
    assert browser.find_element(By.ID, "v-zoom").get_attribute("aria-pressed") == "true"
    before = (box["left"], box["top"])
    ActionChains(browser).move_to_element(browser.find_element(By.ID, "v-stage")).click_and_hold().move_by_offset(
        -150, -80
    ).release().perform()
    after = image_box(browser)
    assert after["zoom"] == "actual", "a drag pans, it does not toggle"
    assert (after["left"], after["top"]) != before
    shot(browser, "viewer-desktop-1to1.png")
    # AND the button brings it back to fit
    browser.find_element(By.ID, "v-zoom").click()
    assert image_box(browser)["zoom"] == "fit"
    # AND the downloads point at the compressed rendition and the original
    image = detail(server, api_key, browser)
    compressed = next(r for r in image["renditions"] if r["name"] == "compressed")
    # (each answer signs its URLs anew: the same object, a fresh signature)
    assert unsigned(browser.find_element(By.ID, "v-download").get_attribute("href")) == unsigned(compressed["url"])
    assert browser.find_element(By.ID, "v-download").get_attribute("download") == "x-t5.jpg"
    original = browser.find_element(By.ID, "v-download-original").get_attribute("href")
    assert unsigned(original) == unsigned(image["original_url"])
    assert httpx.get(original).content == (tmp_path / "x-t5.jpg").read_bytes()
    assert browser.find_element(By.ID, "v-original").text.startswith("Download the original (kept")
    # AND the EXIF panel shows the camera, lens and exposure
    exif = browser.find_element(By.ID, "v-exif").text
    for expected in ("Fujifilm X-T5", "XF35mmF1.4 R", "1/250 s", "ƒ/2.8", "ISO 400", "35 mm (53 mm equiv.)"):
        assert expected in exif
    assert "2026" in exif and "T14" not in exif
    # AND dates are in words, the exact value in the title; no internal rendition is listed
    stamp = browser.find_element(By.CSS_SELECTOR, "#v-meta time")
    assert stamp.get_attribute("title") == image["created_at"].replace("+00:00", "Z") or "T" in stamp.get_attribute(
        "title"
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", browser.find_element(By.ID, "v-meta").text)
    names = browser.execute_script(
        "return [...document.querySelectorAll('#v-renditions tbody tr')].map(r => r.cells[0].textContent)"
    )
    assert "analysis" not in names and "compressed" in names
    # WHEN Escape is pressed THEN the viewer closes
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait.until(lambda d: not d.execute_script("return document.getElementById('viewer').open"))


def test_arrow_keys_move_to_the_next_and_previous_image_in_gallery_order(server, api_key, browser, tmp_path):
    wait = open_page(browser, server, api_key)
    upload(browser, wait, CHELSEA, PHOTOS / "coffee.png", PHOTOS / "rocket.jpg")
    order = titles(browser)
    open_card(browser, wait, order[0])
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda d: d.find_element(By.ID, "v-name").text == order[1])
    assert browser.find_element(By.ID, "v-position").text == "2 of 3"
    body.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda d: d.find_element(By.ID, "v-name").text == order[2])
    assert browser.find_element(By.ID, "v-next").get_attribute("disabled") is not None
    body.send_keys(Keys.ARROW_LEFT)
    wait.until(lambda d: d.find_element(By.ID, "v-name").text == order[1])
    browser.find_element(By.ID, "v-prev").click()
    wait.until(lambda d: d.find_element(By.ID, "v-name").text == order[0])


def test_a_rendition_larger_than_the_original_never_shows_a_negative_saving(server, api_key, browser, tmp_path):
    # GIVEN a tiny 1-bit PNG, which every JPEG thumbnail outweighs
    path = tmp_path / "flat.png"
    Image.new("1", (1200, 800), 1).save(path, "PNG", optimize=True)
    wait = open_page(browser, server, api_key)
    upload(browser, wait, path)
    open_card(browser, wait, "flat.png")
    savings = {r["name"]: r["saving"] for r in detail(server, api_key, browser)["renditions"]}
    assert min(savings.values()) < 0, savings
    cells = browser.execute_script(
        "return [...document.querySelectorAll('#v-renditions tbody tr')].map(r => r.cells[4].textContent)"
    )
    assert not any(re.search(r"[-\u2212]\s*\d", cell) for cell in cells), cells
    assert any("larger than the original" in cell for cell in cells), cells


def overflow(browser) -> int:
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def test_on_a_phone_nothing_overflows_and_thumbnails_are_chosen_by_width(server, api_key, browser, tmp_path):
    browser.set_window_size(*PHONE)
    wait = open_page(browser, server, api_key)
    upload(browser, wait, CHELSEA, PHOTOS / "coffee.png", camera_jpeg(tmp_path / "x-t5.jpg"))
    wait.until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('#gallery img.thumb')].every(i => i.complete && i.currentSrc)"
        )
    )
    assert browser.execute_script("return window.innerWidth") <= 400
    assert overflow(browser) <= 0
    # THEN each thumbnail comes from its srcset, and the one chosen for a half-screen card is not the largest
    listed = httpx.get(f"{server.url}/v1/images", headers={"x-api-key": api_key}).json()["items"]
    chosen = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#gallery li[data-id]')]"
        ".map(li => [li.dataset.id, li.querySelector('img.thumb').currentSrc]))"
    )
    for item in listed:
        # (each listing signs its URLs anew: the same objects, signatures of another second)
        urls = [unsigned(t["url"]) for t in item["thumbnails"]]
        assert unsigned(chosen[item["id"]]) in urls
        assert unsigned(chosen[item["id"]]) != urls[-1], "a phone card does not need the largest thumbnail"
    shot(browser, "gallery-phone-390.png")
    # AND the viewer fits too: the renditions table fits or scrolls inside its own box
    open_card(browser, wait, "chelsea.png")
    assert overflow(browser) <= 0
    fits = browser.execute_script(
        "const box = document.querySelector('#v-renditions').parentElement.getBoundingClientRect();"
        "const dialog = document.getElementById('viewer').getBoundingClientRect();"
        "return box.right <= window.innerWidth + 0.5 && dialog.right <= window.innerWidth + 0.5"
        " && document.getElementById('viewer').scrollWidth <= document.getElementById('viewer').clientWidth"
    )
    assert fits
    shot(browser, "viewer-phone-390.png")


def luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_mode_follows_the_system_setting_in_the_gallery_viewer_and_charts(server, api_key, browser, tmp_path):
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    )
    wait = open_page(browser, server, api_key)
    upload(browser, wait, CHELSEA, PHOTOS / "coffee.png", camera_jpeg(tmp_path / "x-t5.jpg"))
    style = browser.execute_script(
        "const s = (q, p) => getComputedStyle(document.querySelector(q))[p];"
        "return {body: s('body', 'backgroundColor'), ink: s('body', 'color'), card: s('#gallery > li', 'backgroundColor'),"
        " header: s('header', 'backgroundColor'), input: s('#q', 'backgroundColor')}"
    )
    assert luminance(style["body"]) < 60 and luminance(style["card"]) < 60 and luminance(style["header"]) < 60
    assert luminance(style["input"]) < 60
    assert luminance(style["ink"]) > 180
    shot(browser, "gallery-dark.png")
    open_card(browser, wait, "x-t5.jpg")
    dialog = browser.execute_script("return getComputedStyle(document.getElementById('viewer')).backgroundColor")
    assert luminance(dialog) < 60
    shot(browser, "viewer-dark.png")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    # AND the dashboard's charts draw in colours that read on the dark surface
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "figure.chart"))
    chart = browser.execute_script(
        "const f = document.querySelector('figure.chart'); const t = document.querySelector('.chart-svg text');"
        "return {figure: getComputedStyle(f).backgroundColor, text: t ? getComputedStyle(t).fill : 'rgb(255,255,255)'}"
    )
    assert luminance(chart["figure"]) < 60 and luminance(chart["text"]) > 120
    shot(browser, "dashboard-dark.png")


def test_question_mark_opens_the_shortcuts_help_and_slash_focuses_search(server, api_key, browser):
    wait = open_page(browser, server, api_key)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.execute_script("document.activeElement.blur()")
    body.send_keys("?")
    wait.until(lambda d: d.execute_script("return document.getElementById('help').open"))
    assert "Previous / next image" in browser.find_element(By.ID, "help").text
    shot(browser, "shortcuts-help.png")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait.until(lambda d: not d.execute_script("return document.getElementById('help').open"))
