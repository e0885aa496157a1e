"""`python -m frameworks.check --preset ...` on students' code as they wrote it (tests/students/): each
correct one passes under the convention its course allows, each wrong one fails with its mistake named.

A row: the file, what must be in the report's diagnoses (None: it passes), and what the report says
about where the error is or which convention it read. Each file is whole, written the way students
write it, with one mistake (mallory has two)."""

import re
from pathlib import Path

import pytest

import frameworks
from frameworks import check, presets

STUDENTS = Path(__file__).parent / "students"
CHECKER = "torch" if not frameworks.unavailable_reason("torch") else "oracle"

CS224N = {
    "alice": (None, "reduction sum (read off your loss and gradients)"),
    "bob": (None, "reduction mean (read off your loss and gradients)"),
    "carol": (["σ′ evaluated at z instead of σ(z): z(1 − z) where σ(z)(1 − σ(z)) belongs"],
              "the error is in δ1 = (δ2 W2ᵀ) ⊙ σ′(z1)"),
    "dave": (["σ′ applied twice"], "W2 and b2 are right; W1 and b1 are wrong"),
    "erin": (["a sigmoid output where the softmax belongs: ŷ = σ(z) in the loss and in ŷ − y (with reduction sum)"],
             "your loss is wrong; W2, b2, W1 and b1 are wrong: the error is in the forward pass, which your loss and every "
             "gradient share"),
    "frank": (["your code raises ValueError exactly when N ≠ K and N > 1 (N: the batch; D, H, K: the layer sizes), "
               "at q1_softmax.py, line 6: x = x - np.max(x, axis=1)"],
              "the error is in δ2"),  # where it returns, a sum where the mean belongs: N × every value, not the forward
    "heidi": (["transposed, then flattened: your W1 is the right gradient transposed, read back in the right gradient's "
               "shape"], "the error is in ∂L/∂W1 = xᵀ δ1"),
    "ivan": (["bias gradient not summed over the batch (averaged)"], "the error is in ∂L/∂b2 = Σ_n δ2"),
    "judy": (["missing 1/N (mean over the batch) in every gradient: your loss averages over the batch and your "
              "gradients sum"], "reduction mean (read off your loss)"),
    "mallory": (["σ′ evaluated at z instead of σ(z): z(1 − z) where σ(z)(1 − σ(z)) belongs",
                 "bias gradient not summed over the batch (averaged)"],
                "the error is in ∂L/∂b2 = Σ_n δ2 and in δ1 = (δ2 W2ᵀ) ⊙ σ′(z1)"),
    "oscar": (["inputs changed in place: labels"], "your code changed its input labels in place"),
    "trent": (["σ′ evaluated at σ(z) instead of z: σ′(σ(z)) where σ′(z) = σ(z)(1 − σ(z)) belongs"],
              "the error is in δ1 = (δ2 W2ᵀ) ⊙ σ′(z1)"),
    "victor": (["the softmax taken over the batch (axis 0) where each example's row belongs (with reduction sum)"],
               "the error is in the forward pass"),
}

CS231N = {
    "correct_2017": (None, "regularization reg·ΣW² (read off your loss and gradients)"),
    "correct_2016": (None, "regularization ½·reg·ΣW² (read off your loss and gradients)"),
    "relu_mask_strict": (None, "regularization reg·ΣW²"),  # its ReLU mask is z < 0: the kink is never drawn
    "biases_regularized": (["biases regularized: your loss carries reg·Σb², and your b2 and b1 gradients follow it"],
                           "b2 and b1 are wrong"),
    "bias_grad_regularized": (["your b2 and b1 gradients carry a regularization term (2·reg·b) that your loss lacks"],
                              "your loss is right"),
    "reg_only_in_gradients": (["a regularization term in your gradients but not in your loss: your loss lacks reg·ΣW²",
                               "your loss is wrong while every gradient is right"], "read off your gradients"),
    "reg_only_in_loss": (["a regularization term in your loss but not in your gradients: your W2 and W1 gradients "
                          "lack 2·reg·W"], "the error is in ∂L/∂W2 = h1ᵀ δ2 + 2·reg·W2"),
    "reg_only_in_loss_2016": (["a regularization term in your loss but not in your gradients: your W2 and W1 gradients "
                               "lack reg·W"], "the error is in ∂L/∂W2 = h1ᵀ δ2 + reg·W2 and in ∂L/∂W1 = xᵀ δ1 + reg·W1"),
    "reg_divided_by_n": (["the regularization divided by N with the data loss: reg·ΣW²/N where reg·ΣW² belongs, in "
                          "your loss and your gradients"], None),
    "summed_over_batch": (["the reduction differs: your loss and every gradient are exactly N × the expected ones, so "
                           "your function sums over the batch where this check expects the mean; the course averages "
                           "over the batch: divide your loss and its gradients by N"], None),
    "dscores_wrong_index": (["every gradient is wrong while your loss is right"],
                            "your loss is right; W2, b2, W1 and b1 are wrong: the error is in δ2 = (ŷ − y) / N"),
    "softmax_crash": (["your code raises ValueError exactly when N ≠ K and N > 1 (N: the batch; D, H, K: the layer "
                       "sizes), at softmax_crash.py, line 27: scores = scores - np.max(scores, axis=1)"], None),
    "sign_flipped_loss": (["your loss is exactly −1 × the right value (sign flipped)",
                           "your loss is wrong while every gradient is right"], "every gradient you return is right"),
}


def _report(target, preset_list):
    result = check.check(target, preset_list, CHECKER, 100, timeout=10)
    return result, "\n".join(check.text(result, CHECKER))


def _called_wrong(where) -> set[str]:
    """The quantities "Where" calls wrong ("your loss is right; b2, W1 and b1 are wrong: the error is in ...")."""
    names = set()
    for part in where.split(":")[0].split(";"):
        for suffix in (" are wrong", " is wrong"):
            if part.strip().endswith(suffix):
                names |= set(re.split(r", | and ", part.strip().removesuffix(suffix).removeprefix("your ")))
    return names


def _assert_report(result, text, diagnoses, said):
    if diagnoses is None:
        assert result.verdict == "PASS", text
    else:
        assert result.verdict == "FAIL", text
        assert result.diagnoses == diagnoses, text  # exactly these: a mistake named by coincidence would fail here
        shown = {line.split()[0] for line in [*result.wrong, *result.elsewhere] if " disagrees at " in line}
        assert _called_wrong(result.where) <= shown, f"Where names a quantity whose values are not shown:\n{text}"
    if said:
        assert said in text, f"{said!r} not said:\n{text}"


@pytest.mark.parametrize(("student", "expected"), CS224N.items(), ids=list(CS224N))
def test_cs224n_students(student, expected):
    result, text = _report(f"{STUDENTS / 'cs224n' / student / 'q2_neural.py'}:forward_backward_prop", [presets.CS224N])
    _assert_report(result, text, *expected)


@pytest.mark.parametrize(("student", "expected"), CS231N.items(), ids=list(CS231N))
def test_cs231n_students(student, expected):
    runs = [presets.at(presets.CS231N, reg=r) for r in (0.0, check.DEFAULT_REG)]
    result, text = _report(f"{STUDENTS / 'cs231n' / student}.py:TwoLayerNet", runs)
    _assert_report(result, text, *expected)


def test_a_bias_gradient_returned_as_a_row_is_accepted_with_a_note():
    result, text = _report(f"{STUDENTS / 'cs231n' / 'bias_as_row.py'}:TwoLayerNet",
                           [presets.at(presets.CS231N, reg=0.1)])
    assert result.verdict == "PASS", text
    assert result.notes == ["b1 came back with a leading axis of 1 (a row, (1, n) for the network's (n,)); accepted",
                            "b2 came back with a leading axis of 1 (a row, (1, n) for the network's (n,)); accepted"], text


@pytest.mark.parametrize("reg", [1e-12, 1e-10, 1e3])
def test_a_correct_student_passes_at_a_reg_where_the_two_conventions_agree_or_dominate(reg):
    result, text = _report(f"{STUDENTS / 'cs231n' / 'correct_2016.py'}:TwoLayerNet", [presets.at(presets.CS231N, reg=reg)])
    assert result.verdict == "PASS", text


def test_a_correct_student_checked_at_one_reg_says_so():
    result, text = _report(f"{STUDENTS / 'cs231n' / 'correct_2017.py'}:TwoLayerNet",
                           [presets.at(presets.CS231N, reg=0.25)])
    assert result.verdict == "PASS" and result.runs == ["100 random examples at reg 0.25"], text


def test_code_for_another_assignment_is_told_how_this_preset_calls_it():
    result, text = _report(f"{STUDENTS / 'cs224n' / 'bob' / 'q2_neural.py'}:forward_backward_prop",
                           [presets.at(presets.CS231N, reg=0.1)])
    assert result.verdict == "FAIL" and result.diagnoses == ["your code raises TypeError at every shape tried"], text
    assert "missing 1 required positional argument: 'dimensions'" in text and "submission.py" not in text
    assert "(it is called as TwoLayerNet(input_size, hidden_size, output_size); .params = {W1, b1, W2, b2}" in text


def test_past_the_childs_end_the_verdict_is_given_without_spare_points(monkeypatch):
    """Class mode sets an end from --time-limit (agreement.points.end_by): past it, no spare point is evaluated, so
    mallory's b2, wrong only at N > 1, is not shown, yet the verdict and where it is are; her point is not
    shortened either, and not said to be."""
    from agreement import points
    from frameworks import verify
    search = verify.search

    def then_the_end(*args, **kwargs):  # the end comes just after the search has found mallory's failure
        state = search(*args, **kwargs)
        monkeypatch.setattr(points, "_END", 0.0)
        return state

    monkeypatch.setattr(verify, "search", then_the_end)
    result, text = _report(f"{STUDENTS / 'cs224n' / 'mallory' / 'q2_neural.py'}:forward_backward_prop", [presets.CS224N])
    assert result.verdict == "FAIL" and result.elsewhere == [] and _called_wrong(result.where) == {"W1", "b1"}, text
    assert not result.shortened and "(values shortened while it fails)" not in text, text  # no time left for that
