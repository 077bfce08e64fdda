"""Run every library notebook's inline tests (nbdev-test, `#| slow` cells included) as one pytest test each."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb'))
BIN = Path(sys.executable).parent

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
    r = subprocess.run([str(BIN / 'nbdev-test'), str(nb), '--flags', 'slow', '--do-print'],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{nb.name} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
