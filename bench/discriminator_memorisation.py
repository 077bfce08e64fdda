"""Diagnostic (not a test): does a run's discriminator win because it memorised its training images?

    python bench/discriminator_memorisation.py runs/synthfaces                  # synthetic data: held-out = the next seed
    python bench/discriminator_memorisation.py runs/faces --held-out ~/faces-val  # an image folder run: give unseen images

When a run's discriminator loss falls far below chance (2 ln 2 = 1.39) on a small data set (synthfaces: 2000 images),
it may have memorised the training images (DiffAugment's case, Zhao et al. 2020) or it may simply see what is wrong with
the generated ones. This loads the run's newest checkpoint (its discriminator; its live generator in train mode, as in
training) and prints the mean logit and the share of crops on the right side of 0 for training crops, crops of images
it never saw (same source, other images) and generated crops, all with their coordinates. Held-out crops scored like the
training crops: no memorising; held-out crops scored like generated ones: memorising.
"""
from __future__ import annotations
import argparse
from pathlib import Path
import torch
from locogan.data import make_source, EMBEDDED
from locogan.train import make_discriminator, crop_inputs, step_generator
from discriminator_probe import load_run   # bench/: the run's config, newest checkpoint and live generator

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('run', help='a training run folder (config.json, checkpoints/)')
    p.add_argument('--held-out', default=None, help='a folder of images the run never saw (needed for folder runs; '
                   "synthetic embedded sets draw their next seed's images)")
    p.add_argument('--images', type=int, default=256, help='images per set (training: the first ones)')
    p.add_argument('--batches', type=int, default=8, help='batches of crops per set')
    p.add_argument('--threads', type=int, default=None, help='torch threads')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    run = Path(a.run)
    cfg, ck, G = load_run(run)
    if cfg.image is not None:
        raise SystemExit(f"{run} trained on one image, {cfg.image}: there are no other images of it to hold out; this diagnostic needs a data set")
    synthetic = cfg.dataset is not None and EMBEDDED.get(cfg.dataset, {}).get('kind') == 'synthetic'
    if a.held_out is None and not synthetic:
        raise SystemExit(f"{run} trained on {cfg.dataset or cfg.data or cfg.image}: give --held-out DIR, a folder of images it never saw "
                         f"(only the synthetic embedded sets, {', '.join(k for k, v in EMBEDDED.items() if v['kind'] == 'synthetic')}, draw their own)")
    kw = dict(crop=cfg.crop, image_size=cfg.image_size, resize=cfg.resize, n_images=a.images)
    train_src = (make_source(dataset=cfg.dataset, seed=cfg.seed, **kw) if cfg.dataset else make_source(data=cfg.data, **kw))
    held_src = make_source(data=a.held_out, **kw) if a.held_out else make_source(dataset=cfg.dataset, seed=cfg.seed + 1, **kw)
    D = make_discriminator(cfg); D.load_state_dict({k.removeprefix('module.'): v for k, v in ck['D'].items()})
    print(f"{run}: discriminator and generator of step {ck['step']}; {a.batches} x {cfg.batch} crops {tuple(cfg.crop)} per set")
    print(f"  training: {train_src.name}\n  held-out: {held_src.name}")
    for what, src in (('training images', train_src), ('held-out images', held_src), ('generated', train_src)):
        logits = []
        for b in range(a.batches):   # the same crop places and latents for every set
            real, latent, coords = crop_inputs(src.batch(2_000_000 + b, cfg.batch, cfg.seed), cfg, step_generator(cfg.seed, 2_000_000 + b))
            with torch.no_grad():
                x = G(latent) if what == 'generated' else real
                logits.append(D(x, coords).mean((1, 2, 3)))
        z = torch.cat(logits)
        right = (z < 0) if what == 'generated' else (z > 0)
        print(f"{what:16s} mean logit {z.mean():+6.2f}  P(real) {torch.sigmoid(z).mean():.2f}  right side of 0: {100 * right.float().mean():.0f}%")

if __name__ == '__main__':
    main()
