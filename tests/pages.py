"""Open a page of honed's (lab gallery, study report) in headless Chromium, as a person would.

Uses Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them as root) through
Selenium, given the driver's path so that Selenium never tries to download one. Tests call
:func:`open_page`; where no browser can be had, :func:`require_browser` skips with the reason.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


@dataclass
class PageCheck:
    """What a look at the page found."""

    title: str
    images: int  # <img> elements on the page
    broken_images: list[str] = field(default_factory=list)  # src of images that did not load
    console_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    distinct_colours: int = 0  # in the screenshot: 1 means a blank page
    text: str = ""


def _first(paths) -> str | None:
    for p in paths:
        if Path(p).exists():
            return p
    return None


def require_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or skip the test saying what is missing."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    browser = _first(CHROMIUM_CANDIDATES) or shutil.which("chromium")
    driver = _first(DRIVER_CANDIDATES) or shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip(
            "headless Chromium is not installed (as root, make test installs Debian's "
            "chromium and chromium-driver; elsewhere: apt-get install chromium chromium-driver)"
        )
    return browser, driver


def open_page(path, screenshot: Path, width: int = 1280, height: int = 1600) -> PageCheck:
    """Load ``path`` (a local HTML file) in headless Chromium and report what loaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.get(Path(path).resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.src.slice(0, 80), i.complete && i.naturalWidth > 0]);"
        )
        errors = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        screenshot = Path(screenshot)
        driver.save_screenshot(str(screenshot))
        check = PageCheck(
            title=driver.title,
            images=len(images),
            broken_images=[src for src, ok in images if not ok],
            console_errors=errors,
            screenshot=screenshot,
            text=driver.find_element("tag name", "body").text,
        )
    finally:
        driver.quit()
    check.distinct_colours = _distinct_colours(screenshot)
    return check


def _distinct_colours(png: Path) -> int:
    """Number of distinct colours in a screenshot (sampled), through matplotlib's PNG reader."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(str(png))[::4, ::4, :3].reshape(-1, 3)
    return len(np.unique((pixels * 255).astype(np.uint8), axis=0))
