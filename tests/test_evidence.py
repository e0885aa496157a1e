"""The run's evidence: written by the main job (--evidence), even when checks fail, listing the
failures; one merged report from a parallel run; each file written atomically."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import evidence

ROOT = Path(__file__).parents[1]
# [examples, not informative, 0.1 % visible, worst abs, worst rel, tolerance used, failures]
RESULTS = {("sigmoid_mse", "torch", "float64", "W1"): [100, 0, 100, 1e-15, 2e-16, 1e-6, 0],
           ("sigmoid_mse", "torch", "float32", "W1"): [100, 3, 90, 1e-6, 3e-7, 1.5, 2]}
FAILURE = {"test": "tests/test_networks.py::test_network_gradients_match[sigmoid_mse-float32]",
           "phase": "call", "message": "AssertionError: W1 disagrees at index (0, 1): ..."}


def _report(results, failures, failed=0):
    return evidence.build(results, failures, versions={"NumPy": "2.4.6"}, profile="ci", seed="derandomized",
                          commit="abc123", outcome={"passed": 3, "failed": failed})


def test_a_failing_run_says_fail_at_the_top_and_lists_the_failure(tmp_path):
    evidence.write(tmp_path, _report(RESULTS, [FAILURE], failed=1))
    text = (tmp_path / "REPORT.md").read_text()
    assert text.startswith("# Gradient verification: FAIL\n")
    assert FAILURE["test"] in text and FAILURE["message"] in text
    assert "| sigmoid_mse | torch | float32 | W1 | 100 | 3 | 90% | 1.00e-06 | 3.00e-07 | 1.5 | FAILED 2 |" in text
    for words in ("git commit: abc123", "NumPy 2.4.6", "Hypothesis profile: ci", "seed: derandomized", "date: "):
        assert words in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["status"] == "FAIL" and data["failures"] == [FAILURE] and len(data["rows"]) == 2
    assert (tmp_path / "errors.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_clean_run_says_pass_and_overwrites_without_leaving_temporary_files(tmp_path):
    evidence.write(tmp_path, _report(RESULTS, [FAILURE], failed=1))
    clean = {k: [*v[:6], 0] for k, v in RESULTS.items()}
    evidence.write(tmp_path, _report(clean, []))
    assert (tmp_path / "REPORT.md").read_text().startswith("# Gradient verification: PASS\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REPORT.md", "errors.png", "report.json"]


def test_a_row_that_disagreed_fails_the_report_even_without_a_failed_test():
    assert _report(RESULTS, [])["status"] == "FAIL"


def test_a_run_that_ran_nothing_or_exited_non_zero_is_not_a_pass():
    clean = {k: [*v[:6], 0] for k, v in RESULTS.items()}
    assert _report(clean, [])["status"] == "PASS"
    args = dict(versions={}, profile="ci", seed="s", commit="c")
    assert evidence.build(clean, [], outcome={}, **args)["status"] == "FAIL"  # no test ran
    assert evidence.build(clean, [], outcome={"passed": 3}, exit_status=2, **args)["status"] == "FAIL"
    broken = {"test": "tests/test_x.py", "phase": "collect", "message": "ImportError"}
    assert evidence.build(clean, [broken], outcome={"passed": 3, "error": 1}, exit_status=1, **args)["status"] == "FAIL"


def _run(tmp_path, *args):
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--framework=oracle",
               "--hypothesis-profile=dev", "-n", "2", f"--evidence={tmp_path}", *args,
               *(f"tests/test_networks.py::test_network_gradients_match[{family}-float64]"
                 for family in ("sigmoid_mse", "sigmoid_softmax_ce"))]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("mistake", [None, "missing_mean_factor"])
def test_a_parallel_run_writes_one_merged_report(tmp_path, mistake):
    result = _run(tmp_path, *([f"--mistake={mistake}"] if mistake else []))
    data = json.loads((tmp_path / "report.json").read_text())
    subjects = {(r["subject"], r["checker"], r["dtype"]) for r in data["rows"]}
    assert subjects == {("sigmoid_mse", "oracle", "float64"), ("sigmoid_softmax_ce", "oracle", "float64")}, subjects
    text = (tmp_path / "REPORT.md").read_text()
    if mistake is None:
        assert result.returncode == 0, result.stdout[-2000:]
        assert data["status"] == "PASS" and data["tests"] == {"passed": 2}
        assert all(r["examples"] == 15 for r in data["rows"]), data["rows"]  # the dev profile's 15, each
    else:
        assert result.returncode == 1, result.stdout[-2000:]
        assert data["status"] == "FAIL" and data["tests"] == {"failed": 2}
        assert text.startswith("# Gradient verification: FAIL")
        for family in ("sigmoid_mse", "sigmoid_softmax_ce"):
            assert f"test_network_gradients_match[{family}-float64]" in text
        assert "disagrees at index" in text and "params = {" in text  # the reason, and the example as code


def test_without_matplotlib_the_report_is_still_written_and_says_so(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    clean = {k: [*v[:6], 0] for k, v in RESULTS.items()}
    assert evidence.write(tmp_path, _report(clean, [])) == ["REPORT.md", "report.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REPORT.md", "report.json"]
    assert "errors.png was not drawn: matplotlib is not installed" in (tmp_path / "REPORT.md").read_text()
