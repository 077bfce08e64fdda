"""The explorer in a real browser: JupyterLab started headless, `nbs/explorer.ipynb` opened in headless Chromium (the
system's Debian `chromium`, driven by Playwright's Python package; no browser download), all cells run, then

- one slider moved with the keyboard: the rendered image must change;
- the endless canvas panned right and back with its arrow buttons: the view that comes back is the first one, pixel for
  pixel, and consecutive views overlap exactly.

Slow (about a minute each). Screenshots and the JupyterLab logs are kept in out/browser/ (before.png, after.png: the
whole page; before_image.png, after_image.png: the image widget; canvas_first.png, canvas_right.png, canvas_back.png:
the canvas widget, canvas_page.png: the page after panning; jupyter_TEST.log). JupyterLab, its kernel and Chromium are
stopped at the end, also when a test fails."""
import base64, contextlib, io, json, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest
from _chromium import browser_page, descendants, stop

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ART = ROOT / 'out' / 'browser'
SLIDER = 'local seed'      # the slider the test moves (its description in nbs/explorer.ipynb)
IMAGE = 'img.widget-image:not(.locogan-canvas-image)'   # the explorer's image (the canvas's has its own class)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def artifacts():
    "out/browser/, emptied once per run: this run's artifacts only."
    shutil.rmtree(ART, ignore_errors=True); ART.mkdir(parents=True)
    return ART

@pytest.fixture
def lab(tmp_path, artifacts, request):
    "JupyterLab on 127.0.0.1 with a random token, serving a copy of nbs/explorer.ipynb (so the run never writes to nbs/)."
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
    logname = ART / f'jupyter_{request.node.name}.log'
    log = open(logname, 'w')
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
            if proc.poll() is not None: pytest.fail(f"JupyterLab exited with {proc.returncode}; see {logname}")
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2)
                print(f'waited {time.time() - t0:.1f} s for JupyterLab'); return url
            except OSError:
                if time.time() - t0 > 90: pytest.fail(f"JupyterLab did not answer on {url} within 90 s; see {logname}")
                time.sleep(0.3)
    try:
        yield ready, token
    finally:
        t1 = time.time()
        kids = descendants(proc.pid)                                  # the kernel runs in its own session: collect it first
        try: os.killpg(proc.pid, signal.SIGTERM)                       # JupyterLab's process group ...
        except ProcessLookupError: pass
        stop(kids, grace=10)                                          # ... and the kernel, at the same time
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

@contextlib.contextmanager
def _explorer_page(lab, failure:str):
    """A Chromium page showing explorer.ipynb with all its cells run (the explorer's image and claims on screen); the
    page is screenshotted to out/browser/`failure` when the block fails; Chromium and Playwright's driver are stopped."""
    ready, token = lab
    t0, phases = time.time(), {}
    def phase(name): phases[name] = round(time.time() - t0, 1)
    try:
        with browser_page({'width': 1400, 'height': 1000}, ART / failure) as page:
            page.goto(f'{ready()}/lab/tree/explorer.ipynb?token={token}')
            page.locator('.jp-Notebook .jp-Cell').first.wait_for(); phase('notebook shown')
            page.wait_for_function(r"() => /\|\s*Idle/.test(document.body.innerText)")   # status bar: 'Python 3 (ipykernel) | Idle'
            phase('kernel idle')
            page.get_by_role('menuitem', name='Run', exact=True).click()          # Run > Run All Cells
            page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
            img = page.locator(IMAGE)
            img.wait_for(state='visible')
            page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
            page.locator('.locogan-claims').wait_for(); phase('image rendered')
            yield page, phase
    finally:
        print('seconds since the browser started:', phases)

def _new_image(page, img, src:str) -> bytes:
    "Wait until the image widget shows another PNG than the one at `src` (a new blob: URL), loaded and painted; its bytes."
    page.wait_for_function("([el, s]) => el.src !== s && el.complete && el.naturalWidth > 0", arg=[img.element_handle(), src])
    page.wait_for_timeout(300)                                             # let the new image paint
    return _image_bytes(page, img)

def test_explorer_in_browser(lab):
    import numpy as np
    from PIL import Image
    with _explorer_page(lab, 'failure.png') as (page, phase):
        img = page.locator(IMAGE)
        slider = page.locator('.widget-slider').filter(has=page.locator('label', has_text=SLIDER))
        readout = slider.locator('.widget-readout')
        assert readout.inner_text().strip() == '0', f"the {SLIDER} slider starts at {readout.inner_text()!r}, expected 0"
        src0, png0 = img.get_attribute('src'), _image_bytes(page, img)
        img.scroll_into_view_if_needed()
        page.screenshot(path=str(ART / 'before.png')); img.screenshot(path=str(ART / 'before_image.png'))

        slider.locator('.noUi-handle').focus()                                # move the slider one step with the keyboard
        page.keyboard.press('ArrowRight')
        png1 = _new_image(page, img, src0)
        assert readout.inner_text().strip() == '1'
        phase('new image after the slider')
        page.screenshot(path=str(ART / 'after.png')); img.screenshot(path=str(ART / 'after_image.png'))
    a, b = (np.asarray(Image.open(io.BytesIO(x)).convert('RGB')).astype(float) for x in (png0, png1))
    assert a.shape == b.shape, f"the image changed size: {a.shape} -> {b.shape}"
    assert np.abs(a - b).mean() > 1, "moving the local-seed slider did not change the rendered image"
    sa, sb = (np.asarray(Image.open(ART / f).convert('RGB')).astype(float) for f in ('before_image.png', 'after_image.png'))
    assert sa.shape == sb.shape and np.abs(sa - sb).mean() > 1, "the screenshots of the image widget did not change"

def test_canvas_pans_in_browser(lab):
    "Pan the endless canvas right and back with its buttons: the first view comes back exactly; consecutive views overlap exactly."
    import numpy as np
    from PIL import Image
    with _explorer_page(lab, 'canvas_failure.png') as (page, phase):
        img, status = page.locator('img.locogan-canvas-image'), page.locator('.locogan-canvas-status')
        img.wait_for(state='visible'); status.wait_for()
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
        offset = lambda: (int(status.get_attribute('data-top')), int(status.get_attribute('data-left')))
        step = int(status.get_attribute('data-step-x'))                     # columns of one step (a quarter of the view)
        assert offset() == (0, 0), f"the canvas starts at {offset()}, expected (0, 0)"
        assert 'model brick' in status.inner_text(), status.inner_text()
        src0, png0 = img.get_attribute('src'), _image_bytes(page, img)
        img.scroll_into_view_if_needed(); img.screenshot(path=str(ART / 'canvas_first.png')); phase('canvas shown')

        page.locator('button.locogan-pan-right').click()
        png1 = _new_image(page, img, src0)
        page.wait_for_function("([el, l]) => el.dataset.left === l", arg=[status.element_handle(), str(step)])
        assert offset() == (0, step), f"after one step right the status says {offset()}, expected (0, {step})"
        assert f'left {step}' in status.inner_text(), status.inner_text()
        img.screenshot(path=str(ART / 'canvas_right.png')); phase('panned right')

        src1 = img.get_attribute('src')
        page.locator('button.locogan-pan-left').click()
        png2 = _new_image(page, img, src1)
        page.wait_for_function("el => el.dataset.left === '0'", arg=status.element_handle())
        assert offset() == (0, 0), f"after right and left the status says {offset()}, expected (0, 0)"
        img.screenshot(path=str(ART / 'canvas_back.png')); page.screenshot(path=str(ART / 'canvas_page.png')); phase('panned back')
    first, right, back = (np.asarray(Image.open(io.BytesIO(x)).convert('RGB')) for x in (png0, png1, png2))
    print(f'canvas view {first.shape[:2]}, step {step} px')
    assert first.dtype == np.uint8 and first.shape == right.shape == back.shape, (first.shape, right.shape, back.shape)
    assert 0 < step < first.shape[1]
    assert np.array_equal(back, first), f"right then left is not the first view: {(back != first).any(-1).sum()} pixels differ"
    assert np.array_equal(right[:, :-step], first[:, step:]), "the view after one step right does not overlap the first one exactly"
    assert np.array_equal(back[:, step:], right[:, :-step]), "the view after one step back does not overlap the one before exactly"
    assert not np.array_equal(right, first), "panning right did not change the view"
