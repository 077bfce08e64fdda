"""Seconds a training step of each shipped recipe on this machine, next to the time its card records.

    python bench/recipe_steptime.py                          # all six recipes, 60 steps each, with the threads their cards record
    python bench/recipe_steptime.py synthfaces --steps 100

The cards' `train_time_s` (the README's "CPU min") were measured on whatever machine and hour trained each model
(AVX2 and AVX-512 CPUs, some runs sharing the cores with another job). This trains the first `--steps` steps of each
recipe (`locogan.zoo.recipe_config`, in a temporary folder that is then deleted), one recipe after another in one run,
and prints the seconds a step over steps `--warmup`..`--steps` (the run's own stats.jsonl clock), the full recipe's
projected minutes at that rate, and the card's minutes. The projection leaves out the sample grids and checkpoints a
full run writes every 100 to 250 steps (see bench/README.md for a full run against its projection). Not a test: timings
depend on the machine and its load.
"""
from __future__ import annotations
import argparse, json, os, tempfile
from pathlib import Path
import torch
from locogan.zoo import ZOO, load_card, recipe_config, recipe_threads, digest_env
from locogan.train import train

def step_seconds(name:str, steps:int, warmup:int) -> float:
    "Seconds a step of recipe `name` over steps `warmup`..`steps`, trained from scratch in a temporary folder."
    with tempfile.TemporaryDirectory() as d:
        train(recipe_config(name, out=d, steps=steps, ckpt_every=10**9, sample_every=10**9, device='cpu'))
        t = {r['step']: r['time'] for r in map(json.loads, (Path(d) / 'stats.jsonl').read_text().splitlines())}
    return (t[steps] - t[warmup]) / (steps - warmup)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('names', nargs='*', default=list(ZOO), help='recipes to time')
    p.add_argument('--steps', type=int, default=60, help='training steps per recipe')
    p.add_argument('--warmup', type=int, default=20, help='steps left out of the timing')
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: each recipe's card's, as `make checkpoints` trains it)")
    a = p.parse_args(argv)
    if not 0 < a.warmup < a.steps: p.error(f'--warmup {a.warmup} must be between 0 and --steps {a.steps}')
    bad = [n for n in a.names if n not in ZOO]
    if bad: p.error(f"unknown recipe(s) {bad}; shipped recipes are {', '.join(ZOO)}")
    os.environ.setdefault('TQDM_DISABLE', '1')
    print(f'{digest_env()}; steps {a.warmup}..{a.steps} of each recipe, one after another')
    print(f"{'recipe':11s} {'threads':>7s} {'s/step':>7s} {'steps':>6s} {'projected min':>14s} {'card min':>9s} {'card s/step':>12s}")
    for n in a.names:
        threads = a.threads or recipe_threads(n)
        torch.set_num_threads(threads)
        s, card = step_seconds(n, a.steps, a.warmup), load_card(n)
        full = card['steps']
        print(f"{n:11s} {threads:7d} {s:7.3f} {full:6d} {s * full / 60:14.0f} {card['train_time_s'] / 60:9.0f} {card['train_time_s'] / full:12.3f}")

if __name__ == '__main__': main()
