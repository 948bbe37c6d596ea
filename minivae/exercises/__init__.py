"""Coursework exercises that check themselves.

An exercise names an equation of docs/equations.md, hands the student a
function to write (signature and docstring with shapes and units) and checks
the answer against an independent computation: the package's own
implementation, central differences (:func:`minivae.gradcheck.check_gradients`)
or a slow loop in log space. The check runs the answer on random inputs and
on awkward ones (large magnitudes, a single row), and reports the first case
that fails: the input shapes, the worst entry, the expected and received
values and a hint tied to the equation, e.g.

    FAIL  reparametrise_backward (2.32): case 1 of 3 (random: d_z (4, 3), log_sigma (4, 3), eps (4, 3))
        d_log_sigma[2, 0]: central differences give -1.617406579, received 1.304000045 (relative error above 1e-06)
        hint: d_log_sigma looks like it is missing the factor σε from (2.32): z = μ + σ ⊙ ε, so ∂z/∂log σ = σ ⊙ ε
        (2.32): ∂L/∂log σ = ∂L/∂z ⊙ σ ⊙ ε, σ = exp(log_sigma)

A body that still raises ``NotImplementedError`` is reported as "not done
yet"; any other exception as one line with its line number.

For students
------------
From the command line::

    minivae exercise list                           # the exercises and their equations
    minivae exercise start kl_standard_normal -o my_kl.py
    minivae exercise check my_kl.py                 # exit code 0 when all pass

or from Python::

    >>> from minivae.exercises import EXERCISES, check_exercise
    >>> result = check_exercise(EXERCISES["kl_standard_normal"], my_kl_function)  # doctest: +SKIP
    >>> print(result)                                                              # doctest: +SKIP

One file may define several exercise functions; ``check`` checks every one.

For teachers: adding an exercise
--------------------------------
An :class:`Exercise` needs a reference solution, the cases to run and, for
outputs that are gradients, the scalar whose gradient they are; central
differences then check those outputs (through
:func:`minivae.gradcheck.check_gradients`), and the reference's own values
check the rest::

    import numpy as np
    from minivae.exercises import Case, Exercise

    def bernoulli_nll(x, logits):                   # the reference solution
        nll = np.sum(np.logaddexp(0.0, logits) - x * logits, axis=1)
        return nll, 0.5 * (1.0 + np.tanh(0.5 * logits)) - x

    BERNOULLI_NLL = Exercise(
        name="bernoulli_nll", equation="(B.1)", title="Bernoulli NLL and its gradient",
        statement="nll = Σ_j [ln(1 + e^{l_j}) − x_j l_j],  ∂nll/∂l = σ(l) − x",
        signature="x, logits", outputs=("nll", "d_logits"), reference=bernoulli_nll,
        gradients={"d_logits": ("logits", lambda x, logits: bernoulli_nll(x, logits)[0].sum())},
        cases=lambda rng: [Case("random", x=rng.uniform(0, 1, (4, 3)), logits=rng.standard_normal((4, 3))),
                           Case("one entry, large", x=np.ones((1, 1)), logits=np.full((1, 1), 40.0))])

Save that as ``course.py`` and every command takes it with
``--exercises course.py`` (``minivae exercise start bernoulli_nll --exercises
course.py``); from Python, call ``BERNOULLI_NLL.check(student_function)``.
Optional fields make the feedback sharper: ``docstring`` (Parameters and
Returns, with shapes and units), ``oracle`` (an independent implementation,
e.g. the package's), ``explain`` (what the equation gives for each output)
and ``mistakes``: deliberately wrong solutions, each a :class:`Mistake` with
the hint to show when an answer matches it. Sign flips, transposed matrices
and constant factors such as a missing 1/n are recognised without being
listed. To ship an exercise with the package, add it to the tuple at the end
of ``minivae/exercises/catalogue.py``; the tests then check that its
reference passes and that each of its mistakes fails with its hint.

Contents
--------
EXERCISES : dict
    Name -> :class:`Exercise`, in the order of the tutorials.
Exercise, Case, Mistake
    What an exercise is made of.
check_exercise, CheckResult
    Checking one function.
load_exercise_functions, skeleton
    What ``minivae exercise check`` and ``start`` use.
"""

from ._checker import (
    Case,
    CheckResult,
    Exercise,
    ExerciseFileError,
    Mistake,
    check_exercise,
    load_exercise_functions,
    skeleton,
)
from .catalogue import EXERCISES

__all__ = [
    "EXERCISES",
    "Exercise",
    "Case",
    "Mistake",
    "CheckResult",
    "ExerciseFileError",
    "check_exercise",
    "load_exercise_functions",
    "skeleton",
]
