"""minivae.exercises: references pass, wrong answers fail with the entry and a hint, CLI exit codes."""

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from tests.strategies import seeds

from minivae.cli import main
from minivae.exercises import (
    EXERCISES,
    Case,
    Exercise,
    ExerciseFileError,
    check_exercise,
    load_exercise_functions,
    skeleton,
)

REPO = Path(__file__).resolve().parents[1]
NAMES = list(EXERCISES)
MISTAKES = [(name, i) for name, ex in EXERCISES.items() for i in range(len(ex.mistakes))]
OUTPUTS = [(name, out) for name, ex in EXERCISES.items() for out in ex.outputs]


def _entry_pattern(output):
    # "d_log_sigma[2, 0]: expected ..." or, for a scalar, "value: expected ..."
    return re.compile(rf"{re.escape(output)}(\[\d+(, \d+)*\])?: (expected|central differences give) ")


def _with_output(exercise, output, change):
    """The reference with one output changed: a deliberately wrong solution."""
    index = exercise.outputs.index(output)

    def wrong(**inputs):
        result = exercise.reference(**inputs)
        if len(exercise.outputs) == 1:
            return change(np.asarray(result))
        result = list(result)
        result[index] = change(np.asarray(result[index]))
        return tuple(result)
    return wrong


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_check(name):
    exercise = EXERCISES[name]
    result = check_exercise(exercise, exercise.reference)
    assert result.passed, str(result)
    assert result.n_cases == len(exercise.make_cases(0))
    assert check_exercise(exercise, exercise.reference, random_state=7).passed


@given(seed=seeds)
def test_any_seed_references_pass_and_mistakes_fail(seed):
    for exercise in EXERCISES.values():
        assert check_exercise(exercise, exercise.reference, random_state=seed).passed
        for mistake in exercise.mistakes:
            result = check_exercise(exercise, mistake.func, random_state=seed)
            assert result.status == "failed" and mistake.hint in result.message, (exercise.name, str(result))


@pytest.mark.parametrize("name, i", MISTAKES)
def test_listed_mistake_fails_naming_the_entry_and_its_hint(name, i):
    exercise = EXERCISES[name]
    mistake = exercise.mistakes[i]
    result = check_exercise(exercise, mistake.func)
    assert result.status == "failed", str(result)
    assert any(_entry_pattern(out).search(result.message) for out in exercise.outputs), result.message
    assert "received" in result.message
    assert mistake.hint in result.message
    assert exercise.equation in result.message          # the equation's reminder line


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_lists_the_mistakes_that_apply(name):
    kinds = {m.kind for m in EXERCISES[name].mistakes}
    assert "sign" in kinds
    assert kinds & {"factor", "1/n"}
    assert kinds <= {"sign", "factor", "transpose", "1/n", "other"}
    if name in ("dense_backward", "e_step"):                # outputs that are matrices
        assert "transpose" in kinds
    if name in ("sparsity_penalty", "swish_backward", "dense_backward", "mmd2_unbiased",
                "vampprior_log_density", "reconstruction_score"):   # a 1/n or a sum over n
        assert "1/n" in kinds


@pytest.mark.parametrize("name, output", OUTPUTS)
def test_generic_sign_flip_is_named(name, output):
    exercise = EXERCISES[name]
    result = check_exercise(exercise, _with_output(exercise, output, np.negative))
    assert result.status == "failed"
    assert _entry_pattern(output).search(result.message), result.message
    assert "hint:" in result.message


@pytest.mark.parametrize("name, output", OUTPUTS)
def test_generic_missing_factor_is_named(name, output):
    exercise = EXERCISES[name]
    result = check_exercise(exercise, _with_output(exercise, output, lambda v: 3.5 * v))
    assert result.status == "failed"
    assert _entry_pattern(output).search(result.message), result.message
    assert f"{output} is 3.5 times the expected value" in result.message


def test_generic_transpose_and_missing_one_over_n_are_recognised():
    # An exercise with no listed mistakes: the patterns are recognised anyway.
    gram = Exercise(name="gram", equation="(G.1)", title="A Gram matrix", statement="G = A Bᵀ",
                    signature="A, B", outputs=("G",), reference=lambda A, B: A @ B.T,
                    cases=lambda rng: [Case("random", A=rng.standard_normal((3, 2)),
                                            B=rng.standard_normal((3, 2)))])
    result = check_exercise(gram, lambda A, B: B @ A.T)
    assert "G is the transpose of the expected matrix" in result.message
    assert re.search(r"G\[\d, \d\]: expected", result.message)
    assert "has the opposite sign" in check_exercise(gram, lambda A, B: -A @ B.T).message
    kl = EXERCISES["kl_standard_normal"]
    n = kl.make_cases(0)[0].inputs["mu"].shape[0]
    result = check_exercise(kl, _with_output(kl, "kl", lambda v: v / n))
    assert f"kl is 1/{n} of the expected value everywhere: an extra 1/n (n = {n})" in result.message


def test_wrong_shape_is_reported_with_both_shapes():
    dense = EXERCISES["dense_backward"]

    def db_not_summed(dz, x, W, b):
        dx, dW, db = dense.reference(dz, x, W, b)
        return dx, dW, np.tile(db, (2, 1))
    result = check_exercise(dense, db_not_summed)
    assert "db has shape (2, 3), expected (3,)" in result.message


def test_overflow_in_an_answer_gets_the_log_space_hint():
    def naive_e_step(X, x_hat, sigma2, alpha):
        w = alpha * np.exp(-np.sum((X[None] - x_hat) ** 2, axis=-1).T / (2.0 * sigma2))
        return np.log(w / w.sum(axis=1, keepdims=True))
    result = check_exercise(EXERCISES["e_step"], naive_e_step)
    assert result.status == "failed"
    assert "large magnitudes" in result.message
    assert "received nan" in result.message and "logsumexp" in result.message

    def naive_sigmoid(dz, a):
        s = np.exp(a) / (1.0 + np.exp(a))
        return dz * s * (1.0 - s)
    result = check_exercise(EXERCISES["sigmoid_backward"], naive_sigmoid)
    assert "large magnitudes" in result.message and "e^{−|a|}" in result.message


def test_exceptions_are_one_readable_line():
    def broken(mu, log_sigma):
        return mu @ log_sigma        # (4, 3) @ (4, 3)

    result = check_exercise(EXERCISES["kl_standard_normal"], broken)
    assert result.status == "error"
    assert "raised ValueError: matmul" in result.message
    assert f"{Path(__file__).name}, line" in result.message
    assert "Traceback" not in result.message

    def unfinished(mu, log_sigma):
        raise NotImplementedError
    result = check_exercise(EXERCISES["gaussian_nll"], lambda x, xhat, sigma2: x)
    assert "keep the skeleton's parameter names" in result.message
    result = check_exercise(EXERCISES["adam_step"], lambda theta, g, m, v, t, lr, beta1, beta2, eps: (theta, m, v))
    assert "theta equals the input theta, unchanged" in result.message

    result = check_exercise(EXERCISES["kl_standard_normal"], unfinished)
    assert result.status == "not done" and "not done yet" in str(result)

    def too_few(mu, log_sigma):
        return mu.sum(axis=1), mu
    assert "returned 2 values, expected 3" in check_exercise(EXERCISES["kl_standard_normal"], too_few).message


def test_answers_cannot_spoil_the_inputs_and_reports_are_reproducible():
    adam = EXERCISES["adam_step"]

    def in_place(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        new = adam.reference(theta, g, m, v, t, lr, beta1, beta2, eps)
        theta[...], m[...], v[...] = new
        return theta, m, v
    assert check_exercise(adam, in_place).passed
    wrong = adam.mistakes[0].func
    assert str(check_exercise(adam, wrong, random_state=3)) == str(check_exercise(adam, wrong, random_state=3))


@pytest.mark.parametrize("name", NAMES)
def test_cases_include_shapes_of_one_and_large_magnitudes(name):
    cases = EXERCISES[name].make_cases(0)
    shapes = [v.shape for c in cases for v in c.inputs.values() if isinstance(v, np.ndarray)]
    if name != "normal_gamma_cavi_sweep":          # scalars only
        assert any(1 in s for s in shapes)
    assert any("large" in c.label for c in cases)


@pytest.mark.parametrize("name", NAMES)
def test_skeleton_is_valid_python_reported_not_done(name, tmp_path):
    exercise = EXERCISES[name]
    path = tmp_path / f"my_{name}.py"
    assert main(["exercise", "start", name, "-o", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text == skeleton(exercise, path.name)
    tree = ast.parse(text)
    func = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    assert func.name == name
    assert ast.get_docstring(func) and exercise.equation in ast.get_docstring(func)
    assert exercise.equation in ast.get_docstring(tree)
    functions = load_exercise_functions(path, EXERCISES)
    result = check_exercise(exercise, functions[name])
    assert result.status == "not done" and "not done yet" in str(result)


def test_start_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "my_kl.py"
    path.write_text("# my work\n")
    assert main(["exercise", "start", "kl_standard_normal", "-o", str(path)]) != 0
    assert path.read_text() == "# my work\n"
    assert "--force" in capsys.readouterr().err
    assert main(["exercise", "start", "kl_standard_normal", "-o", str(path), "--force"]) == 0
    assert "def kl_standard_normal(mu, log_sigma):" in path.read_text()
    assert main(["exercise", "start", "no_such_exercise", "-o", str(tmp_path / "x.py")]) == 2
    assert "kl_standard_normal" in capsys.readouterr().err


def test_list_shows_every_exercise_with_its_equation(capsys):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for name, exercise in EXERCISES.items():
        assert re.search(rf"{name}\s+{re.escape(exercise.equation)}", out)


def test_load_skips_imported_functions_and_explains_problems(tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text("from minivae.losses import kl_standard_normal\n")
    with pytest.raises(ExerciseFileError, match="defines none of the exercise functions"):
        load_exercise_functions(path, EXERCISES)
    path.write_text("def kl_standard_normal(mu, log_sigma)\n    pass\n")
    with pytest.raises(ExerciseFileError, match=r"SyntaxError: .*\(line 1\)"):
        load_exercise_functions(path, EXERCISES)
    with pytest.raises(ExerciseFileError, match="no such file"):
        load_exercise_functions(tmp_path / "missing.py", EXERCISES)
    # A helper module beside the answer imports; the search path is restored afterwards.
    (tmp_path / "my_helpers.py").write_text("import numpy as np\n\ndef square(a):\n    return a * a\n")
    path.write_text("from my_helpers import square\n\n\ndef gaussian_nll(x, x_hat, sigma2):\n"
                    "    return 0.5 * square(x_hat - x).sum(axis=1) / sigma2, (x_hat - x) / sigma2\n")
    before = list(sys.path)
    functions = load_exercise_functions(path, EXERCISES)
    assert sys.path == before and list(functions) == ["gaussian_nll"]
    assert check_exercise(EXERCISES["gaussian_nll"], functions["gaussian_nll"]).passed


def _run_cli(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "minivae", "exercise", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def test_cli_exit_codes_without_traceback(tmp_path):
    solved = tmp_path / "solved.py"
    solved.write_text(textwrap.dedent("""
        from minivae.exercises.catalogue import _kl_reference, _reparam_reference


        def kl_standard_normal(mu, log_sigma):
            return _kl_reference(mu, log_sigma)


        def reparametrise_backward(d_z, log_sigma, eps):
            return _reparam_reference(d_z, log_sigma, eps)
        """))
    proc = _run_cli("check", solved.name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 of 2 passed" in proc.stdout

    mixed = tmp_path / "mixed.py"
    mixed.write_text(solved.read_text() + textwrap.dedent("""

        def gaussian_nll(x, x_hat, sigma2):
            raise NotImplementedError


        def e_step(X, x_hat, sigma2, alpha):
            return undefined_name
        """))
    proc = _run_cli("check", mixed.name, cwd=tmp_path)
    assert proc.returncode == 1
    assert "TODO  gaussian_nll (2.33): not done yet" in proc.stdout
    assert "ERROR e_step (2.43)" in proc.stdout and "NameError" in proc.stdout
    assert "2 of 4 passed" in proc.stdout

    broken = tmp_path / "broken.py"
    broken.write_text("def kl_standard_normal(mu, log_sigma:\n")
    proc = _run_cli("check", broken.name, cwd=tmp_path)
    assert proc.returncode == 2 and "SyntaxError" in proc.stderr


def _docs_example():
    """The teacher's example: the python block of docs/exercises.md that defines BERNOULLI_NLL."""
    doc = (REPO / "docs" / "exercises.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    return next(b for b in blocks if "BERNOULLI_NLL = Exercise(" in b)


BERNOULLI_NLL_SOURCE = _docs_example()


def test_teacher_example_from_the_docs_works(tmp_path, capsys):
    import minivae.exercises as package
    # The package docstring shows the same example, indented as a literal block.
    assert textwrap.indent(BERNOULLI_NLL_SOURCE.strip(), "    ") in package.__doc__
    namespace = {}
    exec(BERNOULLI_NLL_SOURCE, namespace)
    exercise = namespace["BERNOULLI_NLL"]
    assert isinstance(exercise, Exercise)
    assert exercise.check(exercise.reference).passed
    result = exercise.check(_with_output(exercise, "d_logits", np.negative))
    assert result.status == "failed" and "d_logits[" in result.message and "central differences" in result.message

    course = tmp_path / "course.py"
    course.write_text(BERNOULLI_NLL_SOURCE)
    answer = tmp_path / "my_bernoulli.py"
    assert main(["exercise", "start", "bernoulli_nll", "-o", str(answer), "--exercises", str(course)]) == 0
    assert main(["exercise", "check", str(answer), "--exercises", str(course)]) == 1
    assert "TODO  bernoulli_nll (B.1)" in capsys.readouterr().out
    answer.write_text("import numpy as np\n\n\ndef bernoulli_nll(x, logits):\n"
                      "    return np.sum(np.logaddexp(0, logits) - x * logits, axis=1), "
                      "1 / (1 + np.exp(-logits)) - x\n")
    assert main(["exercise", "check", str(answer), "--exercises", str(course)]) == 0


def test_gradient_outputs_are_checked_by_central_differences():
    # The reparametrisation and MMD gradients have no oracle but finite differences.
    assert EXERCISES["reparametrise_backward"].gradients
    assert EXERCISES["mmd2_unbiased"].gradients
    case = Case("tiny", X=np.array([[0.0], [1.0]]), Y=np.array([[0.5], [2.0]]), gamma=1.0)
    expected = EXERCISES["mmd2_unbiased"].expected(case)
    value, grad_X = EXERCISES["mmd2_unbiased"].reference(**case.inputs)
    np.testing.assert_allclose(expected["grad_X"], grad_X, atol=1e-8)
    np.testing.assert_allclose(expected["value"], value, rtol=1e-12)


def test_a_file_that_is_not_python_or_exits_on_import_is_an_error_not_a_pass(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"PK")
    with pytest.raises(ExerciseFileError, match="is not a Python file"):
        load_exercise_functions(tmp_path / "model.npz", EXERCISES)
    (tmp_path / "exits.py").write_text("raise SystemExit(0)\n")
    with pytest.raises(ExerciseFileError, match="called exit"):
        load_exercise_functions(tmp_path / "exits.py", EXERCISES)


def test_exercise_errors_are_one_line_named_like_every_command(tmp_path, capsys):
    # README: the command line prints each error as one line "minivae ...: error: ..." (was a bare "error: ").
    assert main(["exercise", "check", str(tmp_path / "missing.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minivae exercise: error: ") and err.count("\n") == 1, err
    assert main(["exercise", "start", "no_such_exercise", "-o", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minivae exercise: error: unknown exercise 'no_such_exercise'") and err.count("\n") == 1, err


def test_adam_with_eps_under_the_root_fails_with_its_hint():
    # √(v̂ + ε) instead of √v̂ + ε agrees to 1e-7 wherever √v̂ ≫ ε, so only a case with
    # tiny gradients tells the two apart (the first four cases alone let it pass).
    adam = EXERCISES["adam_step"]

    def eps_under_root(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        return theta - lr * (m / (1.0 - beta1 ** t)) / np.sqrt(v / (1.0 - beta2 ** t) + eps), m, v
    for seed in (0, 1, 2):
        result = check_exercise(adam, eps_under_root, random_state=seed)
        assert result.status == "failed", str(result)
        assert "theta" in result.message and "√v̂_t + ε, not under it" in result.message


def test_gaussian_nll_with_the_normalising_constant_gets_its_own_hint():
    # The exact NLL, constant included, is the textbook answer most students write first;
    # the statement leaves the constant out, so the check must fail and say why.
    def with_constant(x, x_hat, sigma2):
        r = x_hat - x
        return (0.5 * np.sum(r * r, axis=1) / sigma2 + 0.5 * x.shape[1] * np.log(2 * np.pi * sigma2),
                r / sigma2)
    result = check_exercise(EXERCISES["gaussian_nll"], with_constant)
    assert result.status == "failed"
    assert "nll[" in result.message and "normalising constant (d/2) ln 2πω²" in result.message
