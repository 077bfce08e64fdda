"""Canvas windows: seconds per megapixel and peak RSS of `locogan.canvas.Canvas.window` at offsets 0, 1e6 and 1e12 px.

    python bench/canvas.py                  # brick, 512 x 512 windows, 3 windows per process, 3 rounds
    python bench/canvas.py --quick          # a smoke run (well under a minute)
    python bench/canvas.py --checkpoint gravel --size 1024x1024 --offsets 0,1e6,1e12,4e18 --master one

Each measurement runs in a fresh subprocess (so its peak RSS belongs to one offset alone): it loads the generator,
makes a `Canvas` (wallpaper mode, seed 0), computes one warm-up window at its offset (not timed), then `--reps`
windows of `--size` pixels at that offset (each shifted by a few pixels, so no two are alike), and reports the median
seconds per megapixel, its peak RSS (`ru_maxrss`: imports and the model included) and the RSS the windows added over
the process after the model was loaded. Offsets run interleaved, `--rounds` times; medians are printed.
Target (issue 49): both stay flat across offsets, max/min <= 1.2, printed as PASS / FAIL from this run's numbers.
Not a test: timings depend on the machine and its load (the load average is printed); `--strict` makes a FAIL the
exit status.
"""
from __future__ import annotations
import argparse, json, os, resource, statistics, subprocess, sys, time

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--checkpoint', default='brick', help='a pattern model: shipped name, run folder or generator.safetensors')
    p.add_argument('--size', default='512x512', help='window HxW in pixels')
    p.add_argument('--offsets', default='0,1e6,1e12', help='window offsets in pixels (both axes), comma-separated')
    p.add_argument('--master', default='wallpaper', choices=('one', 'wallpaper'), help='Canvas master mode')
    p.add_argument('--reps', type=int, default=3, help='timed windows per process')
    p.add_argument('--rounds', type=int, default=3, help='interleaved rounds (every offset once a round); medians reported')
    p.add_argument('--threads', type=int, default=1, help='torch threads of each measuring process')
    p.add_argument('--strict', action='store_true', help='exit with status 1 when a target FAILs')
    p.add_argument('--quick', action='store_true', help='smoke run: 128 x 128 windows, one window, one round')
    p.add_argument('--child', type=int, default=None, help=argparse.SUPPRESS)   # internal: measure one offset, print JSON
    a = p.parse_args(argv)
    if a.quick: a.size, a.reps, a.rounds = '128x128', 1, 1
    try: a.h, a.w = (int(v) for v in a.size.lower().split('x'))
    except ValueError: p.error(f"--size {a.size!r} is not HxW in pixels, e.g. 512x512")
    if min(a.h, a.w) < 1: p.error(f"--size {a.size!r}: both sides must be at least 1 pixel")
    try: a.offs = [int(float(v)) for v in a.offsets.split(',')]
    except ValueError: p.error(f"--offsets {a.offsets!r} is not comma-separated numbers of pixels, e.g. 0,1e6,1e12")
    if not all(-2**63 <= o and o + max(a.h, a.w) + 7 * a.reps <= 2**63 - 1 for o in a.offs):
        p.error(f"--offsets {a.offsets!r}: every window must lie within int64 pixels [-2**63, 2**63 - 1]")
    for nm in ('reps', 'rounds', 'threads'):
        if getattr(a, nm) < 1: p.error(f"--{nm} must be at least 1, got {getattr(a, nm)}")
    return a

def rss_now() -> int:
    "Resident set size of this process now, in bytes."
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'): return int(line.split()[1]) * 1024
    return 0

def child(a) -> dict:
    "One offset in this process: warm up, time `reps` windows, report seconds per MP and RSS."
    import torch
    from locogan.models import load_generator
    from locogan.canvas import Canvas
    torch.set_num_threads(a.threads)
    G = load_generator(a.checkpoint)
    cv = Canvas(G, 0, a.master)
    base = rss_now()
    cv.window(a.child, a.child, a.h, a.w)                       # warm-up (allocator, oneDNN kernels)
    per_mp = []
    for r in range(a.reps):
        t0 = time.perf_counter(); cv.window(a.child + 7 * r, a.child + 3 * r, a.h, a.w)
        per_mp.append((time.perf_counter() - t0) / (a.h * a.w / 1e6))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(offset=a.child, s_per_mp=statistics.median(per_mp), peak_rss=peak, window_rss=peak - base)

def main(argv=None) -> int:
    a = parse_args(argv)
    if a.child is not None:
        print(json.dumps(child(a))); return 0
    print(f'canvas windows: {a.checkpoint}, {a.h} x {a.w} px, master {a.master!r}, {a.reps} windows per process, '
          f'{a.rounds} rounds, {a.threads} thread(s); load average {os.getloadavg()[0]:.2f}')
    rec = {o: [] for o in a.offs}
    base_args = [sys.executable, __file__, '--checkpoint', a.checkpoint, '--size', a.size, '--master', a.master,
                 '--reps', str(a.reps), '--threads', str(a.threads)]
    for _ in range(a.rounds):
        for o in a.offs:
            out = subprocess.run(base_args + ['--child', str(o)], capture_output=True, text=True, env=os.environ)
            if out.returncode: print(out.stderr, file=sys.stderr); return 2
            rec[o].append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = lambda o, k: statistics.median(r[k] for r in rec[o])
    print(f"{'offset (px)':>14} {'s / MP':>8} {'peak RSS (MiB)':>15} {'window RSS (MiB)':>17}")
    for o in a.offs:
        print(f"{o:>14.0e} {med(o, 's_per_mp'):8.3f} {med(o, 'peak_rss') / 2**20:15.1f} {med(o, 'window_rss') / 2**20:17.1f}")
    ok = True
    for k, nm in (('s_per_mp', 'seconds per MP'), ('peak_rss', 'peak RSS')):
        v = [med(o, k) for o in a.offs]
        ratio = max(v) / min(v)
        ok &= ratio <= 1.2
        print(f"{nm}: max/min over offsets {ratio:.3f} (target <= 1.2: {'PASS' if ratio <= 1.2 else 'FAIL'})")
    print(f'load average at the end {os.getloadavg()[0]:.2f}')
    return 1 if a.strict and not ok else 0

if __name__ == '__main__': sys.exit(main())
