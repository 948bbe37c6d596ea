"""The machinery behind every exercise: what an exercise holds, how an answer is checked.

An answer is run on a handful of cases (ordinary random inputs first, then
awkward ones: large magnitudes, a single row, a single column). Its outputs
are compared, case by case, with an independent computation: the package's
own implementation (the ``oracle``) or central differences taken by
:func:`minivae.gradcheck.check_gradients`. The first case that fails is
reported with the input shapes, the worst entry, both values and a hint. The
hint comes from, in this order: the exercise's list of known mistakes (each a
deliberately wrong solution, run on the failing case to see whether the
answer matches it), generic patterns that are cheap to recognise (a sign flip,
a transposed matrix, a constant factor such as a missing 1/n), and finally
what the equation says about that output.
"""

import importlib.util
import inspect
import numbers
import sys
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .._validation import check_random_state
from ..gradcheck import check_gradients, numerical_gradient

__all__ = [
    "Case",
    "Mistake",
    "Exercise",
    "CheckResult",
    "ExerciseFileError",
    "check_exercise",
    "load_exercise_functions",
    "skeleton",
]

# Relative error |received − expected| / max(1, |received| + |expected|) accepted
# against an oracle (round-off of a different but exact formula), and against
# central differences (whose own error is about 1e-9 at O(1) values).
DEFAULT_TOL = 1e-7
FD_TOL = 1e-6


class Case:
    """One set of inputs for an exercise function.

    Parameters
    ----------
    label : str
        What is special about it ("random", "large magnitudes", "one row").
    **inputs
        The keyword arguments the function is called with. Arrays are copied
        before every call, so an answer that works in place cannot spoil them.
    """

    def __init__(self, label, **inputs):
        self.label = label
        self.inputs = inputs

    def copy_inputs(self):
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.inputs.items()}

    def describe(self):
        """'mu (3, 4), log_sigma (3, 4), p = 0.05': shapes of arrays, values of scalars."""
        parts = []
        for k, v in self.inputs.items():
            if isinstance(v, np.ndarray):
                parts.append(f"{k} {v.shape}")
            elif isinstance(v, numbers.Number):
                parts.append(f"{k} = {v:.6g}")
            elif callable(v):
                parts.append(f"{k} (a function)")
            else:
                parts.append(f"{k} = {v!r}")
        return ", ".join(parts)

    def counts(self):
        """The sizes of every axis of the array inputs: candidates for a missing 1/n."""
        sizes = set()
        for v in self.inputs.values():
            if isinstance(v, np.ndarray):
                sizes.update(int(s) for s in v.shape if s > 1)
        return sorted(sizes)


@dataclass(frozen=True)
class Mistake:
    """A deliberately wrong solution and the hint shown when an answer matches it.

    Parameters
    ----------
    kind : str
        "sign", "factor", "transpose", "1/n" or "other" (the tests make sure
        every exercise has the kinds that apply to it).
    func : callable
        Same signature as the exercise function, same outputs, one mistake.
    hint : str
        What to tell a student whose answer matches ``func``, tied to the equation.
    """

    kind: str
    func: Callable
    hint: str


@dataclass(frozen=True)
class Exercise:
    """One exercise: the equation, the function a student writes, and its check.

    Parameters
    ----------
    name : str
        The name of the function the student defines (and the exercise's name).
    equation : str
        Its number in docs/equations.md, e.g. "(2.31)" or "[F 1.5]".
    title : str
        One line, shown by ``minivae exercise list``.
    statement : str
        The equation in plain text, as the student's docstring shows it.
    signature : str
        The argument list, e.g. "mu, log_sigma".
    outputs : tuple of str
        Names of the returned values, in order (one name: a single value is returned).
    reference : callable
        A correct solution (the tests check it passes).
    cases : callable
        ``cases(rng)`` returns a list of :class:`Case`; put an ordinary one
        first and the awkward ones after it.
    docstring : str
        Parameters and Returns sections of the student's docstring (shapes, units).
    oracle : callable, optional
        ``oracle(**inputs)`` gives the expected outputs, as a tuple in
        ``outputs`` order or a dict for some of them. Usually the package's own
        implementation. Default: ``reference``.
    gradients : dict, optional
        ``{output: (input, objective)}``: check that output by central
        differences, as the gradient of the scalar ``objective(**inputs)``
        with respect to ``inputs[input]`` (:func:`minivae.gradcheck.check_gradients`).
    mistakes : tuple of Mistake
    explain : dict, optional
        ``{output: what the equation gives for it}``, shown under a failure.
    nonfinite_hint : str
        Shown when the answer returns nan or inf where the expected value is finite.
    imports : str
        The import lines of the skeleton file.
    tutorial : str
        The tutorial the exercise belongs to, e.g. "02_vae".
    tol : float
        Accepted relative error against the oracle.
    """

    name: str
    equation: str
    title: str
    statement: str
    signature: str
    outputs: tuple
    reference: Callable
    cases: Callable
    docstring: str = ""
    oracle: Callable = None
    gradients: dict = field(default_factory=dict)
    mistakes: tuple = ()
    explain: dict = field(default_factory=dict)
    nonfinite_hint: str = ""
    imports: str = "import numpy as np"
    tutorial: str = ""
    tol: float = DEFAULT_TOL

    def make_cases(self, random_state=0):
        """The cases, drawn from ``random_state`` (None, int or Generator)."""
        return list(self.cases(check_random_state(random_state)))

    def expected(self, case):
        """The expected outputs on ``case``: a dict from output name to array."""
        out = {}
        func = self.reference if self.oracle is None else self.oracle
        result = _quiet_call(func, case.copy_inputs())
        if isinstance(result, dict):
            out.update(result)
        else:
            out.update(zip(self.outputs, _as_tuple(result, len(self.outputs))))
        for name, (wrt, objective) in self.gradients.items():
            inputs = case.copy_inputs()
            out[name] = numerical_gradient(lambda: float(objective(**inputs)), inputs[wrt])
        missing = [name for name in self.outputs if name not in out]
        if missing:
            raise ValueError(f"exercise {self.name}: nothing gives the expected {missing}")
        return {name: np.asarray(out[name], dtype=np.float64) for name in self.outputs}

    def check(self, func, random_state=0):
        """Check ``func`` on every case; see :func:`check_exercise`."""
        return check_exercise(self, func, random_state)


@dataclass
class CheckResult:
    """The outcome of checking one function.

    Attributes
    ----------
    name, equation : str
    status : str
        "passed", "failed", "not done" (NotImplementedError) or "error"
        (another exception).
    message : str
        Empty when passed; otherwise the case, the entry, both values and a hint.
    n_cases : int
        Cases run (all of them when passed).
    """

    name: str
    equation: str
    status: str
    message: str = ""
    n_cases: int = 0

    @property
    def passed(self):
        return self.status == "passed"

    def __str__(self):
        tag = {"passed": "PASS ", "failed": "FAIL ", "not done": "TODO ", "error": "ERROR"}[self.status]
        head = f"{tag} {self.name} {self.equation}"
        if self.status == "passed":
            return f"{head}: all {self.n_cases} cases agree"
        return f"{head}: {self.message}"


class ExerciseFileError(ValueError):
    """A student's file cannot be loaded or defines no exercise function."""


class _AnswerFailed(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _quiet_call(func, inputs):
    # Overflow in an answer (a naive sigmoid at a = −1000) should show up as a
    # wrong value in the report, not as a warning, or as an error under pytest.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(**inputs)


def _as_tuple(result, n):
    if n == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else "one value"
        raise _AnswerFailed("failed", f"returned {got}, expected {n}")
    return tuple(result)


def _where(exc, func):
    """' (my_kl.py, line 12)': the last line of the student's file in the traceback."""
    try:
        filename = func.__code__.co_filename
    except AttributeError:
        return ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return f" ({Path(filename).name}, line {frames[-1].lineno})" if frames else ""


def _rel_error(received, expected):
    with np.errstate(all="ignore"):
        rel = np.abs(received - expected) / np.maximum(1.0, np.abs(received) + np.abs(expected))
    rel = np.where(np.isnan(rel) | (np.isinf(received) & ~np.isinf(expected)), np.inf, rel)
    # Equal infinities (rare: −inf log-densities) count as agreement.
    return np.where((received == expected), 0.0, rel)


def _close(a, b, tol=1e-6):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (_rel_error(a, b) < tol)))


def _entry(name, index):
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def _generic_hint(name, received, expected, case):
    """Recognise a sign flip, a transposed matrix or a constant factor."""
    if received.shape != expected.shape:
        if received.ndim == 2 and received.shape == expected.shape[::-1]:
            return f"{name} looks transposed: its shape is the expected one reversed"
        return ""
    if not np.all(np.isfinite(received)):
        return ""
    big = np.abs(expected) > 1e-8 * max(1.0, float(np.max(np.abs(expected))))
    for key, value in case.inputs.items():
        if isinstance(value, np.ndarray) and _close(received, value, tol=1e-12):
            return f"{name} equals the input {key}, unchanged"
    if not np.any(big):
        return ""
    everywhere = " everywhere" if received.size > 1 else ""
    if _close(received, -expected):
        return f"{name} has the opposite sign of the expected value{everywhere}: a sign flip"
    if received.ndim == 2 and received.shape[0] == received.shape[1] and _close(received, expected.T):
        return f"{name} is the transpose of the expected matrix"
    ratio = received[big] / expected[big]
    c = float(np.median(ratio))
    if np.all(np.abs(ratio - c) <= 1e-6 * max(1.0, abs(c))) and np.all(np.abs(received[~big]) < 1e-8):
        for n in case.counts():
            if abs(c - n) < 1e-6 * n:
                return (f"{name} is {n} times the expected value{everywhere}: "
                        f"a missing 1/n (n = {n}), or another missing factor?")
            if abs(c * n - 1.0) < 1e-6:
                return (f"{name} is 1/{n} of the expected value{everywhere}: an extra 1/n (n = {n}), "
                        "or a mean where the equation has a sum?")
        # One number is always "a constant times" another; only name simple ratios then.
        simple = any(abs(c - p / q) < 1e-6 * abs(c) for p in range(1, 9) for q in range(1, 9))
        if received.size > 1 or simple:
            return f"{name} is {c:.6g} times the expected value{everywhere}: a missing or extra constant factor"
    return ""


def _hint(exercise, name, received, expected, case):
    if received.shape == expected.shape and not np.all(np.isfinite(received)) and np.all(np.isfinite(expected)):
        return (f"{name} holds nan or inf where the expected value is finite. "
                + (exercise.nonfinite_hint or "Look for an overflow in this case."))
    index = exercise.outputs.index(name)
    for mistake in exercise.mistakes:
        try:
            wrong = _as_tuple(_quiet_call(mistake.func, case.copy_inputs()), len(exercise.outputs))[index]
        except Exception:  # a mutant may fail on an awkward case; it then just does not match
            continue
        if _close(received, wrong) and not _close(wrong, expected):
            return mistake.hint
    return _generic_hint(name, received, expected, case)


def _compare_output(exercise, name, received, expected, case):
    """Raise _AnswerFailed with the worst entry, if ``received`` is not ``expected``."""
    if received.shape != expected.shape and received.size == expected.size == 1:
        received = received.reshape(expected.shape)
    if received.shape != expected.shape:
        hint = _hint(exercise, name, received, expected, case)
        raise _AnswerFailed("failed", _message(
            exercise, name, f"{name} has shape {received.shape}, expected {expected.shape}", hint))
    if name in exercise.gradients:
        # The gradient is checked by central differences, entry by entry.
        wrt, objective = exercise.gradients[name]
        inputs = case.copy_inputs()
        result = check_gradients(lambda: (float(objective(**inputs)), {wrt: received}), {wrt: inputs[wrt]})
        bad = not result.max_rel_error < FD_TOL
        tol = FD_TOL
    else:
        bad = not np.all(_rel_error(received, expected) < exercise.tol)
        tol = exercise.tol
    if not bad:
        return
    rel = _rel_error(received, expected)
    index = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.ndim else ()
    index = tuple(int(i) for i in index)
    kind = "central differences give" if name in exercise.gradients else "expected"
    line = (f"{_entry(name, index)}: {kind} {float(expected[index]):.10g}, "
            f"received {float(received[index]):.10g} (relative error above {tol:g})")
    hint = _hint(exercise, name, received, expected, case)
    raise _AnswerFailed("failed", _message(exercise, name, line, hint))


def _message(exercise, name, line, hint):
    lines = [line]
    if hint:
        lines.append(f"hint: {hint}")
    if name in exercise.explain:
        lines.append(f"{exercise.equation}: {exercise.explain[name]}")
    return "\n".join(lines)


def _run_case(exercise, func, case):
    inputs = case.copy_inputs()
    try:
        result = _quiet_call(func, inputs)
    except NotImplementedError:
        raise _AnswerFailed("not done", "not done yet (the body raises NotImplementedError)") from None
    except Exception as exc:  # a student's bug: one readable line, no traceback
        text = str(exc).strip().splitlines()
        first = text[0] if text else ""
        where = _where(exc, func)
        if isinstance(exc, TypeError) and not where:
            # Raised by the call itself: the parameters are not the skeleton's.
            first += (f"; the checker calls {exercise.name}({', '.join(k + '=...' for k in case.inputs)}),"
                      " so keep the skeleton's parameter names")
        raise _AnswerFailed("error", f"raised {type(exc).__name__}: {first}{where}") from None
    received = _as_tuple(result, len(exercise.outputs))
    expected = exercise.expected(case)
    for name, value in zip(exercise.outputs, received):
        if value is None:
            raise _AnswerFailed("failed", _message(
                exercise, name, f"{name} is None: return it (shape {expected[name].shape})", ""))
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise _AnswerFailed(
                "failed", f"{name} is {type(value).__name__}, not a number or an array of numbers") from None
        _compare_output(exercise, name, value, expected[name], case)


def check_exercise(exercise, func, random_state=0):
    """Run ``func`` on every case of ``exercise`` and report the first failure.

    Parameters
    ----------
    exercise : Exercise
    func : callable
        The student's function, called with the case's inputs as keyword arguments.
    random_state : None, int or numpy.random.Generator
        Seeds the random cases; the default 0 makes every report reproducible.

    Returns
    -------
    CheckResult
        ``status`` is "passed", "failed", "not done" or "error"; the message
        names the case (label and input shapes), the worst entry of the first
        wrong output with the expected and received values, and a hint.
    """
    cases = exercise.make_cases(random_state)
    for i, case in enumerate(cases, start=1):
        try:
            _run_case(exercise, func, case)
        except _AnswerFailed as failure:
            if failure.status == "not done":
                return CheckResult(exercise.name, exercise.equation, "not done", failure.message, i - 1)
            where = f"case {i} of {len(cases)} ({case.label}: {case.describe()})"
            body = textwrap.indent(failure.message, "    ")
            return CheckResult(exercise.name, exercise.equation, failure.status,
                               f"{where}\n{body}", i - 1)
    return CheckResult(exercise.name, exercise.equation, "passed", "", len(cases))


def load_exercise_functions(path, exercises):
    """Import the student's file and return ``{name: function}`` for the exercises it defines.

    Only functions defined in the file itself count (not ones it imports).

    Raises
    ------
    ExerciseFileError
        If the file does not exist, cannot be imported (the message is one
        line: the exception and the line number), or defines none of the
        exercise functions.
    """
    path = Path(path)
    if not path.is_file():
        raise ExerciseFileError(f"no such file: {path}")
    if path.suffix != ".py":
        raise ExerciseFileError(f"{path.name} is not a Python file (.py); write your answer with "
                                "`minivae exercise start NAME -o my_answer.py`")
    module_name = f"_minivae_answer_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # The student's own helper modules, next to the file, should import.
    sys.path.insert(0, str(path.resolve().parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ExerciseFileError(
            f"cannot load {path.name}: SyntaxError: {exc.msg} (line {exc.lineno})") from None
    except SystemExit as exc:
        # An answer file that exits while loading must not look like a pass.
        raise ExerciseFileError(f"cannot load {path.name}: it called exit ({exc.code!r}) "
                                "while being imported") from None
    except Exception as exc:
        text = str(exc).strip().splitlines()
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        where = f" (line {frames[-1].lineno})" if frames else ""
        raise ExerciseFileError(
            f"cannot load {path.name}: {type(exc).__name__}: {text[0] if text else ''}{where}") from None
    finally:
        sys.modules.pop(module_name, None)
        sys.path.remove(str(path.resolve().parent))
    found = {name: obj for name, obj in vars(module).items()
             if name in exercises and inspect.isfunction(obj) and obj.__module__ == module_name}
    if not found:
        raise ExerciseFileError(
            f"{path.name} defines none of the exercise functions "
            f"(see `minivae exercise list`; e.g. def {next(iter(exercises))}(...))")
    return found


def skeleton(exercise, filename=None):
    """The text of a skeleton file: imports, the equation, signature, docstring, empty body."""
    filename = filename or f"{exercise.name}.py"
    statement = textwrap.indent(exercise.statement.strip(), "    ")
    doc = [exercise.title.strip().rstrip(".") + f" {exercise.equation}.", ""]
    if exercise.docstring.strip():
        doc += [textwrap.dedent(exercise.docstring).strip(), ""]
    doc += ["Notes", "-----", f"Equation {exercise.equation} (docs/equations.md):", "",
            exercise.statement.strip()]
    body = textwrap.indent("\n".join(doc), "    ")
    return (
        f'"""Exercise {exercise.name}: {exercise.title.strip().rstrip(".")} {exercise.equation}.\n\n'
        f"Equation {exercise.equation}, written out in docs/equations.md:\n\n{statement}\n\n"
        f"Write the body of {exercise.name} below, then check it with\n\n"
        f"    minivae exercise check {filename}\n"
        f'"""\n\n{exercise.imports.strip()}\n\n\n'
        f"def {exercise.name}({exercise.signature}):\n"
        f'    """{body.lstrip()}\n    """\n'
        f"    raise NotImplementedError\n"
    )
