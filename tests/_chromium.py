"""Headless Chromium for the browser tests (test_browser.py, test_deepzoom.py): the system's Debian `chromium`, driven by
Playwright's Python package (no browser download), and stopping every process a test started, also when it fails."""
import contextlib, shutil
from pathlib import Path
import pytest

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']

def require_chromium():
    "Playwright's `sync_playwright`, after checking that Chromium and Playwright are installed (else the test fails saying how)."
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: the browser check needs the Debian packages chromium and chromium-driver; run `make setup`")
    try: from playwright.sync_api import sync_playwright
    except ImportError: pytest.fail("the browser check needs Playwright's Python package (a dev dependency): run `make setup`")
    return sync_playwright

def descendants(pid:int) -> list:
    "Every process under `pid` (psutil.Process), or [] when it is gone."
    import psutil
    try: return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess: return []

def stop(procs, grace:float=10):
    "Terminate processes (psutil.Process), then kill those still alive after `grace` seconds."
    import psutil
    for p in procs:
        try: p.terminate()
        except psutil.NoSuchProcess: pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try: p.kill()
        except psutil.NoSuchProcess: pass
    psutil.wait_procs(alive, timeout=5)

def stop_new_children(before:set, grace:float=5):
    "Stop this process's children not in `before` (pids), with everything under them: Playwright's driver and Chromium, if left."
    import psutil
    new = [p for p in psutil.Process().children() if p.pid not in before]
    stop([q for p in new for q in [p, *descendants(p.pid)]], grace=grace)

@contextlib.contextmanager
def browser_page(viewport:dict, failure:Path, timeout_ms:int=120_000):
    """A page of a fresh headless Chromium (`viewport`: width and height in px). When the block fails, the page is
    screenshotted to `failure`; Chromium and Playwright's driver are stopped at the end either way."""
    sync_playwright = require_chromium()
    import psutil
    before = {p.pid for p in psutil.Process().children()}          # what the test started before (JupyterLab): not ours to stop
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport=viewport)
                page.set_default_timeout(timeout_ms)
                yield page
            except Exception:
                try: page.screenshot(path=str(failure))
                except Exception: pass
                raise
            finally:
                browser.close()
    finally:
        stop_new_children(before)                                    # Playwright's driver, and Chromium under it, if left
