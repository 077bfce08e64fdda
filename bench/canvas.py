"""Canvas windows: seconds per megapixel and peak RSS of `locogan.canvas.Canvas.window` at offsets 0, 1e6 and 1e12 px;
and a Deep Zoom export (`locogan.canvas.export_deepzoom`): seconds, MP/s and peak RSS of a whole pyramid.

    python bench/canvas.py                  # brick, 512 x 512 windows, 3 windows per process, 3 rounds
    python bench/canvas.py --quick          # a smoke run (well under a minute): small windows, then a 512 x 512 export
    python bench/canvas.py --checkpoint gravel --size 1024x1024 --offsets 0,1e6,1e12,4e18 --master one
    python bench/canvas.py --export 32768x32768 --threads 2   # the issue's gigapixel export (about half an hour on 2 cores)

Each measurement runs in a fresh subprocess (so its peak RSS belongs to one offset alone): it loads the generator,
makes a `Canvas` (wallpaper mode, seed 0), computes one warm-up window at its offset (not timed), then `--reps`
windows of `--size` pixels at that offset (each shifted by a few pixels, so no two are alike), and reports the median
seconds per megapixel, its peak RSS (`ru_maxrss`: imports and the model included) and the RSS the windows added over
the process after the model was loaded. Offsets run interleaved, `--rounds` times; medians are printed.
Target (issue 49): both stay flat across offsets, max/min <= 1.2, printed as PASS / FAIL from this run's numbers.

`--export HxW` measures an export instead, in a fresh subprocess: jpg tiles of 256 px into a temporary folder (under
`--export-dir`, removed afterwards), the process's RSS after every block (its trend shows whether memory is bounded)
and its peak (`ru_maxrss`, imports and the model included). Target (issue 49 part 3): a 32768 x 32768 export stays
under 2 GB peak RSS (PASS / FAIL printed for any size; only 32768 x 32768 is the issue's number).
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
    p.add_argument('--quick', action='store_true', help='smoke run: 128 x 128 windows, one window, one round; then a 512 x 512 export')
    p.add_argument('--export', default=None, metavar='HxW', help='measure a Deep Zoom export of this size instead of windows')
    p.add_argument('--export-dir', default=None, help='where the export\'s temporary folder goes (default: the system temp folder)')
    p.add_argument('--child', type=int, default=None, help=argparse.SUPPRESS)   # internal: measure one offset, print JSON
    p.add_argument('--child-export', default=None, help=argparse.SUPPRESS)      # internal: measure one export into this folder, print JSON
    a = p.parse_args(argv)
    if a.quick: a.size, a.reps, a.rounds = '128x128', 1, 1
    def hw(flag, v, eg):                                        # 'HxW' -> (H, W), or a usage error naming the flag
        try: h, w = (int(x) for x in v.lower().split('x'))
        except ValueError: p.error(f"{flag} {v!r} is not HxW in pixels, e.g. {eg}")
        if min(h, w) < 1: p.error(f"{flag} {v!r}: both sides must be at least 1 pixel")
        return h, w
    a.eh, a.ew = hw('--export', a.export or '512x512', '32768x32768') if a.export is not None or a.quick else (None, None)
    a.h, a.w = hw('--size', a.size, '512x512')
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

def child_export(a) -> dict:
    "One export in this process: seconds, MP/s, RSS after every block and the peak."
    import torch
    from locogan.models import load_generator
    from locogan.canvas import Canvas, export_deepzoom
    torch.set_num_threads(a.threads)
    cv = Canvas(load_generator(a.checkpoint), 0, a.master)
    base, trend = rss_now(), []
    r = export_deepzoom(cv, a.eh, a.ew, a.child_export, checkpoint=a.checkpoint, progress=False,
                        on_block=lambda i, j: trend.append(rss_now()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(seconds=r['seconds'], megapixels=r['megapixels'], tiles=r['tiles'], levels=r['levels'], bytes=r['bytes'],
                model_rss=base, trend=trend, peak_rss=peak)

def export(a) -> int:
    "Measure one export in a fresh subprocess; print its numbers and the 2 GB target."
    import shutil, tempfile
    print(f'canvas export: {a.checkpoint}, {a.eh} x {a.ew} px, master {a.master!r}, jpg tiles of 256 px, {a.threads} thread(s); '
          f'load average {os.getloadavg()[0]:.2f}', flush=True)
    d = tempfile.mkdtemp(prefix='locogan-bench-export-', dir=a.export_dir)
    try:
        out = subprocess.run([sys.executable, __file__, '--checkpoint', a.checkpoint, '--master', a.master, '--threads', str(a.threads),
                              '--export', f'{a.eh}x{a.ew}', '--child-export', os.path.join(d, 'dzi')], capture_output=True, text=True, env=os.environ)
    finally: shutil.rmtree(d, ignore_errors=True)
    if out.returncode: print(out.stderr, file=sys.stderr); return 2
    r = json.loads(out.stdout.strip().splitlines()[-1])
    t, n = r['trend'], len(r['trend'])
    at = [(q, t[min(n - 1, int(q * n))]) for q in (0, .25, .5, .75, 1)] if n else []
    print(f"{r['tiles']} tiles in {r['levels']} levels, {r['bytes'] / 1e6:.1f} MB; {r['megapixels']:.1f} MP generated in {r['seconds']:.1f} s "
          f"({r['megapixels'] / r['seconds']:.3f} MP/s, {r['seconds'] / r['megapixels']:.2f} s/MP)")
    print(f"RSS after the model loaded {r['model_rss'] / 2**20:.0f} MiB; RSS after the first block and after 25, 50, 75, 100% of the "
          f"{n} blocks: " + ', '.join(f"{v / 2**20:.0f}" for q, v in at) + " MiB")
    ok = r['peak_rss'] < 2e9
    print(f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB (target < 2 GB: {'PASS' if ok else 'FAIL'})")
    print(f'load average at the end {os.getloadavg()[0]:.2f}')
    return 1 if a.strict and not ok else 0

def main(argv=None) -> int:
    a = parse_args(argv)
    if a.child is not None:
        print(json.dumps(child(a))); return 0
    if a.child_export is not None:
        print(json.dumps(child_export(a))); return 0
    if a.export is not None: return export(a)
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
    if a.quick:
        if (rc := export(a)) == 2: return 2
        ok &= rc == 0 or not a.strict
    return 1 if a.strict and not ok else 0

if __name__ == '__main__': sys.exit(main())
