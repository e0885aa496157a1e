"""`python -m frameworks.check`: pointed at one small buggy implementation per classic mistake
(tests/student_backprop.py), it fails and names that mistake; it passes a correct one."""

import subprocess
import sys
from pathlib import Path

import pytest

import reference
from frameworks import check
from tests import student_backprop as student

ROOT = Path(__file__).parents[1]
NET = reference.sigmoid_softmax_ce(10, 5, 10)
DIAGNOSES = {
    "missing_mean": "missing 1/N (mean over the batch)",
    "sign_flipped": "sign flipped",
    "transposed": "transposed",
    "missing_sigmoid_derivative": "missing the sigmoid derivative σ′",
    "sigmoid_instead_of_derivative": "σ used instead of σ′",
    "bias_not_summed": "bias gradient not summed over the batch",
    "softmax_without_y": "softmax gradient without subtracting y",
}


def _run(function, examples=100):
    lines = []
    status = check.run(function, NET, "oracle", examples, out=lines.append)
    return status, lines


def _diagnoses(lines):
    start = next(i for i, line in enumerate(lines) if line.startswith("Diagnosis"))
    return [line.strip() for line in lines[start + 1:] if line.startswith("  ")]


@pytest.mark.parametrize(("name", "diagnosis"), DIAGNOSES.items())
def test_each_classic_mistake_is_named(name, diagnosis):
    status, lines = _run(getattr(student, name))
    assert status == 1 and lines[0].startswith("FAIL"), lines
    text = "\n".join(lines)
    assert "The smallest failing example Hypothesis found:" in text and "params['W1'] = np.array(" in text
    assert " is wrong: at index " in text or " has shape " in text  # the wrong gradient, named
    found = _diagnoses(lines)
    assert len(found) == 1 and found[0].startswith(diagnosis), f"expected {diagnosis!r}, got {found}"


@pytest.mark.parametrize(("name", "sizes", "diagnosis"), [
    ("mse_column_hidden_derivative_missing", (3, 4, 2), "missing the sigmoid derivative σ′ (only in the sigmoid after W1)"),
    ("mse_column_weight_gradient_transposed", (4, 4, 2), "transposed: your W1 is the right gradient transposed"),
])
def test_a_mistake_in_one_layer_of_the_textbook_network_is_named_with_its_place(name, sizes, diagnosis):
    net = reference.sigmoid_mse(*sizes, layout="column")
    lines = []
    assert check.run(getattr(student, name), net, "oracle", 100, out=lines.append) == 1
    assert _diagnoses(lines) == [diagnosis], lines


def test_the_textbook_network_in_column_layout_passes_when_right():
    lines = []
    assert check.run(student.mse_column_correct, reference.sigmoid_mse(3, 4, 2, layout="column"), "oracle", 50,
                     out=lines.append) == 0, lines


def test_an_assert_in_the_users_code_is_reported_as_their_exception():
    with pytest.raises(AssertionError, match="student code that asserts"):
        _run(student.with_an_assert, examples=50)


def test_a_mistake_that_is_not_classic_is_said_to_match_nothing():
    status, lines = _run(student.wrong_in_a_new_way)
    assert status == 1
    assert any("none of the classic mistakes matches" in line for line in lines), lines


def test_a_correct_implementation_passes_and_says_what_was_checked():
    status, lines = _run(student.correct)
    assert status == 0 and lines[0].startswith("PASS"), lines
    assert "checked: loss, W1, b1, W2, b2, x" in "\n".join(lines)


def test_gradients_not_returned_are_skipped_and_said_so():
    status, lines = _run(student.correct_without_dx, examples=20)
    assert status == 0
    text = "\n".join(lines)
    assert "checked: loss, W1, b1, W2, b2\n" in text + "\n" and "skipped, not returned by your function: x" in text


def test_gradients_not_returned_are_said_so_on_a_failure_too():
    def wrong_and_partial(params, x, y):
        loss, grads = student.sign_flipped(params, x, y)
        return loss, {k: v for k, v in grads.items() if k != "x"}

    status, lines = _run(wrong_and_partial)
    assert status == 1 and "  (not checked, not returned by your function: x)" in lines


def test_the_command_line_exit_status_and_usage_errors():
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "frameworks.check", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)

    base = ["--network", "sigmoid_softmax_ce", "--sizes", "10,5,10", "--examples", "20"]
    assert cli("tests/student_backprop.py:correct", *base).returncode == 0
    failing = cli("tests/student_backprop.py:sign_flipped", *base)
    assert failing.returncode == 1 and "sign flipped" in failing.stdout
    missing = cli("tests/student_backprop.py:no_such_function", *base)
    assert missing.returncode == 2 and "has no function 'no_such_function'" in missing.stderr
    sizes = cli("tests/student_backprop.py:correct", "--network", "sigmoid_softmax_ce", "--sizes", "10,5")
    assert sizes.returncode == 2 and "--sizes takes D,H,K" in sizes.stderr
    letters = cli("tests/student_backprop.py:correct", "--network", "sigmoid_softmax_ce", "--sizes", "10,x,3")
    assert letters.returncode == 2 and "--sizes takes D,H,K as integers" in letters.stderr
    none = cli("tests/student_backprop.py:correct", *base[:-1], "0")
    assert none.returncode == 2 and "--examples must be at least 1" in none.stderr
    asserting = cli("tests/student_backprop.py:with_an_assert", *base)
    assert asserting.returncode == 1 and "raised an exception" in asserting.stderr
    assert "student code that asserts" in asserting.stderr
