"""Benchmark (not a test): streamed tiled generation vs whole-image generation, time and peak memory.

    python bench/tiled_sampling.py                                   # small preset 1k..16k, paper preset 1k..2k (+ extrapolation)
    python bench/tiled_sampling.py --presets small --sizes 1024,2048 # a quick look
    python bench/tiled_sampling.py --budget-s 600 --tile 512 --threads 2

Every case runs in its own subprocess, which reports its wall time and its own peak RSS (`ru_maxrss`), so memory of
one case never hides another's. Weights are *untrained* (random `Generator(widths=PRESETS[preset])`, eval mode): the
compute is the same as a trained model's, so timing and memory are representative; the pixels are not.

- tiled: `locogan.sample.generate_tiled` writes the PNG band by band (time includes drawing the latent bands,
  generating, quantising, compressing and writing).
- Both modes first generate one tile-sized image (one-time kernel setup), outside the timed region.
- whole: `generate(G, 1, H, W)` then the same PNG writer on the whole image; only where the estimated peak memory fits
  (`--max-whole-gb`).
- `tiled == whole`: the SHA-256 of the decoded PNG pixels of both (read back row by row, outside the timed region).
- Wall and CPU seconds (user + system of the case's process) are both reported: on a shared machine CPU time is the
  steadier measure of cost; the load average during the case is printed to flag contention.
- Cases whose predicted time (from the measured seconds per megapixel of the previous size) would exceed the remaining
  `--budget-s` are not run: their time is extrapolated and labelled so.

Targets (issue 5): 16384^2 at peak RSS < 2 GB; seconds per megapixel flat within 1.2x from 1k to 16k; tiled == whole.
"""
from __future__ import annotations
import argparse, hashlib, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path


def pixel_hash(path) -> str:
    "SHA-256 of a PNG's decoded 8-bit pixels, read row by row (bounded memory)."
    import png
    w, h, rows, info = png.Reader(filename=str(path)).read()
    hs = hashlib.sha256()
    for r in rows: hs.update(bytes(r))
    return hs.hexdigest()


def run_case(preset:str, size:int, mode:str, tile:int, threads:int) -> dict:
    "Child process: generate one image, report time and own peak RSS."
    import torch
    torch.set_num_threads(threads)
    from locogan.models import Generator, PRESETS
    from locogan.sample import generate, generate_tiled, to_uint8
    import png
    torch.manual_seed(0)
    G = Generator(widths=PRESETS[preset]['g_widths']).eval()
    generate(G, 1, min(tile, size), min(tile, size))  # warm-up (one-time kernel setup), outside the timed region
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / 'img.png'
        ru0, load0 = resource.getrusage(resource.RUSAGE_SELF), os.getloadavg()[0]
        t0 = time.perf_counter()
        if mode == 'tiled':
            generate_tiled(G, size, size, tile=tile, out=out, seed=0, progress=False)
        else:
            img = to_uint8(generate(G, 1, size, size, seed=0))[0].numpy()  # [H, W, 3]
            with open(out, 'wb') as f:
                png.Writer(size, size, greyscale=False, compression=3).write(f, (r.tobytes() for r in img.reshape(size, -1)))
            del img
        dt = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB -> MiB
        return dict(preset=preset, size=size, mode=mode, seconds=dt, cpu_seconds=cpu, load=max(load0, os.getloadavg()[0]), peak_rss_mb=peak, rss_after_model_mb=rss0,
                    pixels_sha256=pixel_hash(out), file_mb=out.stat().st_size / 2**20)


def whole_gb(preset:str, size:int) -> float:
    "Rough peak memory of whole-image generation: the last layers' activations (conv out, BatchNorm, ReLU, concat) dominate."
    from locogan.models import PRESETS
    w = PRESETS[preset]['g_widths']
    per_px = 4 * (4 * (w[-1] + 4) + 4 * (w[-2] + 4) / 4 + 3 * 3)  # bytes per output pixel, float32
    return per_px * (size + 48) ** 2 / 1e9 + 0.5


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--presets', default='small,paper')
    ap.add_argument('--sizes', default='1024,2048,4096,8192,16384')
    ap.add_argument('--tile', type=int, default=512)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--max-whole-gb', type=float, default=10.0, help="run whole-image generation only below this estimated peak")
    ap.add_argument('--budget-s', type=float, default=900, help='total seconds; longer cases are extrapolated, not run')
    ap.add_argument('--json', default=None, help='also write the rows as JSON lines here')
    ap.add_argument('--case', nargs=3, metavar=('PRESET', 'SIZE', 'MODE'), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.case:
        print(json.dumps(run_case(a.case[0], int(a.case[1]), a.case[2], a.tile, a.threads))); return 0

    sizes = [int(s) for s in a.sizes.split(',')]
    t_start, rows, c_per_mp = time.perf_counter(), [], None
    print(f"tiled sampling benchmark: untrained weights, tile {a.tile}, {a.threads} threads, budget {a.budget_s:.0f} s, "
          f"torch threads={a.threads}, cpu={os.cpu_count()} cores", flush=True)
    for preset in a.presets.split(','):
        s_per_mp = None
        for size in sizes:
            mp = size * size / 1e6
            for mode in ('whole', 'tiled'):
                if mode == 'whole' and whole_gb(preset, size) > a.max_whole_gb:
                    rows.append(dict(preset=preset, size=size, mode=mode, note=f'skipped: needs ~{whole_gb(preset, size):.0f} GB'))
                    continue
                left = a.budget_s - (time.perf_counter() - t_start)
                if s_per_mp is not None and s_per_mp * mp > left:
                    rows.append(dict(preset=preset, size=size, mode=mode, seconds=s_per_mp * mp, cpu_seconds=c_per_mp * mp,
                                     note='EXTRAPOLATED from the previous size (not run)'))
                    continue
                p = subprocess.run([sys.executable, __file__, '--case', preset, str(size), mode, '--tile', str(a.tile),
                                    '--threads', str(a.threads)], capture_output=True, text=True)
                if p.returncode:
                    rows.append(dict(preset=preset, size=size, mode=mode, note=f'failed rc={p.returncode}: {p.stderr.strip()[-200:]}'))
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                rows.append(r)
                if mode == 'tiled': s_per_mp, c_per_mp = r['seconds'] / mp, r['cpu_seconds'] / mp
                print(f"  {preset} {size}^2 {mode}: {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU, peak RSS {r['peak_rss_mb']:.0f} MB, "
                      f"load {r['load']:.1f}", flush=True)
    # tiled == whole where both ran
    for r in rows:
        if r.get('mode') == 'tiled' and 'pixels_sha256' in r:
            w = [x for x in rows if x.get('mode') == 'whole' and x['preset'] == r['preset'] and x['size'] == r['size'] and 'pixels_sha256' in x]
            r['equal'] = ('yes' if w[0]['pixels_sha256'] == r['pixels_sha256'] else 'NO') if w else '-'
    print(f"\n| preset | size | mode | wall s | wall s/MP | CPU s | CPU s/MP | peak RSS MB | tiled == whole | load avg | note |\n|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mp = r['size'] ** 2 / 1e6
        sec = f"{r['seconds']:.1f}" if 'seconds' in r else '-'
        spm = f"{r['seconds'] / mp:.3f}" if 'seconds' in r else '-'
        rss = f"{r['peak_rss_mb']:.0f}" if 'peak_rss_mb' in r else '-'
        cs = f"{r['cpu_seconds']:.1f}" if 'cpu_seconds' in r else '-'
        cpm = f"{r['cpu_seconds'] / mp:.3f}" if 'cpu_seconds' in r else '-'
        ld = f"{r['load']:.1f}" if 'load' in r else '-'
        print(f"| {r['preset']} | {r['size']}^2 | {r['mode']} | {sec} | {spm} | {cs} | {cpm} | {rss} | {r.get('equal', '-')} | {ld} | {r.get('note', '')} |")
    print()
    for preset in a.presets.split(','):
        t = [r for r in rows if r['preset'] == preset and r['mode'] == 'tiled' and 'peak_rss_mb' in r]
        if not t: continue
        spm = [r['seconds'] / (r['size'] ** 2 / 1e6) for r in t]
        cpm = [r['cpu_seconds'] / (r['size'] ** 2 / 1e6) for r in t]
        big = max(t, key=lambda r: r['size'])
        print(f"{preset}: measured {t[0]['size']}^2..{big['size']}^2 tiled; s/MP max/min: wall {max(spm) / min(spm):.2f}, "
              f"CPU {max(cpm) / min(cpm):.2f} (target <= 1.2); "
              f"peak RSS at {big['size']}^2 = {big['peak_rss_mb']:.0f} MB (target < 2048 MB at 16384^2)")
    if a.json:
        with open(a.json, 'w') as f:
            for r in rows: f.write(json.dumps(r) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
