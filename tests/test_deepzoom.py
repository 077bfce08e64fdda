"""The Deep Zoom export in a real browser: a 1024 x 1536 px pyramid of the shipped brick model (wallpaper mode) written by
`locogan.canvas.export_deepzoom`, its `index.html` opened over file:// (no server, no network) in headless Chromium (the
system's Debian `chromium`, driven by Playwright's Python package; no browser download). OpenSeadragon must draw the
whole image, then zoom in with the mouse wheel and pan by dragging, loading tiles of the full-resolution level. Both
screenshots are kept in out/browser/ (deepzoom_overview.png, deepzoom_zoomed.png). Chromium is stopped at the end, also
when the test fails. About 20 s."""
import time
from pathlib import Path
import pytest
from _chromium import browser_page

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / 'out' / 'browser'
H, W = 1024, 1536          # the exported size: levels 0 .. 11, level 11 is the full image
VIEW = {'width': 640, 'height': 440}   # the image fits at 0.42 screen px per image px: OpenSeadragon draws it from level 10

@pytest.fixture(scope='module')
def pyramid(tmp_path_factory):
    "A Deep Zoom export of brick, 1024 x 1536 px, jpg tiles of 256 px; its folder."
    import torch
    from locogan.models import load_generator
    from locogan.canvas import Canvas, export_deepzoom
    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp('dzi')
    r = export_deepzoom(Canvas(load_generator('brick'), seed=3, master='wallpaper'), H, W, out, checkpoint='brick', progress=False)
    assert r['levels'] == 12 and (out / 'index.html').is_file() and (out / 'openseadragon' / 'openseadragon.min.js').is_file()
    return out

def test_deepzoom_in_browser(pyramid):
    import numpy as np
    from PIL import Image
    ART.mkdir(parents=True, exist_ok=True)
    shots = {k: ART / f'deepzoom_{k}.png' for k in ('overview', 'zoomed')}
    for p in [*shots.values(), ART / 'deepzoom_failure.png']: p.unlink(missing_ok=True)   # this run's screenshots only
    requests, errors, t0 = [], [], time.time()
    settled = """() => { const v = window.viewer; if (!v || v.world.getItemCount() === 0) return false;
        const vp = v.viewport, a = vp.getCenter(true), b = vp.getCenter(false);
        return v.world.getItemAt(0).getFullyLoaded() && vp.getZoom(true) === vp.getZoom(false) && a.x === b.x && a.y === b.y; }"""
    with browser_page(VIEW, ART / 'deepzoom_failure.png', timeout_ms=30_000) as page:   # small: the overview needs level 10 only
        page.on('request', lambda r: requests.append(r.url))
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto((pyramid / 'index.html').as_uri())
        page.wait_for_function(settled)                                   # the whole image drawn, every tile in view loaded
        page.wait_for_timeout(300)                                        # one more frame painted
        page.screenshot(path=str(shots['overview']))
        overview_levels = page.evaluate("() => { const t = viewer.world.getItemAt(0); return [t.source.minLevel, t.source.maxLevel]; }")
        n_overview = len(requests)
        page.evaluate("""() => { window.loaded = [];
            viewer.addHandler('tile-loaded', e => window.loaded.push(e.tile.level)); }""")
        zoom0 = page.evaluate("() => viewer.viewport.getZoom(true)")
        page.mouse.move(320, 220)
        for _ in range(10):                                               # zoom in with the wheel, at the centre
            page.mouse.wheel(0, -300); page.wait_for_timeout(100)
        page.mouse.down(); page.mouse.move(170, 120, steps=10); page.mouse.up()   # pan by dragging
        page.wait_for_function(settled)
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots['zoomed']))
        zoom1 = page.evaluate("() => viewer.viewport.getZoom(true)")
        loaded = page.evaluate("() => window.loaded")
    level = lambda urls: sorted(int(u.split('/canvas_files/')[1].split('/')[0]) for u in urls if '/canvas_files/' in u)
    lv0, lv1 = level(requests[:n_overview]), level(requests[n_overview:])
    print(f'{time.time() - t0:.1f} s in the browser; zoom {zoom0:.2f} -> {zoom1:.2f}; tiles asked for, by level: overview',
          {L: lv0.count(L) for L in sorted(set(lv0))}, 'after zooming and panning', {L: lv1.count(L) for L in sorted(set(lv1))},
          '; loaded after zooming (OpenSeadragon events):', {L: loaded.count(L) for L in sorted(set(loaded))})
    assert not errors, f"errors in the page: {errors}"
    assert all(u.startswith('file://') for u in requests), f"the viewer asked the network: {[u for u in requests if not u.startswith('file://')]}"
    assert overview_levels[1] == 11, overview_levels
    assert zoom1 > 4 * zoom0, f"the wheel did not zoom in: {zoom0} -> {zoom1}"
    assert lv0 and max(lv0) == 10, f"the overview should need levels up to 10, it asked for {sorted(set(lv0))}"
    assert 11 in lv1 and loaded.count(11) > 0, f"no tile of the full-resolution level 11 was loaded after zooming: {sorted(set(lv1))}, {sorted(set(loaded))}"
    a, b = (np.asarray(Image.open(p).convert('RGB')).astype(float) for p in shots.values())
    for nm, x in (('overview', a), ('zoomed', b)):
        assert x.std() > 10, f"the {nm} screenshot is blank (pixel std {x.std():.1f})"
    assert np.abs(a - b).mean() > 10, "zooming in and panning did not change the picture"
