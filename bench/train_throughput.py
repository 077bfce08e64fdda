"""Training throughput: samples/s of one full G+D step, ours vs the authors' networks, on this machine, in one run.

    python bench/train_throughput.py --authors /path/to/gmum-LocoGAN      # paper config: B=64, 64x64 crops, 16+2 latent
    python bench/train_throughput.py --authors ... --quick                # a smoke run (B=16, 2 rounds)
    python bench/train_throughput.py --authors ... --presets authors --variants fp32,cl,bf16,bf16+local+freeze --compile

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
    p.add_argument('--quick', action='store_true', help='smoke run: batch 16, 2 rounds, authors preset only')
    a = p.parse_args(argv)
    if a.quick: a.batch, a.steps, a.presets = 16, 2, 'authors'
    return a

# ---------------------------------------------------------------- machine
def matmul_gflops(dtype=torch.float32, n=2048, reps=5) -> float:
    "Median GFLOP/s of torch.mm on n x n matrices."
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.mm(a, b); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); torch.mm(a, b); ts.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(ts) / 1e9

def cpu_flags() -> set:
    try: return set(next(l for l in open('/proc/cpuinfo') if l.startswith('flags')).split(':')[1].split())
    except (OSError, StopIteration): return set()

# ---------------------------------------------------------------- the authors' step
def authors_variant(root, B:int, amp:str='none'):
    "One training step of gmum/LocoGAN's networks, as their Lightning module runs it."
    src = Path(root) / 'src'
    if not (src / 'architectures' / 'locogan_positions.py').exists():
        raise SystemExit(f"--authors {root}: no src/architectures/locogan_positions.py there (give the root of a gmum/LocoGAN checkout)")
    if str(src) not in sys.path: sys.path.insert(0, str(src))
    from architectures.locogan_positions import Generator as AG, Discriminator as AD
    G, D = AG(N_MASTER + N_LOCAL, FRAME), AD(FRAME)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (G, D))
    bce, noise_dim = torch.nn.BCELoss(), 10                   # their defaults: 10 x 10 noise for a 64 x 64 chunk
    ac = lambda: torch.autocast('cpu', torch.bfloat16, enabled=amp == 'bf16')
    def step(batch):
        real, sx, sy = batch['real01'], batch['left'].float(), batch['top'].float()
        cs = torch.full((B,), float(CROP))
        noise = torch.cat([torch.randn(B, N_MASTER, 1, 1).expand(-1, -1, noise_dim, noise_dim),
                           torch.randn(B, N_LOCAL, noise_dim, noise_dim)], 1)
        ones, zeros = torch.ones(B), torch.zeros(B)
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
    real, latent, coords = crop_inputs(batch, cfg, step_generator(cfg.seed, step), 'cpu')
    B = real.shape[0]
    real = real.contiguous(memory_format=torch.channels_last if cfg.channels_last else torch.contiguous_format)
    ac = lambda: torch.autocast('cpu', torch.bfloat16, enabled=cfg.amp == 'bf16')
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

def our_variant(preset:str, B:int, spec:str, compile_:bool=False):
    """Ours, with the options in `spec` ('+'-separated): fp32 | bf16 (autocast), cl (channels_last), local (the local
    reference step instead of locogan.train.train_step), and for the local step nofuse (two D passes in the D step),
    freeze (D frozen in the G step: no D weight gradients there)."""
    from locogan.models import Generator, Discriminator, GeneratorConfig
    from locogan.train import TrainConfig, resolve_config, train_step
    opts = set(spec.split('+'))
    cfg = resolve_config(TrainConfig(dataset='synthfaces', out='unused', preset=preset, batch=B, crop=(CROP, CROP),
                                     image_size=FRAME, n_master=N_MASTER, n_local=N_LOCAL, positions='xy', device='cpu',
                                     amp='bf16' if 'bf16' in opts else 'none', channels_last='cl' in opts))
    G = Generator(GeneratorConfig(cfg.n_master, cfg.n_local, cfg.positions, cfg.period, cfg.g_widths))
    D = Discriminator(cfg.d_widths, cfg.positions, cfg.period)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
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

def main(argv=None):
    a = parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B = a.batch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU avx512_bf16: {'avx512_bf16' in cpu_flags()}, "
          f"load average {os.getloadavg()[0]:.1f}; batch {B}, {CROP}x{CROP} crops of {FRAME}x{FRAME}, {N_MASTER}+{N_LOCAL} latent channels")
    print("our step: locogan.train.train_step (variants marked 'local': the reference step of this script)")
    variants = {}
    if a.authors:
        for v in a.authors_variants.split(','):
            variants[f'authors {v}'] = authors_variant(a.authors, B, amp='bf16' if 'bf16' in v else 'none')
    else: print("no --authors checkout given: the authors' rows and the ratio are skipped")
    for preset in a.presets.split(','):
        for v in a.variants.split(','):
            variants[f'ours-{preset} {v}'] = our_variant(preset, B, v)
    batches = [make_batch(B, s) for s in range(a.steps + 1)]
    flops, t0 = {}, time.perf_counter()
    for name, step in variants.items():                     # warm-up step, FLOPs counted on it
        flops[name] = count_flops(step, batches[0])
    if a.compile:
        for preset in a.presets.split(','):
            v = 'bf16' if 'bf16' in a.variants.split(',') else a.variants.split(',')[0]
            name = f'ours-{preset} {v} compiled'
            step = our_variant(preset, B, v, compile_=True)
            tc = time.perf_counter(); step(batches[0]); step(batches[0])
            print(f"torch.compile of {name}: first two steps took {time.perf_counter() - tc:.1f} s (compilation included)")
            variants[name], flops[name] = step, flops[f'ours-{preset} {v}']
    print(f"warm-up done in {time.perf_counter() - t0:.0f} s; timing {a.steps} interleaved rounds of {len(variants)} variants")
    times, cpu, mm = {k: [] for k in variants}, {k: [] for k in variants}, {'fp32': [], 'bf16': []}
    for r in range(a.steps):
        mm['fp32'].append(matmul_gflops(torch.float32)); mm['bf16'].append(matmul_gflops(torch.bfloat16))
        for name, step in variants.items():
            t, c = time.perf_counter(), time.process_time(); out = step(batches[r + 1])
            times[name].append(time.perf_counter() - t); cpu[name].append(time.process_time() - c)
            if not all(math.isfinite(x) for x in out.values()): print(f"WARNING: {name} gave a non-finite loss: {out}")
    # ------------------------------------------------------------ report
    mmf, mmb = statistics.median(mm['fp32']), statistics.median(mm['bf16'])
    print(f"\nmachine: fp32 matmul {mmf:.0f} GFLOP/s, bf16 matmul {mmb:.0f} GFLOP/s (torch.mm 2048^2, median of {a.steps}, interleaved)")
    ref = next((k for k in variants if k == 'authors fp32'), None)
    print(f"\n{'variant':26s} {'s/step':>7s} {'samples/s':>9s} {'GFLOP/step':>10s} {'GFLOP/s':>8s} {'% fp32 mm':>9s} {'vs authors':>10s}"
          f" {'cpu s/step':>10s} {'cpu vs authors':>14s}")
    for name in variants:
        s, c = statistics.median(times[name]), statistics.median(cpu[name]); gf = flops[name] / 1e9
        rel = f"{statistics.median(ta / tb for ta, tb in zip(times[ref], times[name])):9.2f}x" if ref else ''
        crel = f"{statistics.median(ta / tb for ta, tb in zip(cpu[ref], cpu[name])):13.2f}x" if ref else ''
        print(f"{name:26s} {s:7.2f} {B / s:9.1f} {gf:10.1f} {gf / s:8.1f} {100 * gf / s / mmf:8.0f}% {rel:>10s} {c:10.2f} {crel:>14s}")
    if ref:
        ours = [k for k in variants if k.startswith('ours-') and 'local' not in k]   # the real training step only
        ours = [k for k in ours if k.startswith('ours-authors')] or ours
        best = min(ours, key=lambda k: statistics.median(times[k]), default=None)  # same widths as theirs where timed
        if best:
            r = statistics.median(ta / tb for ta, tb in zip(times[ref], times[best]))
            rc = statistics.median(ta / tb for ta, tb in zip(cpu[ref], cpu[best]))
            print(f"\nratio ours/authors (samples/s, median of per-round ratios): {r:.2f}x wall-clock, {rc:.2f}x CPU time"
                  f"  [{best} vs {ref}]  target >= 1.5x")
        loc = [k for k in variants if k.startswith('ours-authors') and 'local' in k]
        if loc:
            lb = min(loc, key=lambda k: statistics.median(times[k]))
            r = statistics.median(ta / tb for ta, tb in zip(times[ref], times[lb]))
            rc = statistics.median(ta / tb for ta, tb in zip(cpu[ref], cpu[lb]))
            print(f"with this script's reference step: {r:.2f}x wall-clock, {rc:.2f}x CPU time  [{lb} vs {ref}]")
    print(f"(median of {a.steps} interleaved rounds; 'vs authors' = median over rounds of the authors' time / this time; "
          f"cpu = process CPU seconds, all threads, less sensitive to other processes' load; FLOPs: torch.utils.flop_counter, "
          f"which counts a transposed convolution's dropped outputs too)")

if __name__ == '__main__':
    main()
