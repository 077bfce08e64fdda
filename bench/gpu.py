"""GPU check: training img/s fed from a pack by worker processes, against the same steps fed one in-memory batch.

    python bench/gpu.py                              # on a CUDA machine: --preset paper, batch 64, 64x64 crops of 128x128, --workers 8
    python bench/gpu.py --variants bf16,bf16+cl --steps 400
    python bench/gpu.py --device cpu --smoke         # the smoke run of `make test` (tests/test_bench.py): tiny, well under a minute

It makes a pack (`locogan.pack.pack`) of `--n` FFHQ-like images (bench/data_throughput.py's photo variants, written as
128 x 128 PNGs), then for every variant (fp32 or bf16 autocast, each with and without channels_last) it trains with
`locogan.train.train` itself, twice, in a fresh process of its own:
 - one batch: the same loop and steps fed one in-memory batch at every step (no loader processes, no decoding, no
   cutting): the step's own ceiling;
 - pack: `--data PACK --workers N`, the crops cut by N DataLoader worker processes (`real_batch_loader`).
img/s is `batch x steps / seconds` over the steps after `--warmup` (from the run's stats.jsonl clock, which times each
step from asking for its batch to its losses; `.item()` of the losses waits for the device). Peak memory is
`torch.cuda.max_memory_allocated` over the pack run (CUDA), or the process's peak RSS over both runs (CPU).
Target: data is not the bottleneck, pack img/s >= 95% of one-batch img/s, printed with PASS / FAIL per variant.
`--smoke` (tiny widths, 64-pixel images, 32-pixel crops, batch 4, 2 workers, a few steps) only shows that every variant
runs: its timings mean nothing. Not a test of speed; `--strict` makes a FAIL the exit status.
"""
from __future__ import annotations
import argparse, concurrent.futures as cf, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ('fp32', 'fp32+cl', 'bf16', 'bf16+cl')   # precision (+ cl: channels_last)

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--device', default='cuda', help="'cuda' (or 'cuda:N') or 'cpu'")
    p.add_argument('--variants', default=','.join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    p.add_argument('--preset', default='paper', help='network widths (locogan.models.PRESETS)')
    p.add_argument('--batch', type=int, default=64, help='crops per step (paper: 64)')
    p.add_argument('--workers', type=int, default=8, help='DataLoader worker processes of the pack run')
    p.add_argument('--n', type=int, default=1024, help='images in the pack')
    p.add_argument('--steps', type=int, default=200, help='timed steps of each run')
    p.add_argument('--warmup', type=int, default=20, help='steps before the timed ones (cuDNN autotuning, workers starting)')
    p.add_argument('--threads', type=int, default=None, help="torch threads of each run's process (default: torch's choice; --smoke: 1)")
    p.add_argument('--keep', metavar='DIR', help='make the pack and the runs in DIR (new or empty) and keep them; default: a temporary folder')
    p.add_argument('--strict', action='store_true', help='exit with status 1 when a variant FAILs the target')
    p.add_argument('--smoke', action='store_true', help='tiny widths and sizes, batch 4, 2 workers, 16 images, 1 + 2 steps, 1 thread: shows it runs')
    p.add_argument('--case', nargs=2, metavar=('VARIANT', 'PACK'), help=argparse.SUPPRESS)  # child process: one variant
    p.add_argument('--out', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.smoke: a.batch, a.workers, a.n, a.steps, a.warmup, a.threads = 4, 2, 16, 2, 1, a.threads or 1
    if a.threads is not None and a.threads < 1: p.error(f'--threads must be at least 1, got {a.threads}')
    a.variants = a.variants.split(',')
    bad = [v for v in a.variants if v not in VARIANTS]
    if bad: p.error(f"--variants: {', '.join(bad)} not valid; valid: {', '.join(VARIANTS)}")
    for nm in ('batch', 'n', 'steps'):
        if getattr(a, nm) < 1: p.error(f'--{nm} must be at least 1, got {getattr(a, nm)}')
    if a.workers < 0 or a.warmup < 0: p.error(f'--workers and --warmup must be >= 0, got {a.workers}, {a.warmup}')
    if a.device.split(':')[0] not in ('cpu', 'cuda'): p.error(f"--device {a.device!r}: valid: 'cuda', 'cuda:N' or 'cpu'")
    import torch
    if a.device.startswith('cuda') and not torch.cuda.is_available():
        p.error(f"--device {a.device}: torch sees no CUDA device here; use --device cpu (with --smoke for the quick check)")
    from locogan.models import PRESETS
    if a.preset not in PRESETS: p.error(f"--preset {a.preset!r}: valid: {', '.join(PRESETS)}")
    if a.keep and Path(a.keep).exists() and (not Path(a.keep).is_dir() or any(Path(a.keep).iterdir())):
        p.error(f'--keep {a.keep}: exists and is not an empty folder; give a new or empty folder')
    return a

def image_size(a) -> int: return 64 if a.smoke else 128

# ---------------------------------------------------------------- one variant (child process)
class OneBatch:
    "A source that gives one in-memory batch at every step: the loop's ceiling, with no data work at all."
    def __init__(self, src, batch:int):
        self.src, self.b, self.name = src, src.batch(0, batch), f"one in-memory batch of {src.name}"
    def __len__(self): return len(self.src)
    def image(self, i:int): return self.src.image(i)
    def batch(self, step, batch_size, seed=0, rank=0, world=1): return self.b

def rate(run:Path, batch:int, warmup:int) -> float:
    "img/s over the steps after `warmup`, from the run's stats.jsonl clock (seconds inside the steps, cumulative)."
    t = {r['step']: r['time'] for r in map(json.loads, (run / 'stats.jsonl').read_text().splitlines())}
    last = max(t)
    return batch * (last - warmup) / (t[last] - t[warmup]) if warmup else batch * last / t[last]

def run_case(a, variant:str, pack:str, out:Path) -> dict:
    import torch
    from dataclasses import replace
    from locogan.data import make_source
    from locogan.train import TrainConfig, train
    smoke = dict(g_widths=(16, 16, 8, 8), d_widths=(8, 16, 16), crop=(32, 32)) if a.smoke else dict(crop=(64, 64))
    cfg = TrainConfig(out=None, data=pack, preset=a.preset, batch=a.batch, steps=a.warmup + a.steps, device=a.device,
                      amp='bf16' if 'bf16' in variant else 'none', channels_last='cl' in variant,
                      sample_every=10**9, ckpt_every=10**9, **smoke)
    if a.threads: torch.set_num_threads(a.threads)   # on a busy CPU a descheduled thread stalls every small parallel op
    dev = torch.device(a.device)
    res = dict(variant=variant)
    one = OneBatch(make_source(data=pack, crop=cfg.crop), a.batch)
    s = train(replace(cfg, out=str(out / f'{variant}-one'), workers=0), source=one)
    res['one_ips'] = rate(out / f'{variant}-one', a.batch, a.warmup)
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    s = train(replace(cfg, out=str(out / f'{variant}-pack'), workers=a.workers))
    res['pack_ips'] = rate(out / f'{variant}-pack', a.batch, a.warmup)
    res['losses_finite'] = all(isinstance(v, float) and v == v and abs(v) != float('inf') for k, v in s.items() if k.endswith('loss'))
    res['peak_mib'] = (torch.cuda.max_memory_allocated(dev) if dev.type == 'cuda'
                       else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2**20
    return res

# ---------------------------------------------------------------- main
def make_pack(root:Path, n:int, size:int) -> Path:
    "`n` FFHQ-like PNGs of size x size (bench/data_throughput.py's photo variants), packed."
    sys.path.insert(0, str(HERE))
    from data_throughput import write_square
    from locogan.pack import pack
    folder = root / 'images'; folder.mkdir()
    with cf.ProcessPoolExecutor(min(8, os.cpu_count())) as ex: list(ex.map(write_square, [(i, folder, size) for i in range(n)], chunksize=8))
    pack(folder, root / 'images.pack', image_size=size, resize='square', progress=False, min_size=min(64, size))
    shutil.rmtree(folder)
    return root / 'images.pack'

def main(argv=None) -> int:
    a = parse_args(argv)
    os.environ['TQDM_DISABLE'] = '1'
    if a.case:
        print(json.dumps(run_case(a, a.case[0], a.case[1], Path(a.out)))); return 0
    import torch
    dev = torch.device(a.device)
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {os.cpu_count()} cores, {a.threads or torch.get_num_threads()} threads a run"
    size = image_size(a)
    print(f"torch {torch.__version__}, {where}, load average {os.getloadavg()[0]:.1f}; preset {a.preset}"
          + (' (smoke: widths G 16 16 8 8, D 8 16 16)' if a.smoke else '') + f", batch {a.batch}, crops of {size}x{size} images "
          f"({'32' if a.smoke else '64'} px), {a.workers} workers, {a.warmup} + {a.steps} steps a run", flush=True)
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='locogan-gpu-bench-'))
    root.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter(); pack = make_pack(root, a.n, size)
        print(f"pack of {a.n} images of {size}x{size}: made in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = []
        for v in a.variants:
            argv = [sys.executable, __file__, '--case', v, str(pack), '--out', str(root), '--device', a.device, '--preset', a.preset,
                    '--batch', str(a.batch), '--workers', str(a.workers), '--steps', str(a.steps), '--warmup', str(a.warmup)]
            if a.threads: argv += ['--threads', str(a.threads)]
            p = subprocess.run(argv + (['--smoke'] if a.smoke else []), capture_output=True, text=True)
            if p.returncode: rows.append(dict(variant=v, error=(p.stderr.strip() or p.stdout.strip())[-400:]))
            else: rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  {v}: " + (f"failed: {r['error']}" if 'error' in r else
                  f"pack {r['pack_ips']:.1f} img/s, one batch {r['one_ips']:.1f} img/s"), flush=True)
    finally:
        if not a.keep: shutil.rmtree(root, ignore_errors=True)
    mem = 'peak MiB (CUDA allocated)' if dev.type == 'cuda' else 'peak RSS MiB (process)'
    print(f"\n| variant | pack img/s ({a.workers} workers) | one-batch img/s (ceiling) | pack / ceiling | {mem} | losses finite |\n|---|---|---|---|---|---|")
    for r in rows:
        if 'error' in r: print(f"| {r['variant']} | failed | - | - | - | - |"); continue
        print(f"| {r['variant']} | {r['pack_ips']:.1f} | {r['one_ips']:.1f} | {r['pack_ips'] / r['one_ips']:.2f} | {r['peak_mib']:.0f} | "
              f"{'yes' if r['losses_finite'] else 'NO'} |")
    print(f"(load average {os.getloadavg()[0]:.1f}" + ('; --smoke: tiny networks on a CPU, the ratios say nothing about a GPU' if a.smoke else '') + ')')
    fails = errors = 0
    for r in rows:
        if 'error' in r: print(f"ERROR {r['variant']}: did not run"); errors += 1; continue
        errors += not r['losses_finite']
        q = r['pack_ips'] / r['one_ips']; fails += q < 0.95
        print(f"{'PASS' if q >= 0.95 else 'FAIL'} {r['variant']}: pack-fed {q:.0%} of the one-batch ceiling (target >= 95%)")
    return 1 if errors or (fails and a.strict) else 0

if __name__ == '__main__':
    sys.exit(main())
