"""Diagnostic (not a test): is a run's discriminator blind, or is the game chasing?

    python bench/discriminator_probe.py runs/grass                 # 200 steps of a fresh discriminator
    python bench/discriminator_probe.py runs/grass --steps 400 --lr 4e-4 --threads 2

When a run's discriminator loss sits at chance (2 ln 2 = 1.39) while FID says its samples are far from the data, either
the discriminator cannot tell them apart (too small, too constrained) or it can, and the generator moves on as soon as it
learns anything. This freezes the run's newest checkpoint's generator (train mode, as in training: BatchNorm on batch
statistics, the live weights, not the moving average), builds a fresh discriminator of the run's config and trains it
alone on the run's own crops and latents (`locogan.train.crop_inputs`, `d_loss`). It prints the loss and the share of
crops on the right side of 0 (mean logit) every 50 steps. A loss that falls far below chance means the discriminator
can see the difference: the chance loss in training was the game, not its capacity.
"""
from __future__ import annotations
import argparse
from dataclasses import replace
from pathlib import Path
import torch
from locogan.models import load_generator
from locogan.train import (parse_config, resolve_config, make_data_source, make_discriminator, make_optimizers, crop_inputs,
                           step_generator, d_loss, checkpoints, load_checkpoint)

def load_run(run:Path):
    "The run's config (its config.json, as `locogan train --resume` reads it), newest checkpoint, and live generator in train mode (as in training)."
    if not checkpoints(run): raise SystemExit(f"{run}: no checkpoint in {run / 'checkpoints'}; give a training run folder")
    cfg = resolve_config(parse_config(['--out', str(run), '--resume'])[0])
    ck = load_checkpoint(checkpoints(run)[-1])
    G = load_generator(run).train()
    G.load_state_dict({k.removeprefix('module.'): v for k, v in ck['G'].items()})
    return cfg, ck, G

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('run', help='a training run folder (config.json, checkpoints/)')
    p.add_argument('--steps', type=int, default=200, help="the fresh discriminator's Adam steps")
    p.add_argument('--lr', type=float, default=None, help="its Adam rate (default: the run's d_lr, else lr)")
    p.add_argument('--seed', type=int, default=1, help='seed of its weights and of the latents')
    p.add_argument('--threads', type=int, default=None, help='torch threads')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    run = Path(a.run)
    cfg, ck, G = load_run(run)
    src = make_data_source(cfg)
    torch.manual_seed(a.seed)
    D = make_discriminator(cfg)
    opt = make_optimizers(G, D, replace(cfg, d_lr=a.lr) if a.lr else cfg)[1]
    print(f"{run}: generator of step {ck['step']} frozen; a fresh discriminator {tuple(cfg.d_widths)} trains alone on {src.name}")
    losses, right = [], []
    for step in range(1, a.steps + 1):
        real, latent, coords = crop_inputs(src.batch(1_000_000 + step, cfg.batch, cfg.seed), cfg, step_generator(a.seed, step))
        with torch.no_grad(): fake = G(latent)
        r, f = D(torch.cat([real, fake]), torch.cat([coords, coords])).chunk(2)
        loss = d_loss(r, f)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
        right.append(((r.mean((1, 2, 3)) > 0).float().mean() + (f.mean((1, 2, 3)) < 0).float().mean()).item() / 2)
        if step % 50 == 0 or step == a.steps:
            k = min(50, len(losses))
            print(f"step {step:5d}  d_loss {sum(losses[-k:]) / k:.3f} (chance 1.386)  right {100 * sum(right[-k:]) / k:.0f}%", flush=True)

if __name__ == '__main__':
    main()
