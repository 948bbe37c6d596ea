"""Command line: argument parsing only; every command calls the public API.

How a command is added (``exercise``, ``train``, ``score``, ``sample``,
``reproduce`` follow the same three steps, with no registry):

1. write ``_name(args) -> int``, which calls the public API and returns 0;
2. add its sub-parser in :func:`build_parser` with ``set_defaults(func=_name)``;
   give numeric options a checking ``type=`` (e.g. :func:`_seed`), so that
   argparse reports a bad value before anything runs;
3. let user mistakes raise: the public API raises ``ValueError``/``TypeError``
   naming the argument, the file system ``OSError`` (missing file, a file where
   a directory is wanted, no permission). :func:`main` turns each into one
   line, ``minivae: error: ...``, on stderr and exit status 2, with no
   traceback. Any other exception is a bug in minivae and keeps its traceback.
"""

import argparse
import math
import os
import sys

from . import __version__

__all__ = ["main", "build_parser"]

# Exceptions that mean "the user asked for something impossible", not "minivae is broken".
USER_ERRORS = (ValueError, TypeError, OSError)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``prog: error: message (see 'prog --help')``.

    Sub-parsers inherit the class, so every command reports alike.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(minimum, what):
    """Return an argparse type accepting an int >= ``minimum``; ``what`` goes into its docstring."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {value}")
        return value
    parse.__doc__ = f"argparse type: {what}, an int >= {minimum}."
    return parse


# A seed is an int >= 0 (NumPy's generators refuse negative seeds); counts are >= 1.
_seed = _int_at_least(0, "a seed")
_positive_int = _int_at_least(1, "a count")


def _positive_float(text, allow_zero=False):
    """argparse type: a finite number > 0 (>= 0 with ``allow_zero``), e.g. a rate or a variance."""
    try:
        value = float(text)
    except ValueError:
        value = None
    bound = ">= 0" if allow_zero else "> 0"
    if value is None or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text!r}")
    return value


def _nonnegative_float(text):
    """argparse type: a finite number >= 0 (a weight that may switch a term off)."""
    return _positive_float(text, allow_zero=True)


def _hidden_sizes(text):
    """argparse type: hidden widths, comma-separated ints >= 1, e.g. ``64,32``."""
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated ints >= 1, got {text!r}")
    return sizes


def _demo(args):
    from .demo import run_demo

    run_demo(out=args.out, fast=args.fast, random_state=args.seed)
    return 0


def _datasets(args):
    """Print where each data set is and whether it loads; status 1 if any does not."""
    from . import datasets

    home = datasets.get_data_home()
    print(f"data directory: {home}  (set MINIVAE_DATA to change it)")
    status = 0
    for name, loader in (("htru2", datasets.load_htru2), ("kddcup99", datasets.load_kddcup99),
                         ("mnist", datasets.load_mnist)):
        try:
            X, y = loader(download=args.download)
            print(f"  {name:9s} ok: {X.shape[0]} rows, {X.shape[1]} features")
        except USER_ERRORS as exc:
            print(f"  {name:9s} not available: {_describe(exc)}")
            status = 1
    return status


def build_parser():
    """The argument parser of ``python -m minivae`` (one sub-parser per command)."""
    parser = _Parser(prog="minivae", description="Variational autoencoders written from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"minivae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train the models on toy data; write figures and a summary")
    demo.add_argument("--out", default="minivae-demo", help="output directory (default: ./minivae-demo)")
    demo.add_argument("--fast", action="store_true", help="fewer epochs, for a quick check")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed, an int >= 0 (default: 0)")
    demo.set_defaults(func=_demo)

    data = sub.add_parser("datasets", help="show where the real data sets are and whether they load")
    data.add_argument("--download", action="store_true", help="download missing files")
    data.set_defaults(func=_datasets)

    # Each module below adds its own subcommands with set_defaults(func=...).
    from .cli_data import add_data_parsers
    from .exercises.cli import add_exercise_parser
    from .experiments import add_reproduce_parser
    add_reproduce_parser(sub)      # minivae reproduce {kdd,htru2,all}
    add_data_parsers(sub)          # minivae train / score / sample
    add_exercise_parser(sub)       # minivae exercise list / start / check
    return parser


def _describe(exc):
    """One line for a user error; an OSError shows its reason and the path, not "[Errno 13]"."""
    if isinstance(exc, OSError) and exc.strerror:
        paths = " -> ".join(repr(str(p)) for p in (exc.filename, exc.filename2) if p is not None)
        return f"{exc.strerror}: {paths}" if paths else exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run one command; return its exit status (0, or 2 for a user error).

    Argument errors exit through argparse (status 2, one line). A
    ``ValueError``, ``TypeError`` or ``OSError`` from the command prints
    ``minivae: error: <what went wrong>`` on stderr and returns 2; Ctrl-C
    returns 130 quietly. With ``MINIVAE_DEBUG=1`` in the environment the
    exception propagates with its traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        if os.environ.get("MINIVAE_DEBUG"):
            raise
        print(f"minivae: error: {_describe(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minivae: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
