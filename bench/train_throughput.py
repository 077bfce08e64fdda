"""Training throughput: samples/s of one full G+D step, ours vs the authors' networks, on this machine, in one run.

    python bench/train_throughput.py --authors /path/to/gmum-LocoGAN      # paper config: B=64, 64x64 crops, 16+2 latent
    python bench/train_throughput.py --authors ... --quick                # a smoke run (B=16, 2 rounds)
    python bench/train_throughput.py --authors ... --presets authors --variants fp32,cl,bf16,bf16+local+freeze --compile
    python bench/train_throughput.py --authors ... --device cuda          # on a GPU: CUDA-synchronised timing, peak memory

What is timed, for every variant: one full training step at the paper config (a generator forward, a discriminator
step on real and detached fake crops, a generator step through the discriminator, both Adam updates), data
preparation on the model side included (our latent + coordinates; the authors' positions are computed in their forward).
 - `authors`: gmum/LocoGAN's `architectures.locogan_positions` networks (imported from the checkout given by --authors,
   never copied), trained as their Lightning module does: G step (D frozen, as Lightning toggles optimizers), then D on
   real + detached fake, Sigmoid + BCELoss, Adam(2e-4, (0.5, 0.999)). They append positions at the input only.
 - `ours-<preset>`: locogan's Generator / Discriminator, positions appended before *every* layer, with
   `locogan.train.train_step` (the real training step; TrainConfig's `amp` and `channels_last` set per variant).
   Variants marked `local` use this script's copy of that step with switchable optimisations, to measure each one.
Variants are interleaved (A, B, C, A, B, C, ...) and medians reported, so background load affects all alike.
The summary compares at equal precision first: ours fp32 against the authors' fp32, ours bf16 against the authors'
bf16 (their code as published trains in fp32; `authors bf16` is their networks under the same autocast as ours). A
cross-precision figure (ours bf16 against their fp32) is printed last and labelled so: it mixes two effects.
On `--device cuda` every step is timed between `torch.cuda.synchronize()` calls, and the peak device memory of each
variant's step is printed (`torch.cuda.max_memory_allocated`, reset before it, less what was allocated before it: the
step's activations and temporaries, since all variants' weights and optimizer states stay resident).
Also printed: the fp32 (and bf16) matmul GFLOP/s of the machine measured in the same run, the FLOPs of each step
(torch.utils.flop_counter) and the achieved GFLOP/s. Not a test: timings depend on the machine and its load.
On a machine shared with other jobs, `--threads 1` and the `cpu s/step` column (process CPU time) are the steadier
measure: with 2+ threads a descheduled thread stalls every parallel kernel, bf16 kernels more than fp32 ones.
"""
from __future__ import annotations
import argparse, math, os, statistics, sys, time
from pathlib import Path
import torch

CROP, FRAME, N_MASTER, N_LOCAL = 64, 128, 16, 2  # paper config: 64 x 64 crops of 128 x 128 images, 16 + 2 latent channels

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--authors', default=os.environ.get('LOCOGAN_AUTHORS'),
                   help="root of a gmum/LocoGAN checkout (holding src/); default $LOCOGAN_AUTHORS; without it the authors' rows are skipped")
    p.add_argument('--steps', type=int, default=3, help='timed rounds; every variant is timed once per round (after one warm-up step)')
    p.add_argument('--batch', type=int, default=64, help='batch size (paper: 64)')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s own choice)')
    p.add_argument('--presets', default='authors,paper', help='our presets to time, comma-separated (authors: G 512..64, paper: G 1024..128)')
    p.add_argument('--variants', default='fp32,bf16,bf16+local+freeze', help="our variants per preset, '+'-joined options: fp32|bf16 (autocast), cl (channels_last); local (this script's reference step) with nofuse, freeze")
    p.add_argument('--authors-variants', default='fp32,bf16', help="variants of the authors' networks: fp32, bf16 (their code as published is fp32)")
    p.add_argument('--compile', action='store_true', help='also time ours with torch.compile (compile time printed separately)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (or 'cuda:N')")
    p.add_argument('--quick', action='store_true', help='smoke run: batch 16, 2 rounds, authors preset only')
    a = p.parse_args(argv)
    if a.steps < 1 or a.batch < 1: p.error(f'--steps and --batch must be >= 1, got {a.steps}, {a.batch}')
    if a.threads is not None and a.threads < 1: p.error(f'--threads must be >= 1, got {a.threads}')
    if a.device.split(':')[0] not in ('cpu', 'cuda'): p.error(f"--device {a.device!r}: valid: 'cpu', 'cuda' or 'cuda:N'")
    if a.device.startswith('cuda') and not torch.cuda.is_available(): p.error(f'--device {a.device}: torch sees no CUDA device here')
    for v in a.authors_variants.split(','):
        if v not in ('fp32', 'bf16'): p.error(f"--authors-variants: {v!r} is not valid; valid: fp32, bf16")
    if a.quick: a.batch, a.steps, a.presets = 16, 2, 'authors'
    return a

# ---------------------------------------------------------------- machine
def sync(device):
    "Wait for the device's queued work (CUDA runs asynchronously): a step's time ends when its kernels have run."
    if device.type == 'cuda': torch.cuda.synchronize(device)

def matmul_gflops(dtype=torch.float32, n=2048, reps=5, device=torch.device('cpu')) -> float:
    "Median GFLOP/s of torch.mm on n x n matrices."
    if device.type == 'cuda': n, reps = 8192, 10
    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    torch.mm(a, b); sync(device); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); torch.mm(a, b); sync(device); ts.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(ts) / 1e9

def cpu_flags() -> set:
    try: return set(next(l for l in open('/proc/cpuinfo') if l.startswith('flags')).split(':')[1].split())
    except (OSError, StopIteration): return set()

# ---------------------------------------------------------------- the authors' step
def authors_variant(root, B:int, amp:str='none', device=torch.device('cpu')):
    "One training step of gmum/LocoGAN's networks, as their Lightning module runs it."
    src = Path(root) / 'src'
    if not (src / 'architectures' / 'locogan_positions.py').exists():
        raise SystemExit(f"--authors {root}: no src/architectures/locogan_positions.py there (give the root of a gmum/LocoGAN checkout)")
    if str(src) not in sys.path: sys.path.insert(0, str(src))
    from architectures.locogan_positions import Generator as AG, Discriminator as AD
    G, D = AG(N_MASTER + N_LOCAL, FRAME).to(device), AD(FRAME).to(device)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (G, D))
    bce, noise_dim = torch.nn.BCELoss(), 10                   # their defaults: 10 x 10 noise for a 64 x 64 chunk
    ac = lambda: torch.autocast(device.type, torch.bfloat16, enabled=amp == 'bf16')
    def step(batch):
        real, sx, sy = batch['real01'].to(device), batch['left'].float().to(device), batch['top'].float().to(device)
        cs = torch.full((B,), float(CROP), device=device)
        noise = torch.cat([torch.randn(B, N_MASTER, 1, 1, device=device).expand(-1, -1, noise_dim, noise_dim),
                           torch.randn(B, N_LOCAL, noise_dim, noise_dim, device=device)], 1)
        ones, zeros = torch.ones(B, device=device), torch.zeros(B, device=device)
        D.requires_grad_(False)                               # Lightning toggles: only G's parameters get gradients
        with ac(): fake = G(noise, sx, sy, cs); pg = D(fake, sx, sy, cs)
        lg = bce(pg.float(), ones)
        opt_g.zero_grad(); lg.backward(); opt_g.step()
        D.requires_grad_(True)
        with ac(): pr = D(real, sx, sy, cs); pf = D(fake.detach(), sx, sy, cs)
        ld = (bce(pr.float(), ones) + bce(pf.float(), zeros)) / 2
        opt_d.zero_grad(); ld.backward(); opt_d.step()
        return dict(loss_g=lg.item(), loss_d=ld.item())
    return step

# ---------------------------------------------------------------- our step
def local_train_step(G, D, opt_g, opt_d, batch, cfg, step):
    "Reference step with switchable optimisations (to measure each): same recipe and losses as locogan.train.train_step."
    from locogan.train import crop_inputs, step_generator, d_loss, g_loss
    dev = next(G.parameters()).device
    real, latent, coords = crop_inputs(batch, cfg, step_generator(cfg.seed, step), dev)
    B = real.shape[0]
    real = real.contiguous(memory_format=torch.channels_last if cfg.channels_last else torch.contiguous_format)
    ac = lambda: torch.autocast(dev.type, torch.bfloat16, enabled=cfg.amp == 'bf16')
    with ac(): fake = G(latent)
    with ac():
        if cfg.fuse_d:                                        # one D pass over real and fake (D has no batch statistics)
            real_logits, fake_logits = D(torch.cat([real, fake.detach()]), torch.cat([coords, coords])).float().chunk(2)
        else: real_logits, fake_logits = D(real, coords).float(), D(fake.detach(), coords).float()
    loss_d = d_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True); loss_d.backward(); opt_d.step()
    if cfg.freeze_d: D.requires_grad_(False)                  # the G step needs no D weight gradients
    with ac(): loss_g = g_loss(D(fake, coords).float())
    opt_g.zero_grad(set_to_none=True); loss_g.backward(); opt_g.step()
    D.requires_grad_(True)
    return {'d_loss': loss_d.item(), 'g_loss': loss_g.item()}

def our_variant(preset:str, B:int, spec:str, compile_:bool=False, device=torch.device('cpu')):
    """Ours, with the options in `spec` ('+'-separated): fp32 | bf16 (autocast), cl (channels_last), local (the local
    reference step instead of locogan.train.train_step), and for the local step nofuse (two D passes in the D step),
    freeze (D frozen in the G step: no D weight gradients there)."""
    from locogan.models import Generator, Discriminator, GeneratorConfig
    from locogan.train import TrainConfig, resolve_config, train_step
    opts = set(spec.split('+'))
    cfg = resolve_config(TrainConfig(dataset='synthfaces', out='unused', preset=preset, batch=B, crop=(CROP, CROP),
                                     image_size=FRAME, n_master=N_MASTER, n_local=N_LOCAL, positions='xy', device=device.type,
                                     amp='bf16' if 'bf16' in opts else 'none', channels_last='cl' in opts))
    G = Generator(GeneratorConfig(cfg.n_master, cfg.n_local, cfg.positions, cfg.period, cfg.g_widths))
    D = Discriminator(cfg.d_widths, cfg.positions, cfg.period)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    G, D = G.to(device, memory_format=fmt), D.to(device, memory_format=fmt)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), cfg.lr, cfg.betas) for m in (G, D))
    fn = train_step
    if 'local' in opts:
        cfg.fuse_d, cfg.freeze_d, fn = 'nofuse' not in opts, 'freeze' in opts, local_train_step
    Gc, Dc = (torch.compile(G), torch.compile(D)) if compile_ else (G, D)
    n = [0]
    def step(batch):
        n[0] += 1
        return fn(Gc, Dc, opt_g, opt_d, batch['ours'], cfg, n[0])
    return step

def make_batch(B:int, seed:int):
    "Random real crops and offsets, in both sides' conventions (ours: a CropBatch in [-1, 1]; theirs: [0, 1])."
    from locogan.data import CropBatch
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(B, 3, CROP, CROP, generator=g) * 2 - 1
    top, left = (torch.randint(0, FRAME - CROP + 1, (B,), generator=g) for _ in range(2))
    ours = CropBatch(images=images, top=top, left=left, frame=torch.tensor([[FRAME, FRAME]] * B))
    return dict(ours=ours, real01=(images + 1) / 2, top=top, left=left)

# ---------------------------------------------------------------- measuring
def count_flops(step, batch) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: step(batch)
    return fc.get_total_flops()

def precision(name:str) -> str:
    "fp32 or bf16: the precision a variant trains in (from its name)."
    return 'bf16' if 'bf16' in name.split(' ', 1)[1] else 'fp32'

def ratio(times, ref, name) -> float:
    "Median over rounds of ref's time / name's time: how many times faster `name` is than `ref`."
    return statistics.median(ta / tb for ta, tb in zip(times[ref], times[name]))

def main(argv=None):
    a = parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, dev = a.batch, torch.device(a.device)
    where = (f"CUDA {torch.cuda.get_device_name(dev)}" if dev.type == 'cuda' else f"CPU avx512_bf16: {'avx512_bf16' in cpu_flags()}")
    print(f"torch {torch.__version__}, device {dev}, {where}, {torch.get_num_threads()} CPU threads, "
          f"load average {os.getloadavg()[0]:.1f}; batch {B}, {CROP}x{CROP} crops of {FRAME}x{FRAME}, {N_MASTER}+{N_LOCAL} latent channels")
    print("our step: locogan.train.train_step (variants marked 'local': the reference step of this script)")
    variants = {}
    if a.authors:
        for v in a.authors_variants.split(','):
            variants[f'authors {v}'] = authors_variant(a.authors, B, amp='bf16' if 'bf16' in v else 'none', device=dev)
    else: print("no --authors checkout given: the authors' rows and the ratios are skipped")
    for preset in a.presets.split(','):
        for v in a.variants.split(','):
            variants[f'ours-{preset} {v}'] = our_variant(preset, B, v, device=dev)
    batches = [make_batch(B, s) for s in range(a.steps + 1)]
    flops, t0 = {}, time.perf_counter()
    for name, step in variants.items():                     # warm-up step, FLOPs counted on it
        flops[name] = count_flops(step, batches[0])
    if a.compile:
        for preset in a.presets.split(','):
            for v in dict.fromkeys(precision(f'x {v}') for v in a.variants.split(',')):   # one compiled variant per precision
                name = f'ours-{preset} {v} compiled'
                step = our_variant(preset, B, v, compile_=True, device=dev)
                tc = time.perf_counter(); step(batches[0]); step(batches[0]); sync(dev)
                print(f"torch.compile of {name}: first two steps took {time.perf_counter() - tc:.1f} s (compilation included)")
                variants[name] = step
                flops[name] = flops.get(f'ours-{preset} {v}') or count_flops(our_variant(preset, B, v, device=dev), batches[0])
    sync(dev)
    print(f"warm-up done in {time.perf_counter() - t0:.0f} s; timing {a.steps} interleaved rounds of {len(variants)} variants")
    times, cpu, mm = {k: [] for k in variants}, {k: [] for k in variants}, {'fp32': [], 'bf16': []}
    peak = {k: 0 for k in variants}
    for r in range(a.steps):
        mm['fp32'].append(matmul_gflops(torch.float32, device=dev)); mm['bf16'].append(matmul_gflops(torch.bfloat16, device=dev))
        for name, step in variants.items():
            sync(dev)
            if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev); before = torch.cuda.memory_allocated(dev)
            t, c = time.perf_counter(), time.process_time(); out = step(batches[r + 1]); sync(dev)
            times[name].append(time.perf_counter() - t); cpu[name].append(time.process_time() - c)
            if dev.type == 'cuda': peak[name] = max(peak[name], torch.cuda.max_memory_allocated(dev) - before)  # the step's own
            if not all(math.isfinite(x) for x in out.values()): print(f"WARNING: {name} gave a non-finite loss: {out}")
    # ------------------------------------------------------------ report
    mmf, mmb = statistics.median(mm['fp32']), statistics.median(mm['bf16'])
    print(f"\nmachine: fp32 matmul {mmf:.0f} GFLOP/s, bf16 matmul {mmb:.0f} GFLOP/s (torch.mm, median of {a.steps}, interleaved)")
    refs = {p: f'authors {p}' for p in ('fp32', 'bf16') if f'authors {p}' in variants}   # the like-for-like reference of each precision
    print(f"\n{'variant':32s} {'s/step':>7s} {'samples/s':>9s} {'GFLOP/step':>10s} {'GFLOP/s':>8s} {'% fp32 mm':>9s} {'peak MiB':>8s}"
          f" {'vs authors':>10s} {'cpu s/step':>10s} {'cpu vs authors':>14s}")
    for name in variants:
        s, c = statistics.median(times[name]), statistics.median(cpu[name]); gf = flops[name] / 1e9
        ref = refs.get(precision(name))
        rel = f"{ratio(times, ref, name):9.2f}x" if ref else '-'
        crel = f"{ratio(cpu, ref, name):13.2f}x" if ref else '-'
        pk = f"{peak[name] / 2**20:8.0f}" if dev.type == 'cuda' else '-'
        print(f"{name:32s} {s:7.2f} {B / s:9.1f} {gf:10.1f} {gf / s:8.1f} {100 * gf / s / mmf:8.0f}% {pk:>8s} {rel:>10s} {c:10.2f} {crel:>14s}")
    print(f"(median of {a.steps} interleaved rounds; 'vs authors' = median over rounds of the time of the authors' step *in the same "
          f"precision* / this time; cpu = process CPU seconds, all threads, less sensitive to other processes' load; "
          f"peak MiB: torch.cuda.max_memory_allocated over the step less what was allocated before it (every variant's weights and "
          f"optimizer states stay resident), i.e. the step's activations and temporaries (CUDA only); FLOPs: torch.utils.flop_counter, which counts a "
          f"transposed convolution's dropped outputs too)")
    if not refs: return
    def ours_of(prec, local=False, compiled=False):       # our variants of that precision; our authors-width preset first
        ks = [k for k in variants if k.startswith('ours-') and precision(k) == prec and ('local' in k) == local
              and k.endswith('compiled') == compiled]
        ks = [k for k in ks if k.startswith('ours-authors')] or ks
        return min(ks, key=lambda k: statistics.median(times[k]), default=None)
    line = lambda ours, ref: (f"{ratio(times, ref, ours):.2f}x wall-clock, {ratio(cpu, ref, ours):.2f}x CPU time  [{ours} vs {ref}]")
    print("\nratio ours / authors at EQUAL precision (samples/s, median of per-round ratios; target >= 1.5x):")
    for prec, ref in refs.items():
        ours = ours_of(prec)
        if ours: print(f"  {prec}: {line(ours, ref)}")
        loc = ours_of(prec, local=True)
        if loc: print(f"  {prec}, this script's reference step: {line(loc, ref)}")
        comp = ours_of(prec, compiled=True)
        if comp: print(f"  {prec}, ours with torch.compile: {line(comp, ref)}")
    ours_bf16 = ours_of('bf16')
    if 'fp32' in refs and ours_bf16:
        print(f"CROSS-precision, not like for like (our bf16 against their fp32 as published; mixes the precision's gain with "
              f"the implementation's): {line(ours_bf16, refs['fp32'])}")

if __name__ == '__main__':
    main()
