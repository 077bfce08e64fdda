"""Every `locogan sample`, `locogan eval`, `locogan canvas` and `papermill` command in the README runs as written, in a small form, and
exits with 0: a README command that breaks fails the suite.

The commands are read from the README's ```bash blocks (and its inline `locogan ...` code), with or without
`.venv/bin/`, and run from the checkout's root. The small form changes only what makes them slow or needs files a clean
clone lacks:

- run folders (`runs/NAME`) are trained for 2 steps by the README's own `locogan train ... --out runs/NAME` line (a name
  it never trains: 2 steps of the small preset on the data the command names, else synthfaces);
- data folders outside the checkout (`/data/NAME`) are 8 embedded synthfaces images;
- `locogan sample`: sides over 1024 pixels become 1024, and `--out` goes to a temporary folder;
- `locogan canvas`: sides over 512 pixels become 512, `--out` in a temporary folder;
- `locogan eval`: `--n 8 --batch 8 --weights random` (the FID Inception is tested in nbs/06_metrics.ipynb; its 2048-d
  FID alone takes a minute on two cores), `--out` to a temporary folder;
- `papermill`: `-p smoke True` and `-p out_dir` in a temporary folder (so `figures/` is left alone), output notebook there.
"""
import os, re, shlex, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = ('locogan sample', 'locogan eval', 'locogan canvas', 'papermill')


def readme_commands(text:str) -> tuple[list[str], list[str]]:
    "(commands to run, `locogan train` lines) of a README: ```bash lines and inline code, `.venv/bin/` and comments dropped."
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S): lines += block.splitlines()
    lines += re.findall(r"(?<!`)`((?:\.venv/bin/)?(?:locogan sample|locogan eval|locogan canvas|papermill) [^`]+)`", text)
    cmds = []
    for l in lines:
        l = l.split('  #')[0].split(' # ')[0].strip()
        if l.startswith('.venv/bin/'): l = l[len('.venv/bin/'):]
        if l and l not in cmds: cmds.append(l)
    return [c for c in cmds if c.startswith(RUNS)], [c for c in cmds if c.startswith('locogan train ')]


README = (ROOT / 'README.md').read_text()
COMMANDS, TRAIN = readme_commands(README)


def _opt(args:list, flag:str, value=None) -> list:
    "`args` with `flag` set to `value` (replaced where present, appended otherwise); value None: a bare flag."
    out, i = [], 0
    while i < len(args):
        if args[i] == flag: i += 1 if value is None else 2; continue
        out.append(args[i]); i += 1
    return out + [flag] + ([str(value)] if value is not None else [])


class Workspace:
    "A temporary folder holding the run folders and data folders the README's commands name."
    def __init__(self, tmp:Path, env:dict): self.tmp, self.env, self.made = tmp, env, {}

    def data(self, path:str) -> str:
        "A stand-in for a data folder outside the checkout: 8 synthfaces images."
        d = self.tmp / 'data' / Path(path).name
        if not d.exists():
            d.mkdir(parents=True)
            code = ("import sys; from pathlib import Path; from locogan.data import make_source; from PIL import Image; "
                    "s = make_source(dataset='synthfaces'); "
                    "[Image.fromarray(((s.image(i).permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).byte().numpy()).save(Path(sys.argv[1]) / f'{i}.png') for i in range(8)]")
            subprocess.run([sys.executable, '-c', code, str(d)], check=True, env=self.env, cwd=ROOT)
        return str(d)

    def run_folder(self, name:str, data=None) -> str:
        "`runs/NAME`, trained for 2 steps by the README's train line for it (else the small preset on `data` or synthfaces)."
        if name in self.made: return self.made[name]
        out = self.tmp / 'runs' / name
        line = next((t for t in TRAIN if re.search(rf"--out runs/{re.escape(name)}(\s|$)", t) and '--resume' not in t), None)
        args = shlex.split(line)[2:] if line else \
            (['--data', data] if data else ['--dataset', 'synthfaces']) + ['--preset', 'small']
        args = [self.data(a) if a.startswith('/data/') else a for a in args]
        for flag, v in (('--out', out), ('--steps', 2), ('--batch', 2), ('--sample-every', 2), ('--ckpt-every', 2)):
            args = _opt(args, flag, v)
        r = subprocess.run([str(BIN / 'locogan'), 'train', *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        assert r.returncode == 0, f"could not make {name} with `locogan train {shlex.join(args)}`:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
        self.made[name] = str(out)
        return str(out)


def small_form(cmd:str, ws:Workspace) -> list[str]:
    "The command, as an argument list, in its small form (see the module's docstring)."
    args = shlex.split(cmd)
    data = next((args[i + 1] for i in range(len(args) - 1) if args[i] in ('data_dir', '--data')), None)
    data = ws.data(data) if data and data.startswith('/data/') else data
    fixed = []
    for a in args:
        if a.startswith('/data/'): a = ws.data(a)
        elif re.fullmatch(r'runs/[\w.-]+', a): a = ws.run_folder(a.split('/')[1], data)
        fixed.append(a)
    args = fixed
    if cmd.startswith('papermill'):
        nb, out = args[1], args[2]
        return [str(BIN / 'papermill'), nb, str(ws.tmp / 'nb' / Path(out).name), *args[3:], '-p', 'smoke', 'True',
                '-p', 'out_dir', str(ws.tmp / 'figures'), '--no-progress-bar']
    args = _opt(args, '--out', ws.tmp / 'out' / Path(args[args.index('--out') + 1]).name)
    if args[1] in ('sample', 'canvas') and '--size' in args:
        cap = 1024 if args[1] == 'sample' else 512
        sides = [min(int(v), cap) for v in args[args.index('--size') + 1].lower().split('x')]
        args = _opt(args, '--size', 'x'.join(map(str, sides)))
    if args[1] == 'eval': args = _opt(_opt(_opt(args, '--n', 8), '--batch', 8), '--weights', 'random')  # FID's 2048-d eigvals alone take a minute
    return [str(BIN / 'locogan'), *args[1:]]


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'TQDM_DISABLE': '1', 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
    w = Workspace(tmp_path_factory.mktemp('readme'), env)
    for d in ('out', 'nb'): (w.tmp / d).mkdir()
    return w


def test_readme_has_the_commands():
    "The parser finds the README's commands: a README reorganised so that none are found fails here, not in silence."
    assert len([c for c in COMMANDS if c.startswith('locogan sample')]) >= 2, COMMANDS
    assert any(c.startswith('locogan eval') for c in COMMANDS), COMMANDS
    assert any(c.startswith('locogan canvas') for c in COMMANDS), COMMANDS
    assert len([c for c in COMMANDS if c.startswith('papermill')]) >= 3, COMMANDS
    assert any('--out runs/brick' in t for t in TRAIN), TRAIN


@pytest.mark.parametrize('cmd', COMMANDS, ids=[c[:80] for c in COMMANDS])
def test_readme_command(cmd, ws):
    args = small_form(cmd, ws)
    r = subprocess.run(args, cwd=ROOT, env=ws.env, capture_output=True, text=True)
    assert r.returncode == 0, f"README command failed: {cmd}\nrun as: {shlex.join(args)}\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
