"""The explorer in a real browser: JupyterLab started headless, `nbs/explorer.ipynb` opened in headless Chromium (the
system's Debian `chromium`, driven by Playwright's Python package; no browser download), all cells run, one slider moved
with the keyboard, and the rendered image must change. Slow (about a minute). Screenshots and the JupyterLab log are
kept in out/browser/ (before.png, after.png: the whole page; before_image.png, after_image.png: the image widget).
JupyterLab, its kernel and Chromium are stopped at the end, also when the test fails."""
import base64, io, json, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ART = ROOT / 'out' / 'browser'
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
SLIDER = 'local seed'      # the slider the test moves (its description in nbs/explorer.ipynb)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _descendants(pid:int) -> list:
    import psutil
    try: return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess: return []

def _stop(procs, grace:float=10):
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

@pytest.fixture
def lab(tmp_path):
    "JupyterLab on 127.0.0.1 with a random token, serving a copy of nbs/explorer.ipynb (so the run never writes to nbs/)."
    shutil.rmtree(ART, ignore_errors=True); ART.mkdir(parents=True)               # this run's artifacts only
    root = tmp_path / 'root'; root.mkdir()
    shutil.copy(ROOT / 'nbs' / 'explorer.ipynb', root / 'explorer.ipynb')
    for plugin, values in (('apputils-extension/notification', {'fetchNews': 'false', 'checkForUpdates': False}),  # no news pop-up
                           ('notebook-extension/tracker', {'autoStartDefaultKernel': True})):                # no kernel dialog
        f = tmp_path / 'settings' / '@jupyterlab' / f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp_path / 'config'), 'JUPYTER_RUNTIME_DIR': str(tmp_path / 'runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(tmp_path / 'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp_path / 'workspaces'),
           'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2'), 'PYTHONUNBUFFERED': '1'}
    log = open(ART / 'jupyter.log', 'w')
    proc = subprocess.Popen([str(BIN / 'jupyter'), 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--ServerApp.port_retries=0',
                             '--ServerApp.terminals_enabled=False', '--LabApp.extension_manager=readonly', '--LabApp.news_url=None']
                            + (['--allow-root'] if os.geteuid() == 0 else []),
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    def ready() -> str:
        "Wait until JupyterLab answers (the browser starts meanwhile); its URL."
        t0 = time.time()
        while True:
            if proc.poll() is not None: pytest.fail(f"JupyterLab exited with {proc.returncode}; see {ART / 'jupyter.log'}")
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2)
                print(f'waited {time.time() - t0:.1f} s for JupyterLab'); return url
            except OSError:
                if time.time() - t0 > 90: pytest.fail(f"JupyterLab did not answer on {url} within 90 s; see {ART / 'jupyter.log'}")
                time.sleep(0.3)
    try:
        yield ready, token
    finally:
        t1 = time.time()
        kids = _descendants(proc.pid)                                  # the kernel runs in its own session: collect it first
        try: os.killpg(proc.pid, signal.SIGTERM)                       # JupyterLab's process group ...
        except ProcessLookupError: pass
        _stop(kids, grace=10)                                          # ... and the kernel, at the same time
        try: proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait(5)
        log.close()
        print(f'JupyterLab and its kernel stopped in {time.time() - t1:.1f} s')

def _image_bytes(page, img) -> bytes:
    "The bytes behind the image widget's <img> (a blob: URL holding the PNG)."
    b64 = page.evaluate("""async (el) => {
        const buf = await (await fetch(el.src)).arrayBuffer();
        let s = ''; for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
        return btoa(s); }""", img.element_handle())
    return base64.b64decode(b64)

def test_explorer_in_browser(lab):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: the browser check needs the Debian packages chromium and chromium-driver; run `make setup`")
    try: from playwright.sync_api import sync_playwright
    except ImportError: pytest.fail("the browser check needs Playwright's Python package (a dev dependency): run `make setup`")
    import numpy as np
    from PIL import Image
    ready, token = lab
    t0, phases = time.time(), {}
    def phase(name): phases[name] = round(time.time() - t0, 1)
    import psutil
    before = {p.pid for p in psutil.Process().children()}                  # JupyterLab (stopped by the fixture)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={'width': 1400, 'height': 1000})
                page.set_default_timeout(120_000)
                page.goto(f'{ready()}/lab/tree/explorer.ipynb?token={token}')
                page.locator('.jp-Notebook .jp-Cell').first.wait_for(); phase('notebook shown')
                page.wait_for_function(r"() => /\|\s*Idle/.test(document.body.innerText)")   # status bar: 'Python 3 (ipykernel) | Idle'
                phase('kernel idle')
                page.get_by_role('menuitem', name='Run', exact=True).click()          # Run > Run All Cells
                page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
                img = page.locator('img.widget-image')
                img.wait_for(state='visible')
                page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
                page.locator('.locogan-claims').wait_for(); phase('image rendered')
                slider = page.locator('.widget-slider').filter(has=page.locator('label', has_text=SLIDER))
                readout = slider.locator('.widget-readout')
                assert readout.inner_text().strip() == '0', f"the {SLIDER} slider starts at {readout.inner_text()!r}, expected 0"
                src0, png0 = img.get_attribute('src'), _image_bytes(page, img)
                img.scroll_into_view_if_needed()
                page.screenshot(path=str(ART / 'before.png')); img.screenshot(path=str(ART / 'before_image.png'))

                slider.locator('.noUi-handle').focus()                                # move the slider one step with the keyboard
                page.keyboard.press('ArrowRight')
                page.wait_for_function("([el, s]) => el.src !== s && el.complete && el.naturalWidth > 0", arg=[img.element_handle(), src0])
                assert readout.inner_text().strip() == '1'
                page.wait_for_timeout(300)                                             # let the new image paint
                png1 = _image_bytes(page, img); phase('new image after the slider')
                page.screenshot(path=str(ART / 'after.png')); img.screenshot(path=str(ART / 'after_image.png'))
            except Exception:
                try: page.screenshot(path=str(ART / 'failure.png'))
                except Exception: pass
                raise
            finally:
                browser.close()
    finally:
        new = [p for p in psutil.Process().children() if p.pid not in before]  # Playwright's driver, and Chromium under it, if left
        _stop([q for p in new for q in [p, *_descendants(p.pid)]], grace=5)
    print('seconds since the browser started:', phases)
    a, b = (np.asarray(Image.open(io.BytesIO(x)).convert('RGB')).astype(float) for x in (png0, png1))
    assert a.shape == b.shape, f"the image changed size: {a.shape} -> {b.shape}"
    assert np.abs(a - b).mean() > 1, "moving the local-seed slider did not change the rendered image"
    sa, sb = (np.asarray(Image.open(ART / f).convert('RGB')).astype(float) for f in ('before_image.png', 'after_image.png'))
    assert sa.shape == sb.shape and np.abs(sa - sb).mean() > 1, "the screenshots of the image widget did not change"
