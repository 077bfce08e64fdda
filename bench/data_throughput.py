"""Data throughput: crops/s of the training loader from a PNG folder, a JPEG folder, an LMDB and a pack, side by side in one run.

    python bench/data_throughput.py                         # 200 images a set; 0, 1, 2 workers; packs of 1k, 10k, 100k for start-up
    python bench/data_throughput.py --quick                 # a smoke run (well under a minute)
    python bench/data_throughput.py --n 400 --seconds 5 --rounds 3 --startup 1000,100000 --keep /tmp/sets

What it builds (in a temporary folder, deleted at the end unless --keep), from scikit-image's bundled photos (astronaut,
coffee, chelsea, rocket, ...), every image its own crop, flip, colour gains and a little noise, so no two files are alike:
 - FFHQ-like: `--n` 1024 x 1024 PNGs (zlib level 1: about 5x faster to write than PIL's default 6, ~10% slower to decode);
 - LSUN-like: `--n` JPEGs (quality 75, shorter edge 256, landscape aspect 1 to 1.5), and the same JPEG bytes as an LMDB
   database (LSUN's layout: key the SHA-1 of the value, value the encoded image);
 - packs (`locogan.pack.pack`) of the PNG folder (square, 128) and of the LMDB (shorter edge 128); their images/s are
   printed (decoding and resizing included, with `pack`'s default worker processes).
What it times: the training loader itself (`locogan.train.real_batch_loader`, on the source `locogan.data.make_source`
gives for that path), 64 x 64 crops of 128-pixel images, batch `--batch` (64), `torch.set_num_threads(--threads)` in
this process, for every `--workers` count (0: cut in this process; N: N DataLoader worker processes, one thread each).
A case first takes one batch per worker (start-up, reported apart), then times batches for at least `--seconds`;
cases run in `--rounds` interleaved rounds and the medians are printed. The folder and LMDB sources keep no decoded
images (their in-memory cache, which a real data set of 70k or 3M images would miss anyway, is turned off), so every
crop pays its file's decoding, as in training on a large set. All files sit in the OS page cache after they are
written: these are CPU costs, not disk reads.
Start-up: packs of `--startup` small images (32 x 32, hard links to 1000 noise-ish PNGs, so that the big ones are
cheap to make) are packed, then opened (`make_source(data=PACK)`), and `locogan train`'s data set-up is run on each
(`resolve_config`, `make_data_source`, `fill_from_data`, the first batch of `real_batch_loader`); medians of 5.
The folders of the same images are scanned too (`make_source(data=FOLDER)`, which checks every file) for contrast,
up to `--folder-startup-max` images.
Each round also measures how much parallel CPU the machine gives right now (two processes of pure busy work against
one): the most 2 workers could gain over 1 at that moment, printed next to the worker ratios.
Targets (issue 46), printed as PASS / FAIL from this run's own measurements: the pack at 0 workers >= 10,000 crops/s
on one thread and >= 300x the PNG folder; 2 workers >= 1.7x 1 worker (on 2+ cores); start-up flat as the pack grows
(the largest pack within 2x of the smallest's time, or within 20 ms of it). Not a test: timings depend on the machine
and its load (the load average is printed); `--strict` makes a FAIL the exit status.
"""
from __future__ import annotations
import argparse, concurrent.futures as cf, functools, hashlib, io, os, shutil, statistics, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np
from PIL import Image
import torch

CROP, FRAME = 64, 128  # the target's setting: 64 x 64 crops of 128 x 128 images
PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'camera', 'immunohistochemistry', 'retina', 'hubble_deep_field',
          'moon', 'clock')  # bundled with scikit-image (no download)

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--n', type=int, default=200, help='images in each set (PNG folder, JPEG folder, LMDB)')
    p.add_argument('--workers', default='0,1,2', help='DataLoader worker processes to time, comma-separated (0: in this process)')
    p.add_argument('--batch', type=int, default=64, help='crops per batch')
    p.add_argument('--threads', type=int, default=1, help='torch threads of this process')
    p.add_argument('--seconds', type=float, default=3.0, help='least timed seconds per case and round (after its start-up)')
    p.add_argument('--rounds', type=int, default=3, help='interleaved rounds (every case once a round); medians reported')
    p.add_argument('--startup', default='1000,10000,100000', help='pack sizes (images) for the start-up measurement; empty: skip it')
    p.add_argument('--folder-startup-max', type=int, default=10000, help='scan folders of the start-up images up to this many (it checks every file)')
    p.add_argument('--keep', metavar='DIR', help='build the sets in DIR (new or empty) and keep them; default: a temporary folder')
    p.add_argument('--strict', action='store_true', help='exit with status 1 when a target FAILs')
    p.add_argument('--quick', action='store_true', help='smoke run: 12 images a set, batch 16, 0.3 s a case, one round, packs of 100 and 1000')
    a = p.parse_args(argv)
    if a.quick: a.n, a.batch, a.seconds, a.rounds, a.startup, a.folder_startup_max = 12, 16, 0.3, 1, '100,1000', 1000
    for nm in ('n', 'batch', 'threads', 'rounds'):
        if getattr(a, nm) < 1: p.error(f'--{nm} must be at least 1, got {getattr(a, nm)}')
    if not a.seconds > 0: p.error(f'--seconds must be a positive number, got {a.seconds}')
    try: a.workers = [int(w) for w in a.workers.split(',')]
    except ValueError: p.error(f'--workers {a.workers!r}: give whole numbers >= 0 separated by commas, e.g. 0,1,2')
    if any(w < 0 for w in a.workers): p.error(f'--workers {a.workers}: worker counts must be >= 0')
    try: a.startup = [int(s) for s in a.startup.split(',')] if a.startup.strip() else []
    except ValueError: p.error(f'--startup {a.startup!r}: give whole numbers of images separated by commas, e.g. 1000,10000,100000')
    if any(s < 1 for s in a.startup): p.error(f'--startup {a.startup}: pack sizes must be >= 1 image')
    if a.keep and Path(a.keep).exists() and (not Path(a.keep).is_dir() or any(Path(a.keep).iterdir())):
        p.error(f'--keep {a.keep}: exists and is not an empty folder; give a new or empty folder')
    return a

# ---------------------------------------------------------------- the data sets
@functools.lru_cache(maxsize=None)
def photo(name:str) -> np.ndarray: # [H, W, 3] uint8
    "A bundled scikit-image photo as RGB."
    import skimage.data
    x = getattr(skimage.data, name)()
    return np.repeat(x[..., None], 3, 2) if x.ndim == 2 else x[..., :3]

def variant(i:int, H:int, W:int) -> Image.Image: # H x W RGB
    "Image `i` of a set: a photo, cropped at random to the aspect W / H, maybe mirrored, colour-shifted, resized, with noise."
    r = np.random.default_rng([46, i])
    x = photo(PHOTOS[i % len(PHOTOS)])
    h0, w0 = x.shape[:2]
    s = r.uniform(0.5, 1.0) * min(h0, w0 * H / W)           # crop height; its width keeps the aspect
    ch, cw = int(s), int(s * W / H)
    t, l = r.integers(0, h0 - ch + 1), r.integers(0, w0 - cw + 1)
    x = x[t:t + ch, l:l + cw]
    if r.random() < 0.5: x = x[:, ::-1]
    x = x.astype(np.float32) * r.uniform(0.75, 1.25, 3) + r.uniform(-20, 20, 3)  # colour gains and offsets per channel
    im = Image.fromarray(np.clip(x, 0, 255).astype(np.uint8)).resize((W, H), Image.BICUBIC)
    y = np.asarray(im, np.float32) + r.normal(0, 3, (H, W, 3))                      # a little sensor-like noise
    return Image.fromarray(np.clip(y, 0, 255).astype(np.uint8))

def write_square(args) -> None:
    "PNG `i` of a square set (FFHQ-like at 1024) in `folder`."
    i, folder, size = args
    variant(i, size, size).save(Path(folder) / f'{i:05d}.png', compress_level=1)

def write_lsun(args) -> bytes:
    i, folder = args
    W = int(256 * np.random.default_rng([47, i]).uniform(1.0, 1.5))
    b = io.BytesIO(); variant(i, 256, W).save(b, 'JPEG', quality=75)
    (Path(folder) / f'{i:05d}.jpg').write_bytes(b.getvalue())
    return b.getvalue()

def write_small(args) -> None:
    i, folder = args
    r = np.random.default_rng([48, i])
    x = r.integers(0, 256, (8, 8, 3), dtype=np.uint8)                               # noise-ish: coarse noise, upsampled
    Image.fromarray(x).resize((32, 32), Image.BILINEAR).save(Path(folder) / f'{i:04d}.png', compress_level=1)

def make_sets(root:Path, n:int) -> dict:
    "Write the FFHQ-like PNG folder, the LSUN-like JPEG folder and its LMDB under `root`; return their paths and seconds."
    ffhq, jpg = root / 'ffhq_png', root / 'lsun_jpeg'
    ffhq.mkdir(); jpg.mkdir()
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(os.cpu_count()) as ex:
        list(ex.map(write_square, [(i, ffhq, 1024) for i in range(n)], chunksize=4))
        values = list(ex.map(write_lsun, [(i, jpg) for i in range(n)], chunksize=8))
    out = dict(ffhq=ffhq, jpeg=jpg, seconds=time.perf_counter() - t0, lmdb=None)
    try: import lmdb
    except ImportError: print("no `lmdb` package: the LMDB rows are skipped"); return out
    out['lmdb'] = root / 'lsun_lmdb'
    env = lmdb.open(str(out['lmdb']), map_size=max(1 << 24, 2 * sum(map(len, values))), subdir=True)
    with env.begin(write=True) as txn:
        for v in values: txn.put(hashlib.sha1(v).hexdigest().encode('ascii'), v)
    env.close()
    return out

def timed_pack(src, out, **kw) -> float:
    "Pack `src` into `out` (locogan.pack.pack); images per second."
    from locogan.pack import pack
    t0 = time.perf_counter(); m = pack(src, out, progress=False, **kw)
    return m['images'] / (time.perf_counter() - t0)

# ---------------------------------------------------------------- timing the training loader
def open_source(path, **kw):
    "The source `locogan train --data PATH` would use (make_source), with the decoded-image cache of folders and LMDBs off."
    from locogan.data import make_source
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                     # the 'pack it' hints of folders and LMDBs
        src = make_source(data=str(path), crop=(CROP, CROP), **kw)
    if hasattr(src, '_read') and src._read is not None:    # decoded lazily (CropSource of paths or keys)
        if not hasattr(src, '_cache_images'): raise SystemExit("locogan.data.CropSource has no _cache_images any more: update this bench")
        src._cache_images = 0
    return src

def loader_config(workers:int, batch:int):
    "A resolved TrainConfig of what the loader reads: batch, one D step, seed 0, endless steps, `workers`."
    from locogan.train import TrainConfig, resolve_config
    return resolve_config(TrainConfig(out='unused', dataset='synthfaces', crop=(CROP, CROP), batch=batch, steps=10**9, workers=workers))

def time_loader(src, workers:int, batch:int, seconds:float) -> dict:
    "Crops/s of `real_batch_loader` on `src` after one batch per worker; and the seconds to that first batch."
    from locogan.train import real_batch_loader
    cfg = loader_config(workers, batch)
    t0 = time.perf_counter()
    it = iter(real_batch_loader(src, cfg))
    for _ in range(max(1, workers)): next(it)               # start-up: every worker has delivered once
    t1 = time.perf_counter(); n = 0
    while True:
        step = next(it); n += 1
        assert step[0].images.shape == (batch, 3, CROP, CROP), step[0].images.shape
        el = time.perf_counter() - t1
        if el >= seconds and n >= max(2, workers): break
    del it                                                  # stops the worker processes
    return dict(crops_s=n * batch / el, first_s=t1 - t0, batches=n)

def spin(n:int) -> int:
    "Pure CPU work (no memory traffic): a stand-in for a decoding worker."
    x = 0
    for i in range(n): x = (x * 31 + i) % 1000003
    return x

def parallel_ceiling(n:int=3_000_000) -> float:
    "How many times one process's work two processes got done in the same time, now: what 2 workers can gain at most."
    with cf.ProcessPoolExecutor(2) as ex:
        list(ex.map(spin, [1000, 1000]))                    # both processes started
        t0 = time.perf_counter(); list(ex.map(spin, [n], chunksize=1)); one = time.perf_counter() - t0
        t0 = time.perf_counter(); list(ex.map(spin, [n, n], chunksize=1)); two = time.perf_counter() - t0
    return 2 * one / two

# ---------------------------------------------------------------- start-up as a pack grows
def make_small_folders(root:Path, sizes:list) -> tuple[dict, float]:
    "Folders of `sizes` 32 x 32 PNGs: 1000 written, the rest hard links to them (cheap); with the seconds it took."
    pool = root / 'small_pool'; pool.mkdir()
    t0 = time.perf_counter()
    k = min(1000, max(sizes))
    with cf.ProcessPoolExecutor(os.cpu_count()) as ex: list(ex.map(write_small, [(i, pool) for i in range(k)], chunksize=50))
    folders = {}
    for n in sizes:
        f = root / f'small_{n}'
        for i in range(n):
            d = f / f'{i // 1000:04d}'
            if i % 1000 == 0: d.mkdir(parents=True)
            os.link(pool / f'{i % k:04d}.png', d / f'{i % 1000:04d}.png')
        folders[n] = f
    return folders, time.perf_counter() - t0

def median_time(fn, reps:int=5) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def train_data_setup(pack_path, out):
    "What `locogan train --data PACK` does before its first step, data-wise: config, source, data defaults, first batch."
    from locogan.train import TrainConfig, resolve_config, make_data_source, fill_from_data, real_batch_loader
    cfg = resolve_config(TrainConfig(out=str(out), data=str(pack_path), crop=(32, 32), d_widths=(32, 64, 128), batch=64,
                                     steps=10, workers=0))   # three D layers: 32-pixel crops of the 32 x 32 images
    src = make_data_source(cfg)
    cfg = fill_from_data(cfg, src)
    next(iter(real_batch_loader(src, cfg)))

def startup_table(root:Path, sizes:list, folder_max:int) -> list[dict]:
    from locogan.data import make_source
    folders, took = make_small_folders(root, sizes)
    print(f"start-up sets: {', '.join(map(str, sizes))} images of 32 x 32 written / linked in {took:.1f} s", flush=True)
    rows = []
    for n in sizes:
        pk = root / f'small_{n}.pack'
        ips = timed_pack(folders[n], pk, image_size=32, min_size=32)
        row = dict(n=n, pack_ips=ips,
                   open_s=median_time(lambda: make_source(data=str(pk), crop=(32, 32))),
                   setup_s=median_time(lambda: train_data_setup(pk, root / 'unused_run')))
        if n <= folder_max:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                row['folder_s'] = median_time(lambda: make_source(data=str(folders[n]), crop=(32, 32), image_size=32), reps=1)
        rows.append(row)
        print(f"  {n} images: packed at {ips:.0f} images/s; open {1e3 * row['open_s']:.1f} ms, train data set-up "
              f"{1e3 * row['setup_s']:.1f} ms" + (f", folder scan {row['folder_s']:.2f} s" if 'folder_s' in row else ''), flush=True)
        shutil.rmtree(folders[n])
    return rows

# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    os.environ.setdefault('TQDM_DISABLE', '1')
    try: from locogan.train import real_batch_loader; from locogan.pack import pack
    except ImportError as e: raise SystemExit(f"this bench needs locogan.pack and locogan.train.real_batch_loader: {e}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) in this process, {cores} cores, load average "
          f"{os.getloadavg()[0]:.1f}; batch {a.batch}, {CROP}x{CROP} crops of {FRAME}-pixel images; {a.n} images a set", flush=True)
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='locogan-data-bench-'))
    root.mkdir(parents=True, exist_ok=True)
    try: return run(a, root, cores)
    finally:
        if not a.keep: shutil.rmtree(root, ignore_errors=True)

def run(a, root:Path, cores:int) -> int:
    sets = make_sets(root, a.n)
    print(f"wrote {a.n} 1024x1024 PNGs and {a.n} JPEGs" + (' (and their LMDB)' if sets['lmdb'] else '') + f" in {sets['seconds']:.1f} s", flush=True)
    packs = {'pack (of the png folder)': (sets['ffhq'], root / 'ffhq.pack', dict(image_size=FRAME, resize='square'))}
    if sets['lmdb']: packs['pack (of the lmdb)'] = (sets['lmdb'], root / 'lsun.pack', dict(image_size=FRAME, resize='short'))
    pack_ips = {}
    for name, (src, out, kw) in packs.items():
        pack_ips[name] = timed_pack(src, out, **kw)
        print(f"{name}: packed {a.n} images at {pack_ips[name]:.1f} images/s ({min(8, os.cpu_count())} pack workers, decoding and resizing included)", flush=True)
    paths = {'png folder (1024^2 -> 128^2)': (sets['ffhq'], dict(image_size=FRAME, resize='square')),
             'jpeg folder (256 short -> 128)': (sets['jpeg'], dict(image_size=FRAME, resize='short'))}
    if sets['lmdb']: paths['lmdb (the same jpegs)'] = (sets['lmdb'], dict(image_size=FRAME, resize='short'))
    paths.update({name: (out, {}) for name, (_, out, _) in packs.items()})
    sources, open_s = {}, {}
    for name, (path, kw) in paths.items():
        t0 = time.perf_counter(); sources[name] = open_source(path, **kw); open_s[name] = time.perf_counter() - t0
    cases = [(name, w) for name in sources for w in a.workers]
    res, ceil = {c: [] for c in cases}, []
    print(f"timing {len(cases)} cases ({len(sources)} sources x workers {a.workers}), {a.rounds} interleaved round(s), >= {a.seconds} s each", flush=True)
    for r in range(a.rounds):
        ceil.append(parallel_ceiling())
        for name, w in cases:
            res[(name, w)].append(time_loader(sources[name], w, a.batch, a.seconds))
    load = os.getloadavg()[0]
    med = lambda name, w, k='crops_s': statistics.median(x[k] for x in res[(name, w)])
    rat = lambda c1, c2: statistics.median(x['crops_s'] / y['crops_s'] for x, y in zip(res[c1], res[c2]))  # per round
    # ------------------------------------------------------------ report
    png = next(iter(sources))
    ws = a.workers
    print(f"\ncrops/s of locogan.train.real_batch_loader (median of {a.rounds} round(s); load average {load:.1f} after timing)")
    print('| data | open s | ' + ' | '.join(f'{w} workers' for w in ws) + ' | first batch s (' + ', '.join(map(str, ws)) + ' workers) | '
          + f'vs png, {ws[0]} workers |' + (' 2 w / 1 w |' if {1, 2} <= set(ws) else ''))
    print('|---' * (3 + len(ws) + 1 + ({1, 2} <= set(ws))) + '|')
    for name in sources:
        cells = ' | '.join(f'{med(name, w):,.0f}' for w in ws)
        firsts = ', '.join(f"{med(name, w, 'first_s'):.2f}" for w in ws)
        vs = f"{rat((name, ws[0]), (png, ws[0])):,.1f}x"
        two = f" {rat((name, 2), (name, 1)):.2f}x |" if {1, 2} <= set(ws) else ''
        print(f"| {name} | {open_s[name]:.2f} | {cells} | {firsts} | {vs} |{two}")
    print("(open s: make_source, which checks every file of a folder / value of an LMDB; first batch: loader start-up to one batch per worker)")
    print(f"CPU available: two busy processes did {statistics.median(ceil):.2f}x the work of one in the same time (median of "
          f"{a.rounds}, one check a round: {', '.join(f'{c:.2f}' for c in ceil)}); 2 workers cannot beat that, and other "
          f"processes on the machine lower it")
    print('\npack images/s (locogan pack: decode, orient, resize, write): ' + '; '.join(f'{k}: {v:.1f}' for k, v in pack_ips.items()))
    rows = startup_table(root, a.startup, a.folder_startup_max) if a.startup else []
    if rows:
        print(f"\nstart-up as the pack grows (32 x 32 images; medians of 5; folder: one scan)")
        print('| images | pack images/s | open (make_source) ms | train data set-up ms | folder scan s |\n|---|---|---|---|---|')
        for r in rows:
            print(f"| {r['n']:,} | {r['pack_ips']:,.0f} | {1e3 * r['open_s']:.1f} | {1e3 * r['setup_s']:.1f} | "
                  + (f"{r['folder_s']:.2f}" if 'folder_s' in r else '-') + ' |')
    # ------------------------------------------------------------ targets
    print()
    fails = []
    def check(ok:bool, text:str):
        print(f"{'PASS' if ok else 'FAIL'} {text}")
        if not ok: fails.append(text)
    pk = 'pack (of the png folder)'
    if 0 in ws:
        v = med(pk, 0)
        check(v >= 10_000, f"pack, 0 workers ({a.threads} thread): {v:,.0f} crops/s (target >= 10,000; batch {a.batch})")
        r = rat((pk, 0), (png, 0))
        check(r >= 300, f"pack / png folder, 0 workers: {r:,.0f}x (target >= 300x; median of per-round ratios)")
    else: print("SKIP pack at 0 workers: --workers has no 0")
    if {1, 2} <= set(ws):
        if cores < 2: print(f"SKIP 2 workers / 1 worker: this machine has {cores} core")
        else:
            for name in sources:
                r = rat((name, 2), (name, 1))
                check(r >= 1.7, f"2 workers / 1 worker, {name}: {r:.2f}x (target >= 1.7x on {cores} cores; two busy "
                      f"processes got {statistics.median(ceil):.2f}x)")
    else: print("SKIP 2 workers / 1 worker: --workers lacks 1 or 2")
    if len(rows) >= 2:
        lo, hi = rows[0], rows[-1]
        for k, what in (('open_s', 'open (make_source)'), ('setup_s', "train's data set-up")):
            ok = hi[k] <= max(2 * lo[k], lo[k] + 0.020)
            check(ok, f"start-up flat, {what}: {1e3 * hi[k]:.1f} ms at {hi['n']:,} images against {1e3 * lo[k]:.1f} ms at {lo['n']:,} "
                  f"({hi[k] / lo[k]:.2f}x; target <= 2x or within 20 ms)")
    print(f"{len(fails)} target(s) failed" if fails else "all targets passed")
    return 1 if fails and a.strict else 0

if __name__ == '__main__':
    sys.exit(main())
