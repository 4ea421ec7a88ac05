"""The dashboard tab: real uploads through the page, drawn from ``GET v1/analytics`` as totals and charts."""

from __future__ import annotations

import datetime as dt
import shutil

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import ARTIFACTS, WebDriverWait
from tests.e2e.support import CHELSEA, PHOTOS
from tests.unit.imaging import imaging_samples as samples

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}


def generated_photos(folder) -> list:
    """Three photo-like JPEGs of different sizes (so different contents), two real photos and a text file
    dressed as a PNG (which the pipeline refuses)."""
    files = []
    for width, height in ((640, 480), (800, 600), (1024, 768)):
        path = folder / f"generated-{width}x{height}.jpg"
        path.write_bytes(samples.jpeg(width, height, quality=95))
        files.append(path)
    coffee = folder / "coffee.png"
    shutil.copy(PHOTOS / "coffee.png", coffee)
    not_an_image = folder / "notes.png"
    not_an_image.write_text("not an image at all\n" * 40)
    return [*files, CHELSEA, coffee, not_an_image]


def chart(driver, name: str) -> dict:
    """What a chart shows: its bars (day or label, and value), its accessible name, or its empty note."""
    return driver.execute_script(
        """
        const figure = document.querySelector(`#dash-charts figure[data-chart="${arguments[0]}"]`);
        const svg = figure.querySelector("svg");
        const named = svg ? svg.getAttribute("aria-labelledby").split(" ").map((id) => document.getElementById(id).textContent) : [];
        return {
          days: [...figure.querySelectorAll("rect.bar[data-day]")].map((r) => [r.dataset.day, r.dataset.series, Number(r.dataset.value)]),
          ranks: [...figure.querySelectorAll("g.rank")].map((g) => [g.dataset.label, Number(g.dataset.value)]),
          name: named.join(" | "),
          empty: figure.querySelector(".chart-empty")?.textContent || null,
          right: svg ? svg.getBoundingClientRect().right : 0,
        };
        """,
        name,
    )


def totals(driver) -> dict[str, str]:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#dash-totals .total')]"
        ".map((t) => [t.dataset.total, t.querySelector('.value').textContent + (t.querySelector('.note') ? ' | ' + t.querySelector('.note').textContent : '')]))"
    )


def analytics_requests(driver) -> list[str]:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/v1/analytics'))"
    )


def full_page_screenshot(driver, path, metrics: dict) -> None:
    """The whole page at ``metrics``' width (the viewport grown to the page's height for the picture)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics | {"height": height})
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": False})


def test_dashboard_draws_the_period_of_uploads_made_through_the_page(server, api_key, browser, tmp_path):
    wait = WebDriverWait(browser, 90)
    headers = {"x-api-key": api_key}
    today = dt.datetime.now(dt.UTC).date().isoformat()
    files = generated_photos(tmp_path)
    # GIVEN six files uploaded through the page: five photos processed, one refused
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(path) for path in files))
    wait.until(
        lambda d: (
            d.execute_script(
                "return [...document.querySelectorAll('#gallery li[data-status]')].map((li) => li.dataset.status).sort().join()"
            )
            == "failed,ready,ready,ready,ready,ready"
        )
    )
    images = httpx.get(f"{server.url}/v1/images", headers=headers, params={"limit": 48}).json()["items"]
    failure = next(image["failure"]["code"] for image in images if image["status"] == "failed")
    # AND one photo viewed in the page, one deleted (its categories are no longer counted)
    browser.find_element(By.CSS_SELECTOR, "#gallery li[data-status=ready]").click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    browser.find_element(By.CSS_SELECTOR, "#viewer .close button").click()
    deleted = next(image for image in images if image["filename"].startswith("generated-640"))
    assert httpx.delete(f"{server.url}/v1/images/{deleted['id']}", headers=headers).status_code == 204
    categories = {category for image in images if image is not deleted for category in image["categories"]}

    # WHEN the dashboard is opened (the last 30 days by default)
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#dash-charts figure[data-chart="uploads"] svg'))

    # THEN the totals count the uploads, the images by state and their bytes
    shown = totals(browser)
    size = sum(path.stat().st_size for path in files)
    assert shown["uploads"] == "6"
    assert (shown["ready"], shown["failed"], shown["deleted"]) == ("4", "1", "1")
    assert shown["bytes-uploaded"] == browser.execute_script("return Charts.bytes(arguments[0])", size)
    saved, note = shown["bytes-saved"].split(" | ")
    assert not saved.startswith("-") and note.endswith(" processed") and not note.startswith("-")
    # AND the uploads per day are one bar, today's, named for a screen reader
    uploads = chart(browser, "uploads")
    assert uploads["days"] == [[today, "uploads", 6]]
    assert uploads["name"].startswith("Uploads per day: 6 in all")
    assert chart(browser, "bytes-uploaded")["days"] == [[today, "bytes_uploaded", size]]
    assert [day for day, _, value in chart(browser, "bytes-saved")["days"] if value > 0] == [today]
    # AND the categories chart lists the categories the photos got, the failures chart the refusal's code
    assert {label for label, _ in chart(browser, "categories")["ranks"]} == categories
    assert "Animals and Pets" in categories
    assert chart(browser, "failures")["ranks"] == [[failure, 1]]
    traffic = {series: value for day, series, value in chart(browser, "views-searches")["days"] if day == today}
    assert traffic["views"] >= 1 and traffic["searches"] >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    full_page_screenshot(browser, ARTIFACTS / "dashboard-desktop.png", DESKTOP)

    # WHEN the gallery and then the dashboard are shown again with the same period
    browser.find_element(By.ID, "tab-gallery").click()
    browser.find_element(By.ID, "tab-dashboard").click()
    # THEN the answer is reused (one request), while another period is asked for
    assert len(analytics_requests(browser)) == 1
    browser.find_element(By.CSS_SELECTOR, '#period-presets button[data-days="7"]').click()
    wait.until(lambda d: len(analytics_requests(d)) == 2)
    browser.find_element(By.CSS_SELECTOR, '#period-presets button[data-days="30"]').click()
    wait.until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, '#period-presets button[data-days="30"]').get_attribute("aria-pressed")
            == "true"
        )
    )
    assert len(analytics_requests(browser)) == 2

    # WHEN the page is as wide as a phone
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    wait.until(lambda d: chart(d, "uploads")["right"] <= PHONE["width"])
    # THEN nothing overflows sideways and every chart is redrawn within the screen
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]
    names = browser.execute_script(
        "return [...document.querySelectorAll('#dash-charts figure')].map((f) => f.dataset.chart)"
    )
    assert all(
        0 < chart(browser, name)["right"] <= PHONE["width"] for name in names if not chart(browser, name)["empty"]
    )
    full_page_screenshot(browser, ARTIFACTS / "dashboard-phone.png", PHONE)

    # WHEN a period without any event is chosen
    browser.execute_script(
        "document.getElementById('period-from').value = '2020-01-01'; document.getElementById('period-to').value = '2020-01-31';"
    )
    browser.find_element(By.CSS_SELECTOR, "#period button[type=submit]").click()
    # THEN the charts say so instead of drawing empty axes
    wait.until(lambda d: chart(d, "uploads")["empty"] == "No uploads in this period")
    assert totals(browser)["uploads"] == "0"
    assert browser.find_elements(By.CSS_SELECTOR, "#dash-charts svg") == []


def test_dashboard_refuses_a_period_that_ends_before_it_starts_without_asking_the_server(server, api_key, browser):
    wait = WebDriverWait(browser, 30)
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "tab-dashboard")))
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: d.find_element(By.ID, "dashboard").get_attribute("aria-busy") is None)
    asked = len(analytics_requests(browser))
    # WHEN the chosen start day is after the end day
    browser.execute_script(
        "document.getElementById('period-from').value = '2026-03-02'; document.getElementById('period-to').value = '2026-03-01';"
    )
    browser.find_element(By.CSS_SELECTOR, "#period button[type=submit]").click()
    # THEN the page says what to change and sends nothing
    error = browser.find_element(By.ID, "dash-error")
    assert error.is_displayed() and error.text == "Choose a start day on or before the end day."
    assert len(analytics_requests(browser)) == asked


def test_dashboard_shows_the_servers_refusal_of_a_period(server, api_key, browser):
    wait = WebDriverWait(browser, 30)
    browser.get(f"{server.url}/#key={api_key}")
    wait.until(ec.visibility_of_element_located((By.ID, "tab-dashboard")))
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#dash-charts figure[data-chart="uploads"]'))
    # WHEN a period longer than the API answers is chosen
    browser.execute_script(
        "document.getElementById('period-from').value = '2020-01-01'; document.getElementById('period-to').value = '2026-01-01';"
    )
    browser.find_element(By.CSS_SELECTOR, "#period button[type=submit]").click()
    # THEN the page shows the server's problem detail
    error = browser.find_element(By.ID, "dash-error")
    wait.until(lambda _d: error.is_displayed())
    assert error.text.startswith("The analytics could not be loaded: ")
    assert len(error.text) > len("The analytics could not be loaded: ")
