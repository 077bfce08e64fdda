"""Every figure notebook (nbs/figN_topic.ipynb) runs end to end in its smoke setting (papermill -p smoke True), writing
into a temporary folder: a broken figure fails the suite. `make figures` runs them at full size."""
import os, subprocess, sys, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGS = sorted((ROOT / 'nbs').glob('fig[0-9]*_*.ipynb'), key=lambda p: int(p.stem[3:].split('_')[0]))
BIN = Path(sys.executable).parent

@pytest.mark.parametrize('nb', FIGS, ids=[p.stem for p in FIGS])
def test_figure_smoke(nb, tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
    r = subprocess.run([str(BIN / 'papermill'), str(nb), str(tmp_path / nb.name), '--cwd', str(ROOT / 'nbs'),
                        '-p', 'smoke', 'True', '-p', 'out_dir', str(tmp_path / 'figures'), '--no-progress-bar'],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{nb.name} failed:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}"
    recs = list((tmp_path / 'figures').glob('fig*.json'))
    assert len(recs) == 1, f"{nb.name} should save exactly one figure with save_figure, saved {[p.name for p in recs]}"
    rec = json.loads(recs[0].read_text())
    assert rec['name'] == nb.stem, f"{nb.name} saved its figure as {rec['name']!r}; use the notebook's stem"
    assert (tmp_path / 'figures' / rec['png']).stat().st_size > 1000
    assert rec['caption'] and rec['paper_caption'], 'captions must say what the figure shows'

def test_there_are_figures():
    assert len(FIGS) >= 15, f"expected the 15 paper figures as nbs/figN_topic.ipynb, found {len(FIGS)}"
    assert (ROOT / 'nbs' / 'fig7_patterns.ipynb').exists()
