"""What the in-process benchmarks share: the scale arguments and the scale's data set,
generated once per scale under bench/work and reused afterwards."""

from __future__ import annotations

import argparse
from pathlib import Path

from olist.synthetic.generator import generate

ROOT = Path(__file__).resolve().parents[1]


def scale_data(
    prog: str, description: str, argv: list[str] | None
) -> tuple[argparse.Namespace, Path, Path]:
    """Parse ``--scale --seed --work``; return the arguments, the scale's work folder and its
    data folder (generated if absent)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=str(ROOT / "bench" / "work"))
    args = parser.parse_args(argv)
    work = Path(args.work) / f"scale-{args.scale:g}"
    data = work / "data"
    if not (data / "olist_orders_dataset.csv").is_file():
        print(f"generating scale {args.scale:g} into {data}", flush=True)
        generate(data, args.scale, args.seed)
    return args, work, data
