"""The benchmarks in bench/ run end to end in their smoke settings and print the tables they promise.

These check that each benchmark runs, measures every case and states every target; never how fast anything is (timing
belongs in the benchmarks' own output, not in a test): a FAIL of a speed target is still a passing smoke run."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / 'bench'
NUM = r'[\d,]+(?:\.\d+)?'

def run(script, *args, timeout=300):
    env = {**os.environ, 'TQDM_DISABLE': '1', 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)

def test_gpu_smoke():
    "bench/gpu.py --device cpu --smoke: every variant trains from a pack and from one batch; a row and a verdict each."
    r = run('gpu.py', '--device', 'cpu', '--smoke')
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    for v in ('fp32', 'fp32+cl', 'bf16', 'bf16+cl'):
        row = re.search(rf'^\| {re.escape(v)} \| ({NUM}) \| ({NUM}) \| ({NUM}) \| (\d+) \| yes \|$', r.stdout, re.M)
        assert row, f"no complete row for {v} in:\n{r.stdout}"
        pack, one, ratio = (float(x.replace(',', '')) for x in row.groups()[:3])
        assert pack > 0 and one > 0 and abs(ratio - pack / one) < 0.01 + 0.01 * ratio, row.group(0)
        assert re.search(rf'^(PASS|FAIL) {re.escape(v)}: pack-fed \d+% of the one-batch ceiling', r.stdout, re.M), f"no verdict for {v}"

def test_data_throughput_quick():
    "bench/data_throughput.py --quick: every source at 0, 1 and 2 workers, the start-up table, every target stated."
    r = run('data_throughput.py', '--quick')
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    names = ['png folder', 'jpeg folder', 'pack (of the png folder)'] + (['lmdb', 'pack (of the lmdb)'] if 'no `lmdb` package' not in r.stdout else [])
    for name in names:
        row = re.search(rf'^\| {re.escape(name)}[^|]* \| {NUM} \| ({NUM}) \| ({NUM}) \| ({NUM}) \| .* \| {NUM}x \| {NUM}x \|$', r.stdout, re.M)
        assert row, f"no complete row for {name} in:\n{r.stdout}"
        assert all(float(x.replace(',', '')) > 0 for x in row.groups()), row.group(0)
    for n in ('100', '1,000'):
        assert re.search(rf'^\| {n} \| {NUM} \| {NUM} \| {NUM} \| {NUM} \|$', r.stdout, re.M), f"no start-up row for {n}"
    for target in ('pack, 0 workers', 'pack / png folder, 0 workers', '2 workers / 1 worker, png folder',
                   '2 workers / 1 worker, pack (of the png folder)', "start-up flat, open", "start-up flat, train's data set-up"):
        assert re.search(rf'^(PASS|FAIL) {re.escape(target)}', r.stdout, re.M), f"target {target!r} not stated"

@pytest.mark.parametrize('script,args,says', [
    ('data_throughput.py', ['--workers', '0,x'], '--workers'),
    ('data_throughput.py', ['--n', '0'], '--n must be at least 1'),
    ('data_throughput.py', ['--startup', '10,-1'], 'pack sizes must be >= 1'),
    ('gpu.py', ['--variants', 'fp16'], 'valid: fp32, fp32+cl, bf16, bf16+cl'),
    ('gpu.py', ['--device', 'tpu'], "valid: 'cuda'"),
    ('train_throughput.py', ['--device', 'tpu'], "valid: 'cpu', 'cuda'"),
    ('train_throughput.py', ['--authors-variants', 'fp16'], 'valid: fp32, bf16'),
    ('canvas.py', ['--export', '0x5'], 'both sides must be at least 1 pixel'),
    ('canvas.py', ['--export', 'big'], 'is not HxW in pixels'),
])
def test_bad_arguments(script, args, says):
    "A bad argument stops at once with exit status 2 and a message naming it and what is valid."
    r = run(script, *args, timeout=60)
    assert r.returncode == 2 and says in r.stderr, f"exit {r.returncode}: {r.stderr[-1000:]}"

def test_cuda_asked_without_cuda():
    import torch
    if torch.cuda.is_available(): pytest.skip('this machine has CUDA')
    for script in ('gpu.py', 'train_throughput.py'):
        r = run(script, '--device', 'cuda', timeout=60)
        assert r.returncode == 2 and 'no CUDA device' in r.stderr, f"{script}: exit {r.returncode}: {r.stderr[-1000:]}"

def test_canvas_quick():
    "bench/canvas.py --quick: a row per offset and both flatness targets stated; then a small export, its numbers and the 2 GB target (never a speed check)."
    r = run('canvas.py', '--quick')
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    for off in ('0e+00', '1e+06', '1e+12'):
        assert re.search(rf'^\s+{re.escape(off)}\s+{NUM}\s+{NUM}\s+-?{NUM}\s*$', r.stdout, re.M), f"no row for offset {off} in:\n{r.stdout}"
    for what in ('seconds per MP', 'peak RSS'):
        assert re.search(rf'^{what}: max/min over offsets {NUM} \(target <= 1.2: (PASS|FAIL)\)', r.stdout, re.M), f"{what} target not stated"
    assert re.search(rf'^13 tiles in 10 levels, {NUM} MB; {NUM} MP generated in {NUM} s \({NUM} MP/s, {NUM} s/MP\)$', r.stdout, re.M), r.stdout
    assert re.search(rf'^RSS after the model loaded {NUM} MiB; RSS after the first block and after 25, 50, 75, 100% of the 1 blocks: ({NUM}, ){{4}}{NUM} MiB$', r.stdout, re.M), r.stdout
    assert re.search(rf'^peak RSS {NUM} MiB \(target < 2 GB: (PASS|FAIL)\)$', r.stdout, re.M), "export RSS target not stated"
