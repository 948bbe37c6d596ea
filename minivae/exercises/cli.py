"""``minivae exercise list | start | check``: the coursework commands.

Exit codes, for grading scripts: 0 when every checked function passes; 1 when
one fails, is not done yet or raises; 2 when the command cannot run (no such
file, a file that does not import, an unknown exercise, a file that exists).
No command prints a traceback.
"""

import importlib.util
import sys
from pathlib import Path

__all__ = ["add_exercise_parser", "run_exercise"]


def add_exercise_parser(subparsers):
    """Add the ``exercise`` command and its ``list``, ``start``, ``check`` subcommands."""
    parser = subparsers.add_parser(
        "exercise", help="coursework: write a function from its equation and check it",
        description="Coursework exercises: each names an equation, hands you a skeleton "
                    "function and checks your answer against an independent computation.")
    sub = parser.add_subparsers(dest="exercise_command", required=True)
    teacher = dict(metavar="COURSE.py", default=None,
                   help="also use the Exercise objects defined in this file (for teachers)")

    listing = sub.add_parser("list", help="show the exercises and their equations")
    listing.add_argument("--exercises", **teacher)

    start = sub.add_parser("start", help="write a skeleton file for one exercise")
    start.add_argument("name", help="exercise name (see `minivae exercise list`)")
    start.add_argument("-o", "--output", default=None, help="file to write (default: NAME.py)")
    start.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    start.add_argument("--exercises", **teacher)

    check = sub.add_parser("check", help="check every exercise function defined in a file")
    check.add_argument("file", help="your Python file")
    check.add_argument("--seed", type=int, default=0, help="seed of the random cases (default: 0)")
    check.add_argument("--exercises", **teacher)
    parser.set_defaults(func=run_exercise)
    return parser


def _exercises(course_file):
    from .catalogue import EXERCISES
    from ._checker import Exercise, ExerciseFileError

    exercises = dict(EXERCISES)
    if course_file is None:
        return exercises
    path = Path(course_file)
    if not path.is_file():
        raise ExerciseFileError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(f"_minivae_course_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise ExerciseFileError(
            f"cannot load {path.name}: {type(exc).__name__}: {text[0] if text else ''}") from None
    extra = [v for v in vars(module).values() if isinstance(v, Exercise)]
    if not extra:
        raise ExerciseFileError(f"{path.name} defines no Exercise objects")
    exercises.update((ex.name, ex) for ex in extra)
    return exercises


def _list(args, exercises, out):
    width = max(len(name) for name in exercises)
    tutorial = None
    for ex in exercises.values():
        if ex.tutorial != tutorial:
            tutorial = ex.tutorial
            print(f"\n{tutorial or 'other'}", file=out)
        print(f"  {ex.name:{width}s}  {ex.equation:20s} {ex.title}", file=out)
        first = ex.statement.strip().splitlines()[0]
        print(f"  {'':{width}s}  {first}", file=out)
    print("\nStart one with: minivae exercise start NAME -o my_answer.py", file=out)
    return 0


def _start(args, exercises, out):
    from ._checker import skeleton

    if args.name not in exercises:
        print(f"minivae exercise: error: unknown exercise {args.name!r}; choose one of: {', '.join(exercises)}",
              file=sys.stderr)
        return 2
    path = Path(args.output or f"{args.name}.py")
    if path.exists() and not args.force:
        print(f"minivae exercise: error: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    try:
        path.write_text(skeleton(exercises[args.name], path.name), encoding="utf-8")
    except OSError as exc:
        print(f"minivae exercise: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: implement {args.name}{exercises[args.name].equation and ' ' + exercises[args.name].equation}, "
          f"then run: minivae exercise check {path}", file=out)
    return 0


def _check(args, exercises, out):
    from ._checker import check_exercise, load_exercise_functions

    functions = load_exercise_functions(args.file, exercises)
    results = [check_exercise(exercises[name], func, random_state=args.seed)
               for name, func in functions.items()]
    for result in results:
        print(result, file=out)
    n_passed = sum(r.passed for r in results)
    print(f"{n_passed} of {len(results)} passed", file=out)
    return 0 if n_passed == len(results) else 1


def run_exercise(args, out=None):
    """Run ``minivae exercise ...`` from parsed ``args``; return the exit code."""
    from ._checker import ExerciseFileError

    out = sys.stdout if out is None else out
    try:
        exercises = _exercises(args.exercises)
        command = {"list": _list, "start": _start, "check": _check}[args.exercise_command]
        return command(args, exercises, out)
    except ExerciseFileError as exc:
        print(f"minivae exercise: error: {exc}", file=sys.stderr)
        return 2
