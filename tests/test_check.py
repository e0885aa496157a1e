"""`python -m frameworks.check` on f(params, x, y) (--network): pointed at one small buggy implementation
per classic mistake (tests/student_backprop.py), it fails and names that mistake; it passes a correct
one; and from the command line it keeps to its exit statuses and to one JSON object under --json."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import frameworks
from frameworks import check, presets, submission
from tests import student_backprop as student

ROOT = Path(__file__).parents[1]
CHECKER = "torch" if not frameworks.unavailable_reason("torch") else "oracle"
DIAGNOSES = {
    "missing_mean": "missing 1/N (mean over the batch)",
    "sign_flipped": "sign flipped",
    "transposed": "transposed: your W2 and W1 are the right gradient transposed",
    "missing_sigmoid_derivative": "missing the sigmoid derivative σ′",
    "sigmoid_instead_of_derivative": "σ used instead of σ′",
    "bias_not_summed": "bias gradient not summed over the batch: your b2 and b1 have one row per example",
    "softmax_without_y": "softmax gradient without subtracting y",
    "softmax_over_the_matrix": "the softmax normalized over the whole matrix where each example's row belongs",
}


def _check(function, network="sigmoid_softmax_ce", sizes=(10, 5, 10), examples=100, dtype=np.float64, **options):
    target = submission.Target(Path(student.__file__), function.__name__, function)
    result = check.check(target, [presets.function_preset(network, sizes, **options)], CHECKER, examples, dtype)
    return result, "\n".join(check.text(result, CHECKER))


@pytest.mark.parametrize(("name", "diagnosis"), DIAGNOSES.items())
def test_each_classic_mistake_is_named(name, diagnosis):
    result, text = _check(getattr(student, name))
    assert result.verdict == "FAIL" and text.startswith("FAIL"), text
    assert "The smallest failing call found" in text and "W1 = np.array(" in text
    assert f"loss, grads = {name}(params, x, y)" in text
    assert any(" disagrees at index " in line or " has shape " in line for line in result.wrong), text
    assert len(result.diagnoses) == 1 and result.diagnoses[0].startswith(diagnosis), f"expected {diagnosis!r}:\n{text}"


@pytest.mark.parametrize(("name", "sizes", "diagnosis"), [
    ("mse_column_hidden_derivative_missing", (3, 4, 2), "missing the sigmoid derivative σ′ (only in the sigmoid after W1)"),
    ("mse_column_weight_gradient_transposed", (4, 4, 2), "transposed: your W1 is the right gradient transposed"),
])
def test_a_mistake_in_one_layer_of_the_textbook_network_is_named_with_its_place(name, sizes, diagnosis):
    result, text = _check(getattr(student, name), "sigmoid_mse", sizes, layout="column")
    assert result.diagnoses == [diagnosis], text


@pytest.mark.parametrize(("name", "network", "options", "diagnoses"), [
    ("mse_loss_without_half", "sigmoid_mse", {"layout": "column"},
     ["your loss is exactly 2 × the right value", "your loss is wrong while every gradient is right"]),
    ("mse_delta_halved", "sigmoid_mse", {"layout": "column"}, ["your W2, b2, W1, b1 and x are exactly ½ × the right value"]),
    ("loss_summed", "sigmoid_softmax_ce", {},
     ["your loss is exactly N × the right value (a missing 1/N)", "your loss is wrong while every gradient is right"]),
    ("loss_averaged", "sigmoid_softmax_ce", {"reduction": "sum"},
     ["your loss is exactly 1/N × the right value (an extra 1/N)", "your loss is wrong while every gradient is right"]),
])
def test_a_constant_factor_no_known_mistake_explains_is_named(name, network, options, diagnoses):
    sizes = (3, 4, 2) if network == "sigmoid_mse" else (10, 5, 10)
    result, text = _check(getattr(student, name), network, sizes, **options)
    assert result.diagnoses == diagnoses, text


def test_any_mlp_network_in_float32_from_the_command_line():
    base = ["--network", "mlp", "--sizes", "4,6,5,3", "--hidden", "relu,tanh", "--output", "softmax", "--loss",
            "cross_entropy", "--l2", "0.01", "--dtype", "float32", "--checker", "oracle", "--examples", "30", "--json"]
    right = json.loads(cli("tests/students/misbehaving/_reference.py:correct", *base).stdout)
    assert right["verdict"] == "PASS" and right["checked"] == ["loss", "W1", "b1", "W2", "b2", "W3", "b3", "x"], right
    wrong = json.loads(cli("tests/students/misbehaving/_reference.py:relu_passes_negatives", *base).stdout)
    assert wrong["verdict"] == "FAIL", wrong
    assert wrong["diagnoses"] == ["ReLU gradient passed through where the input is < 0"], wrong


@pytest.mark.parametrize(("output", "loss"), [("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy"),
                                              ("identity", "svm"), ("tanh", "mse")])
def test_the_reference_itself_passes_as_any_output_and_loss_mlp_builds(output, loss):
    """--network mlp draws the targets each loss takes (labels for the hinge loss, K ≥ 2 for classes)."""
    from tests.students.misbehaving import _reference
    function = getattr(_reference, f"correct_{output}_{loss}")
    target = submission.Target(Path(_reference.__file__), function.__name__, function)
    preset = presets.function_preset("mlp", (4, 6, 3), hidden="tanh", output=output, loss=loss)
    result = check.check(target, [preset], CHECKER, 30)
    assert result.verdict == "PASS", "\n".join(check.text(result, CHECKER))


def test_the_place_of_the_error_is_named_in_backward_order():
    result, text = _check(student.missing_sigmoid_derivative)
    assert result.where == ("your loss is right; W2 and b2 are right; W1, b1 and x are wrong: the error is in "
                            "δ1 = (δ2 W2ᵀ) ⊙ σ′(z1)"), text


def test_the_textbook_network_in_column_layout_passes_when_right():
    result, text = _check(student.mse_column_correct, "sigmoid_mse", (3, 4, 2), examples=50, layout="column")
    assert result.verdict == "PASS", text


def test_an_assert_in_the_users_code_is_their_crash_with_their_line():
    result, text = _check(student.with_an_assert, examples=50)
    assert result.verdict == "FAIL", text
    assert "your code raised AssertionError: student code that asserts on its input, at student_backprop.py" in text


def test_a_mistake_that_is_not_classic_is_said_to_match_nothing():
    result, text = _check(student.wrong_in_a_new_way)
    assert result.verdict == "FAIL" and result.diagnoses == [], text
    assert "Diagnosis: none of the known mistakes matches" in text


def test_a_correct_implementation_passes_and_says_what_was_checked():
    result, text = _check(student.correct)
    assert result.verdict == "PASS", text
    assert "checked: loss, W1, b1, W2, b2, x" in text


def test_a_correct_implementation_passes_in_float32_too():
    def correct32(params, x, y):
        loss, grads = student.correct(params, x, y)
        return loss, {k: v.astype(np.float32) for k, v in grads.items()}

    result, text = _check(correct32, examples=50, dtype=np.float32)
    assert result.verdict == "PASS", text


def test_gradients_not_returned_are_skipped_and_said_so():
    result, text = _check(student.correct_without_dx, examples=20)
    assert result.verdict == "PASS"
    assert "checked: loss, W1, b1, W2, b2\n" in text + "\n" and "not returned by your code, so not checked: x" in text


def test_gradients_not_returned_are_said_so_on_a_failure_too():
    def wrong_and_partial(params, x, y):
        loss, grads = student.sign_flipped(params, x, y)
        return loss, {k: v for k, v in grads.items() if k != "x"}

    result, text = _check(wrong_and_partial)
    assert result.verdict == "FAIL" and "  (not checked, not returned by your code: x)" in text


def test_a_sum_over_the_batch_without_the_flag_is_a_reduction_mismatch():
    def summed(params, x, y):
        loss, grads = student.correct(params, x, y)
        return loss * len(x), {k: v * len(x) for k, v in grads.items()}

    result, text = _check(summed)
    assert result.diagnoses == [
        "the reduction differs: your loss and every gradient are exactly N × the expected ones, so your function sums "
        "over the batch where this check expects the mean; run with --reduction sum"], text


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "frameworks.check", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


BASE = ["--network", "sigmoid_softmax_ce", "--sizes", "10,5,10", "--examples", "20", "--checker", "oracle"]


def test_the_command_line_exit_status():
    assert cli("tests/student_backprop.py:correct", *BASE).returncode == 0
    failing = cli("tests/student_backprop.py:sign_flipped", *BASE)
    assert failing.returncode == 1 and "sign flipped" in failing.stdout
    for args, message in [(["no_such_file.py:f", *BASE], "no_such_file.py: no such file"),
                          (["tests/student_backprop.py:no_such_function", *BASE], "has no function or class 'no_such_function'")]:
        usage = cli(*args)  # the file is read in a child process, whose output a subprocess shows whole
        assert usage.returncode == 2 and message in usage.stderr and "Traceback" not in usage.stderr, (args, usage.stderr)
    usage = cli("no_such_file.py:f", *BASE, "--json")
    assert usage.returncode == 2 and "no such file" in json.loads(usage.stdout)["wrong"][0], usage.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["tests/student_backprop.py:correct", "--network", "sigmoid_softmax_ce", "--sizes", "10,x,3"],
     "--sizes takes integers separated by commas"),
    (["tests/student_backprop.py:correct", *BASE[:-3], "0"], "--examples must be at least 1"),
    (["tests/student_backprop.py:correct", "--sizes", "10,5,10"], "give --preset"),
    (["tests/student_backprop.py:correct", "--preset", "cs224n-q2", "--reg", "0.1"], "--reg applies to")])
def test_a_usage_error_exits_2_and_says_what_is_wrong(args, message, capsys, monkeypatch):
    """Options refused before any file is read, in the test's process (the command line's own exit status is
    checked above): 0.7 s less a case."""
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as ended:
        check.main(args)
    err = capsys.readouterr().err
    assert ended.value.code == 2 and message in err and "Traceback" not in err, err
    with pytest.raises(SystemExit) as ended:
        check.main([*args, "--json"])
    out = capsys.readouterr().out
    said = json.loads(out)  # one object on stdout, for a program that reads it
    assert ended.value.code == 2 and said["verdict"] == "ERROR" and message in said["wrong"][0], out
    assert said["target"] == "tests/student_backprop.py:correct" and not said["shortened"], said


def test_a_usage_errors_json_object_reads_the_options_as_argparse_does(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as ended:  # --js abbreviates --json; --report's folder has a ":" in its name
        check.main(["--js", "--preset=cs224n-q2", "--report", "out:dir", "--checker", "oracle", "no_such_file.py:f"])
    said = json.loads(capsys.readouterr().out)
    assert ended.value.code == 2 and "no file matches" in said["wrong"][0], said
    assert (said["target"], said["preset"], said["checker"]) == ("no_such_file.py:f", "cs224n-q2", "oracle"), said


def test_json_prints_one_object_and_nothing_else_even_when_the_code_prints():
    run = cli("tests/students/misbehaving/prints.py:loss_and_grads", "--network", "sigmoid_softmax_ce", "--sizes", "3,4,3",
              "--checker", "oracle", "--examples", "20", "--json")
    result = json.loads(run.stdout)  # exactly one JSON document: anything else on stdout fails to parse
    assert run.returncode == 0 and result["verdict"] == "PASS" and result["diagnoses"] == []
    assert set(result) >= {"verdict", "diagnoses", "wrong", "notes", "conventions"}
    assert "debug: called with" in run.stderr


MISBEHAVING = {  # file in tests/students/misbehaving: (verdict, what the report says, the diagnoses)
    "raises": ("FAIL", "your code raised RuntimeError: not implemented yet, at raises.py, line 5",
               ['your code raises RuntimeError at every shape tried, at raises.py, line 5: '
                'raise RuntimeError("not implemented yet")']),
    "loops": ("FAIL", "your code did not return within 2 s (an infinite loop?), stopped at loops.py, line 5",
              ["your code does not return (an infinite loop?), stopped at loops.py, line 5: while True:"]),
    "exits": ("FAIL", "your code raised SystemExit: 3, at exits.py, line 6: sys.exit(3)",
              ["your code raises SystemExit at every shape tried, at exits.py, line 6: sys.exit(3)"]),
    "kills": ("ERROR", "your code ended the check's process (exit status 0) before it returned", []),
    "returns_none": ("FAIL", "the function returned a NoneType; a pair (loss, gradients) belongs there", []),
    "returns_a_string": ("FAIL", "the gradients are a str; a dict {'W1': ..., ...} belongs there", []),
    "returns_no_gradients": ("FAIL", "your code returned no gradient W1\nyour code returned no gradient b1", []),
    "lowercase_keys": ("FAIL", "your code returned no gradient W1 (it returned 'w1': the keys are case-sensitive)", []),
    "loss_none": ("FAIL", "loss is None: a number belongs there (is the loss computed?)", []),
    "wrong_shape": ("FAIL", "W1 has shape (2, 1) (yours) where oracle's is (1, 2)",  # Hypothesis shrinks to D=1, H=2
                    ["transposed: your W1 is the right gradient transposed"]),
    "extra_column": ("FAIL", "W1 has shape (1, 2) (yours) where oracle's is (1, 1)", []),
    "returns_nan": ("FAIL", "b1 disagrees at index (0,): yours nan", []),
    "float32_step": ("FAIL", "W1 disagrees at index", [
        "your results are right to 4.3e-08 relative, not to float64's precision: a step computed in float32, or an ε "
        "added inside a log?"]),
    "in_place_message": ("FAIL", "your code raised ValueError: cannot operate in place", [
        'your code raises ValueError at every shape tried, at in_place_message.py, line 5: '
        'raise ValueError("cannot operate in place")']),
    "import_error": ("ERROR", "your file could not be imported: it raised ModuleNotFoundError", []),
    "syntax_error": ("ERROR", "your file could not be imported: it raised SyntaxError: unmatched ')' (syntax_error.py, "
                              "line 5), at syntax_error.py, line 5: return (params, x, y))", []),
    "prints": ("PASS", "", []),
    "os_system": ("PASS", "", []),  # it writes to file descriptor 1: the JSON below still parses
    "leaves_a_thread": ("PASS", "", []),  # a thread that never ends does not keep its check running
}


def test_whatever_the_code_does_the_tool_gives_a_verdict_and_never_its_traceback():
    run = cli("tests/students/misbehaving/[!_]*.py:loss_and_grads", "--network", "sigmoid_softmax_ce", "--sizes", "3,4,3",
              "--checker", "oracle", "--timeout", "2", "--time-limit", "20", "--json")
    assert "Traceback" not in run.stderr, run.stderr
    results = json.loads(run.stdout)["results"]  # one JSON document, though two of them print to stdout
    assert set(results) == set(MISBEHAVING)
    for name, (verdict, says, diagnoses) in MISBEHAVING.items():
        report = results[name]
        assert report["verdict"] == verdict and says in "\n".join(report["wrong"]), (name, report)
        assert report["diagnoses"] == diagnoses, (name, report)
        assert report["target"] == f"tests/students/misbehaving/{name}.py:loss_and_grads", report  # as one file's has it
        assert report["example"] or not report["shortened"], (name, report)  # no call printed, none shortened


def test_code_that_works_only_at_the_sizes_given_is_told_so():
    def fixed_sizes(params, x, y):
        if params["W1"].shape != (10, 5) or params["W2"].shape != (5, 10):  # its sizes written in
            raise ValueError("cannot reshape array")
        return student.correct(params, x, y)

    result, text = _check(fixed_sizes, examples=30)
    assert any("at every layer size but the 10,5,10 given" in d for d in result.diagnoses), text


def test_the_shortened_call_fails_as_the_point_found_does():
    """Zeroing b2 would hide that the code halves it in place: the shortened call keeps showing that, and the same
    quantities wrong (sigmoid used for its derivative: W1, b1 and x)."""
    def halves_b2_in_place(params, x, y):
        loss, grads = student.sigmoid_instead_of_derivative({k: v.copy() for k, v in params.items()}, x, y)
        params["b2"] *= 0.5
        return loss, grads

    result, text = _check(halves_b2_in_place, sizes=(3, 4, 3))
    assert "your code changed its input params in place" in result.wrong, text
    assert "inputs changed in place: params" in result.diagnoses, text
    assert not any(line.startswith("  b2 = np.array([0.0, 0.0") for line in text.splitlines()), text
    shown = {line.split(" disagrees")[0] for line in result.wrong if " disagrees " in line}
    assert shown == {"W1", "b1", "x"}, text


def test_the_shortened_call_keeps_the_codes_numbers_finite():
    """A code whose W1 gradient is 0/0 where x is all zero: zeroing x would show a NaN instead of its mistake."""
    def nan_where_x_is_zero(params, x, y):
        loss, grads = student.sigmoid_instead_of_derivative(params, x, y)
        scale = np.abs(x).sum()
        with np.errstate(invalid="ignore"):
            return loss, {**grads, "W1": grads["W1"] * scale / scale}

    result, text = _check(nan_where_x_is_zero, sizes=(3, 4, 3))
    assert result.verdict == "FAIL" and "nan" not in " ".join(result.wrong).lower(), text


def test_code_wrong_only_at_the_full_sizes_and_the_largest_batch_fails():
    def wrong_at_eight(params, x, y):
        loss, grads = student.correct(params, x, y)
        return loss, {**grads, "b2": grads["b2"] * (2.0 if len(x) == 8 and params["W1"].shape == (10, 5) else 1.0)}

    result, text = _check(wrong_at_eight)
    assert result.verdict == "FAIL" and "b2 disagrees" in text, text
    assert result.runs == ["100 random examples agreed, then one at full size failed"], text


def test_a_failure_says_how_many_random_examples_were_checked():
    rows = []  # the batch size of each call the search makes

    def wrong_from_three_rows(params, x, y):
        rows.append(len(x))
        loss, grads = student.correct(params, x, y)
        return loss, {**grads, "b2": grads["b2"] * (2.0 if len(x) >= 3 else 1.0)}

    result, text = _check(wrong_from_three_rows)
    found = re.fullmatch(r"random example (\d+) of 100 failed", result.runs[0])
    assert result.verdict == "FAIL" and found, text
    # this preset reads no convention, so the code's first calls are the random examples, one call each: the first
    # with 3 rows is the one that failed
    first = next(i for i, n in enumerate(rows) if n >= 3)
    assert int(found.group(1)) == first + 1 > 1, (rows, text)
    result, text = _check(student.sign_flipped)  # wrong at every point: at the first
    assert result.runs == ["random example 1 of 100 failed"], text


def test_a_crash_prints_its_call_shortened_and_runnable():
    def raises_from_two_rows(params, x, y):
        if len(x) >= 2:
            raise ValueError("operands could not be broadcast together")
        return student.correct(params, x, y)

    result, text = _check(raises_from_two_rows)
    assert result.verdict == "FAIL" and result.shortened and result.example, text
    assert result.example[-1] == "loss, grads = raises_from_two_rows(params, x, y)", text
    with pytest.raises(ValueError, match="could not be broadcast"):  # the call printed raises as the report says
        exec("\n".join(result.example), {"np": np, "raises_from_two_rows": raises_from_two_rows})


def test_an_argument_is_described_by_its_shapes_whatever_it_holds():
    """What a crash line says the code was called with: a cache by its arrays' shapes, bounded, and never an error of
    the check's own, even for a list that holds itself or an object whose __repr__ raises."""
    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no")

    loop = [np.zeros((2, 3))]
    loop.append(loop)
    assert submission.describe((np.zeros((2, 3)), np.zeros(4), {"stride": 2, "pad": 1})) == "((2, 3), (4,), {stride: 2, pad: 1})"
    assert submission.describe(loop).startswith("[(2, 3), [(2, 3), ")
    assert submission.describe(Unprintable()) == "Unprintable"
    assert submission.describe(tuple(range(20))) == "(0, 1, 2, 3, 4, 5, 6, 7, …)"


def _slow_but_right(params, x, y):
    import time

    from tests.students.misbehaving import _reference
    time.sleep(0.02)
    return _reference.correct_softmax_cross_entropy(params, x, y)


def test_slow_right_code_stopped_by_the_time_limit_is_told_so_not_blamed_for_a_loop(monkeypatch):
    """In a child, the search stops near --time-limit (agreement.points.end_by): the verdict says how far it got and
    how long a call took, an ERROR to run again with more time, not a FAIL for an infinite loop."""
    import time

    from agreement import points
    monkeypatch.setattr(points, "_END", time.monotonic() + 1.0)
    target = submission.Target(Path(__file__), "_slow_but_right", _slow_but_right)
    preset = presets.function_preset("mlp", (4, 6, 3), hidden="tanh", output="softmax", loss="cross_entropy")
    result = check.check(target, [preset], CHECKER, 100)
    assert result.verdict == "ERROR", result
    (said,) = result.wrong
    assert said.startswith("the check stopped near --time-limit after ") and " of 100 random examples, each " in said
    assert "check it again with a larger --time-limit" in said and "loop" not in said, said


def _raises_unless_h_is_k_and_then_wrong(params, x, y):
    from tests.students.misbehaving import _reference
    if params["W1"].shape[1] != params["W2"].shape[1]:
        raise ValueError("shapes not aligned")
    loss, grads = _reference.correct_softmax_cross_entropy(params, x, y)
    return loss, {**grads, "b1": 2 * grads["b1"]}


@pytest.mark.parametrize(("raises_when", "said"), [
    (lambda x, W1: len(x) > W1.shape[1], "exactly when N > H"),  # rows indexed by a hidden unit's number, say
    (lambda x, W1: len(x) != x.shape[1] and x.shape[1] > 1, "exactly when N ≠ D and D > 1"),
])
def test_a_crash_is_told_when_one_size_exceeds_another_or_is_more_than_one(raises_when, said):
    def crashes(params, x, y):
        if raises_when(x, params["W1"]):
            raise IndexError("index out of bounds")
        return student.correct(params, x, y)

    result, text = _check(crashes)
    assert result.diagnoses[0].startswith(f"your code raises IndexError {said} (N: the batch"), text


def test_code_that_raises_at_some_shapes_is_also_judged_where_it_does_not():
    """Code that raises exactly when H ≠ K is not thereby right when H = K: what it gets wrong there is shown."""
    target = submission.Target(Path(__file__), "_raises_unless_h_is_k_and_then_wrong", _raises_unless_h_is_k_and_then_wrong)
    preset = presets.function_preset("mlp", (4, 6, 3), hidden="tanh", output="softmax", loss="cross_entropy")
    result = check.check(target, [preset], CHECKER, 100)
    text = "\n".join(check.text(result, CHECKER))
    assert result.diagnoses[0].startswith("your code raises ValueError exactly when H ≠ K"), text
    assert result.elsewhere[0].startswith("where your code does not raise (sizes ") and \
        result.elsewhere[0].endswith("b1 disagrees too:") and result.elsewhere[1].startswith("  b1 disagrees at "), text
