"""Headless Debian Chromium driven by Selenium against a running ``imgmgr serve``; nothing is downloaded."""

from __future__ import annotations

import os
import secrets
import shutil

import pytest
from selenium.webdriver.support import ui

from imgmgr.keys import KeyStore
from tests.e2e.support import PROJECT_DIR, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = PROJECT_DIR / "test-artifacts"
#: How often a wait asks the page again. Selenium's default, 0.5 s, is waited out by half on average at each
#: of the ~130 waits of these tests, while the page answers in milliseconds.
POLL_S = 0.1


class WebDriverWait(ui.WebDriverWait):
    """Selenium's wait, asking every ``POLL_S`` seconds unless told otherwise."""

    def __init__(self, driver, timeout: float, poll_frequency: float = POLL_S, ignored_exceptions=None) -> None:
        super().__init__(driver, timeout, poll_frequency, ignored_exceptions)


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One ``imgmgr serve`` per test module: starting one takes seconds, and each test has an owner of its
    own (``api_key``), so that the images, albums and figures of one test are never seen by another."""
    root = tmp_path_factory.mktemp("serve")
    (root / "data").mkdir()
    running = Server(root / "data", root / "serve.log")
    try:
        yield running.start()
    finally:
        running.kill()


@pytest.fixture
def server(module_server: Server) -> Server:
    """The module's server, running: a test that stops it starts it again, but one that failed in between
    leaves it down."""
    if module_server.process is None or module_server.process.poll() is not None:
        module_server.start()
    return module_server


@pytest.fixture
def api_key(server: Server) -> str:
    """A key of a new owner, the test's own."""
    key, _ = KeyStore(server.data_dir / "keys.sqlite3").create("browser-" + secrets.token_hex(4))
    return key


@pytest.fixture
def browser(tmp_path):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian chromium and chromium-driver are required: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Never let Selenium Manager look for (or download) a browser or a driver.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
