"""Command line: argument parsing only; every command calls the public API."""

import argparse
import sys

from . import __version__

__all__ = ["main"]


def _demo(args):
    from .demo import run_demo

    run_demo(out=args.out, fast=args.fast, random_state=args.seed)
    return 0


def _datasets(args):
    from . import datasets

    home = datasets.get_data_home()
    print(f"data directory: {home}  (set MINIVAE_DATA to change it)")
    for name, loader in (("htru2", datasets.load_htru2), ("kddcup99", datasets.load_kddcup99),
                         ("mnist", datasets.load_mnist)):
        try:
            X, y = loader(download=args.download)
            print(f"  {name:9s} ok: {X.shape[0]} rows, {X.shape[1]} features")
        except (OSError, ValueError) as exc:
            print(f"  {name:9s} not available: {exc}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minivae", description="Variational autoencoders written from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"minivae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train the models on toy data; write figures and a summary")
    demo.add_argument("--out", default="minivae-demo", help="output directory (default: ./minivae-demo)")
    demo.add_argument("--fast", action="store_true", help="fewer epochs, for a quick check")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(func=_demo)

    data = sub.add_parser("datasets", help="show where the real data sets are and whether they load")
    data.add_argument("--download", action="store_true", help="download missing files")
    data.set_defaults(func=_datasets)

    from .exercises.cli import add_exercise_parser
    add_exercise_parser(sub)  # `minivae exercise ...`; sets func=run_exercise
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
