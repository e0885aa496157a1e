"""`python -m frameworks.check FILE.py:NAME --preset cs231n-layers`: CS231n's layer functions, as the
assignment calls them, with the verdict, the configurations a failure needs, and the mistake named."""

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from frameworks import check as check_tool
from frameworks import layer_check, layer_report
from frameworks.layer_functions import FUNCTIONS

STUDENTS = Path(__file__).parent / "students" / "layers"
CHECKER = "torch"
EXAMPLES = 40


@pytest.fixture(autouse=True)
def _torch():
    pytest.importorskip("torch")


def check(file, name, examples=EXAMPLES):
    return layer_check.check(f"{STUDENTS / file}:{name}", CHECKER, examples)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_correct_layer_function_passes(name):
    result = check("good.py", name)
    assert result.verdict == "PASS", result


# file, function, the mistake named, the configurations it fails at (or None: at all of them), right, wrong
MISTAKES = [
    ("bn_no_mean_terms.py", "batchnorm_backward", "batchnorm_without_mean_terms", None, "output, dgamma, dbeta", "dx"),
    ("conv_stride.py", "conv_backward_naive", "conv_backward_ignores_stride", "only where stride > 1", "output, dw, db",
     "dx"),
    ("conv_crop.py", "conv_backward_naive", "conv_backward_crops_padding_wrong", "only where padding > 0",
     "output, dw, db", "dx"),
    ("pool_window.py", "max_pool_backward_naive", "maxpool_gradient_to_whole_window", None, "output", "dx"),
    ("dropout_no_rescale.py", "dropout_backward", "dropout_without_rescale", None, "output", "dx"),
    ("svm_once.py", "svm_loss", "svm_correct_class_once", "only where more than 2 classes", "loss", "dx"),
    ("layernorm_over_batch.py", "layernorm_backward", "layernorm_over_the_batch", None, "dbeta", "dgamma, dx, output"),
    ("spatial_counting_n.py", "spatial_batchnorm_backward", "spatial_batchnorm_counting_n", None,
     "output, dgamma, dbeta", "dx"),
    ("affine_db_mean.py", "affine_backward", "bias_not_summed", None, "output, dx, dw", "db"),
]


@pytest.mark.parametrize(("file", "name", "mistake", "condition", "right", "wrong"), MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_a_classic_mistake_fails_where_it_shows_and_is_named(file, name, mistake, condition, right, wrong):
    result = check(file, name)
    assert result.verdict == "FAIL", result
    assert f"({mistake})" in " ".join(result.diagnoses), result.diagnoses
    assert f"wrong: {wrong}" + (f"; right: {right}" if right else "") in result.where, result.where
    if condition:
        assert condition in result.where, result.where
    returns = FUNCTIONS[name].returns
    call = f"loss, dx = {name}(x, y)" if "loss" in returns else f"{', '.join('d' + r for r in returns)} = {name}(dout, cache)"
    assert result.example[-1] == call, result.example
    # the call printed is shortened and fails there as everywhere, in the same quantities: run as printed, each
    # differs from good.py's
    assert result.shortened, result
    shown = [line.split(" disagrees")[0] for line in result.wrong]
    assert sorted(shown) == sorted(wrong.split(", ")), (result.wrong, result.where)
    theirs, right = _run(file, result.example), _run("good.py", result.example)
    for quantity in ({"output": "out"}.get(q, q) for q in shown):
        assert not np.allclose(theirs[quantity], right[quantity], rtol=1e-8, atol=1e-12), (result.example, quantity)


def _run(file, lines):
    """What each name holds after the example's lines are run in the namespace of the file's module."""
    spec = importlib.util.spec_from_file_location(f"student_{Path(file).stem}", STUDENTS / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace = dict(vars(module))
    exec("\n".join(lines), namespace)
    return namespace


def test_a_wrong_forward_fails_even_where_its_backward_matches_it():
    result = check("leaky_forward.py", "relu_backward")
    assert result.verdict == "FAIL" and "wrong: output; right: dx" in result.where, result
    assert result.wrong[0].startswith("output disagrees"), result.wrong


def test_dropout_reads_which_p_the_forward_means_off_its_mask():
    keep, drop = check("good.py", "dropout_backward"), check("dropout_2017.py", "dropout_backward")
    assert keep.verdict == drop.verdict == "PASS", (keep, drop)
    assert keep.conventions["p"].startswith("is the keep probability"), keep.conventions
    assert drop.conventions["p"].startswith("is the drop probability"), drop.conventions


def test_a_dropout_forward_that_keeps_neither_p_nor_1_minus_p_is_named():
    result = check("dropout_keeps_all.py", "dropout_backward")
    assert result.verdict == "FAIL", result
    assert "keeps 100% of the units" in result.diagnoses[0] and "neither p" in result.diagnoses[0], result.diagnoses


def test_code_that_raises_gets_a_verdict_naming_its_own_line():
    result = check("crash.py", "relu_backward")
    assert result.verdict == "FAIL", result
    assert "raised" in result.wrong[0] and "crash.py, line" in result.wrong[0], result.wrong


UNPADDED_DW = """

def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), dout.sum(axis=(0, 2, 3))
    HH, WW = w.shape[2:]
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]  # x where xp belongs
                    dw[f] += window * dout[n, f, i, j]
                    dxp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db
"""


def test_code_that_raises_at_some_configurations_is_told_where_with_a_short_call(tmp_path):
    """A dw taken from the unpadded x raises (its windows run off x) only where padding > 0: the check draws on past
    the first crash, says so, and prints the smallest such call with its values zeroed while it raises the same way."""
    (tmp_path / "layers.py").write_text((STUDENTS / "good.py").read_text() + UNPADDED_DW)
    result = layer_check.check(f"{tmp_path / 'layers.py'}:conv_backward_naive", CHECKER, 100)
    assert result.verdict == "FAIL" and "only where padding > 0" in result.where, result
    (diagnosis,) = result.diagnoses
    assert diagnosis.startswith("your code raises ValueError only where padding > 0, at layers.py, line "), diagnosis
    assert result.shortened and "x = np.zeros((" in result.example[0], result.example
    assert "called with dout (" in result.wrong[0] and "cache ((" in result.wrong[0], result.wrong  # shapes, not values


TWO_ERRORS = """

_good_conv_backward = conv_backward_naive


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    if conv_param["pad"] > 0:
        raise ValueError("padded")
    if conv_param["stride"] > 1:
        raise IndexError("strided")
    dx, dw, db = _good_conv_backward(dout, cache)
    return dx, dw, 2 * db
"""


ONE_CHANNEL_ONLY = """

_good_max_pool_backward = max_pool_backward_naive


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    if x.shape[1] > 1:
        raise IndexError("written for one channel")
    return _good_max_pool_backward(dout, cache)
"""


def test_code_that_raises_beyond_one_channel_is_told_so(tmp_path):
    (tmp_path / "layers.py").write_text((STUDENTS / "good.py").read_text() + ONE_CHANNEL_ONLY)
    result = layer_check.check(f"{tmp_path / 'layers.py'}:max_pool_backward_naive", CHECKER, EXAMPLES)
    assert result.verdict == "FAIL" and result.diagnoses[0].startswith("your code raises IndexError only where C > 1"), \
        result.diagnoses


def test_each_error_is_told_apart_and_what_is_wrong_where_it_returns_is_said(tmp_path):
    (tmp_path / "layers.py").write_text((STUDENTS / "good.py").read_text() + TWO_ERRORS)
    result = layer_check.check(f"{tmp_path / 'layers.py'}:conv_backward_naive", CHECKER, 100)
    assert result.verdict == "FAIL", result
    first, also = result.diagnoses
    assert "raises ValueError only where padding > 0" in first or "raises IndexError only where stride > 1" in first, first
    assert ("also raises IndexError only where" in also and "stride > 1" in also) if "ValueError" in first else \
        ("also raises ValueError only where padding > 0" in also), also
    assert any(line.startswith("where your code returns, db is wrong at ") for line in result.wrong), result.wrong


TWO_MISTAKES = """

def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1, order="F").T.dot(dout)  # the trailing axes flattened column-first
    db = np.mean(dout, axis=0)  # averaged over the batch, where the sum belongs
    return dx, dw, db
"""


def test_two_mistakes_in_two_gradients_are_each_named_and_shown(tmp_path):
    (tmp_path / "layers.py").write_text((STUDENTS / "good.py").read_text() + TWO_MISTAKES)
    result = layer_check.check(f"{tmp_path / 'layers.py'}:affine_backward", CHECKER, EXAMPLES)
    # (a condition is what every configuration where dw is wrong shares and some where it is right lacks: 40 draws may
    # also all have N ≠ D there)
    dw_condition = result.where.split("wrong: db, dw (only where ")[-1].split(")")[0]
    assert result.verdict == "FAIL" and "x of more than 2 dimensions" in dw_condition, result.where
    assert "(bias_not_summed): your db equals that variant's" in result.diagnoses[0], result.diagnoses
    assert result.diagnoses[1:] == [f"your dw matches none of the known mistakes (it is wrong only where {dw_condition}); "
                                    f"compare your formulas with {result.explain}"], result.diagnoses
    # the call shown has a 2-D x, where dw is right: its values come from another configuration
    assert [line.split(" disagrees")[0] for line in result.wrong] == ["db"], result.wrong
    assert result.elsewhere[0].startswith("at another configuration (x (") and "dw disagrees too" in result.elsewhere[0]
    assert result.elsewhere[1].startswith("  dw disagrees at index"), result.elsewhere


@pytest.mark.parametrize("name", [n for n, f in FUNCTIONS.items() if f.forward])
def test_the_suggested_explain_command_runs_on_the_layer_itself(name, capsys):
    from reference import __main__ as reference_cli

    config = FUNCTIONS[name].draw(layer_check._seeded(np.random.default_rng(1)))
    command = shlex.split(layer_report.explain_command(config))
    assert command[:4] == ["python", "-m", "reference", "explain"], command
    assert reference_cli.main(command[3:]) == 0
    printed = capsys.readouterr().out.splitlines()[0]  # the network, as reference.sequential([...]) builds it
    layers = printed.removeprefix("reference.sequential([").split("], input_shape")[0]
    ours = ", ".join(f"reference.{layer!r}".replace("reference.reference.", "reference.") for layer in config.layers)
    assert layers.startswith(ours), (layers, ours)
    shape = tuple(config.shape[1:])
    for layer in config.layers:
        shape = layer.output_shape(shape)
    scores = len(shape) == 1 and shape[0] >= 2
    assert (layers == ours) == scores, (layers, ours)  # a head only where the layer's output is not a row of scores


def test_a_wrong_weight_gradient_is_judged_under_its_own_name():
    result = check("conv_dw.py", "conv_backward_naive")
    assert result.verdict == "FAIL" and "wrong: dw; right: output, dx, db" in result.where, result
    assert result.wrong[0].startswith("dw disagrees"), result.wrong


@pytest.mark.parametrize(("name", "said"), [("conv_backward_naive", "conv_forward_naive returned ndarray where (out, cache)"),
                                            ("svm_loss", "svm_loss returned float where (loss, dx)")])
def test_code_that_returns_the_wrong_thing_gets_a_verdict(name, said):
    result = check("malformed.py", name)
    assert result.verdict == "FAIL" and said in result.wrong[0], result.wrong
    assert not result.shortened and result.runs == ["1 configuration drawn, the last failed"], result


def test_the_command_line_json():
    command = [sys.executable, "-m", "frameworks.check", "--preset", "cs231n-layers", "--examples", "20"]
    out = subprocess.run([*command, f"{STUDENTS / 'conv_stride.py'}:conv_backward_naive", "--json"],
                         capture_output=True, text=True)
    data = json.loads(out.stdout)
    assert out.returncode == 1 and data["verdict"] == "FAIL" and data["preset"] == "cs231n-layers", out.stdout


def test_a_class_of_layer_files_each_in_its_own_process(tmp_path, capsys):
    """Class mode for layers: a file whose backward ends the process, or loops swallowing each call's time limit,
    gets its verdict and harms no other file's; one such file alone gets a verdict too, never exit status 0."""
    good = (STUDENTS / "good.py").read_text()
    ends = good + "\n\ndef relu_backward(dout, cache):\n    import os\n    os._exit(0)\n"
    swallows = good + ("\n\ndef relu_backward(dout, cache):\n    while True:\n        try:\n            while True:\n"
                       "                pass\n        except BaseException:\n            pass\n")
    for name, text in (("alice", good), ("bob", ends), ("carol", swallows)):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "layers.py").write_text(text)
    command = [sys.executable, "-m", "frameworks.check", "--preset", "cs231n-layers", "--checker", CHECKER,
               "--examples", "20", "--timeout", "0.5", "--time-limit", "6"]  # the search: 4.5 s
    run = subprocess.run([*command, f"{tmp_path}/class/*/layers.py:relu_backward", "--report", str(tmp_path / "report")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdicts"] == {"alice": "PASS", "bob": "ERROR", "carol": "FAIL"}, summary
    bob = json.loads((tmp_path / "report" / "students" / "bob.json").read_text())
    assert bob["wrong"] == ["your code ended the check's process (exit status 0) before it returned"], bob
    carol = json.loads((tmp_path / "report" / "students" / "carol.json").read_text())
    assert "the check did not finish within --time-limit 6 s" in carol["wrong"][0], carol
    assert (tmp_path / "report" / "students" / "alice.md").read_text().startswith("# alice: PASS\n")
    status = check_tool.main([*command[3:], f"{tmp_path}/class/bob/layers.py:relu_backward", "--json"])  # its child ends
    assert status == 1 and json.loads(capsys.readouterr().out)["verdict"] == "ERROR"


@pytest.mark.parametrize(("options", "said"), [
    (["tests/students/layers/good.py:conv_backward"], "cs231n-layers checks affine_backward"),
    (["tests/students/layers/g*.py:conv_backward"], "cs231n-layers checks affine_backward"),
    (["tests/students/layers/good.py:relu_backward", "--jobs", "-1"], "--jobs must be 0"),
    (["tests/students/layers/good.py:relu_backward", "--time-limit", "nan"], "--time-limit must be a positive number"),
    (["tests/students/layers/good.py:relu_backward", "--gradescope"], "give --report DIR too")])
def test_a_bad_option_is_a_usage_error_before_any_file_is_checked(options, said, capsys):
    with pytest.raises(SystemExit) as ended:
        check_tool.main([*options, "--preset", "cs231n-layers"])
    assert ended.value.code == 2 and said in capsys.readouterr().err


def test_the_dropout_convention_is_quoted_at_the_configuration_shown():
    """The p the convention line quotes is the p of the failing call printed under it."""
    result = check("dropout_no_rescale.py", "dropout_backward")
    p = result.conventions["p"].rsplit("at p = ", 1)[1].rstrip(")")
    assert f"{{'p': {p}," in "\n".join(result.example), (result.conventions, result.example)


def test_a_layer_check_past_its_time_limit_says_so(monkeypatch):
    from agreement import points
    monkeypatch.setattr(points, "_END", 0.0)  # long past: no configuration is drawn
    result = check("good.py", "relu_backward")
    assert result.verdict == "ERROR" and result.wrong[0].startswith(
        f"the check stopped near --time-limit after 0 of {EXAMPLES} configurations"), result
