"""A whole class at once (frameworks.classroom): every submission in its own process, a crash or an
infinite loop harming no other, and the report a teacher reads, as Markdown, JSON and Gradescope's."""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from frameworks import classroom

ROOT = Path(__file__).parents[1]
CLASS = "tests/students/cs224n/*/q2_neural.py:forward_backward_prop"  # 15 submissions (tests/test_presets.py)


def test_the_class_report_of_a_folder_with_a_crash_and_two_infinite_loops(tmp_path):
    """Every student JSON carries its verdict and diagnoses; the summary counts each mistake once per student."""
    # The limits are short so that peggy's loop, which only --time-limit ends, costs 6 s of a core, not 10: a file
    # that returns takes about 0.5 s in its forked child here (under 2 s checked alone, imports included), and its
    # search may run until 6 − 2 · 0.5 − 0.5 = 4.5 s (agreement.points.end_by); grace's loop, which each call's limit
    # ends, takes one --timeout. With --timeout 1 --time-limit 5 the search ended at 2.5 s, and a loaded machine
    # stopped a correct file there.
    run = subprocess.run(
        [sys.executable, "-m", "frameworks.check", CLASS, "--preset", "cs224n-q2", "--report", str(tmp_path),
         "--gradescope", "--checker", "oracle", "--timeout", "0.5", "--time-limit", "6"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.stdout.splitlines()[-1] == f"2 of 15 pass; report in {tmp_path}"
    assert "FAIL: tests/students/cs224n/carol/q2_neural.py:forward_backward_prop" in run.stdout.splitlines()  # its own path
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["students"], summary["pass"], summary["fail"], summary["error"]) == (15, 2, 13, 0)
    verdicts = summary["verdicts"]
    assert [n for n, v in verdicts.items() if v == "PASS"] == ["alice", "bob"]
    # grace loops in plain Python: the time limit of each call stops her; peggy's loop swallows that limit
    # (a bare except), so only the per-file process limit ends her check; frank's softmax crashes when N ≠ K.
    grace = json.loads((tmp_path / "students" / "grace.json").read_text())
    stopped = grace["diagnoses"][0]  # the alarm lands on either line of her two-line loop
    assert re.fullmatch(r"your code does not return \(an infinite loop\?\), stopped at q2_neural.py, line "
                        r"(37: while n < N:|38: cost -= np.sum\(labels\[n\] \* np.log\(yhat\[n\]\)\))", stopped), stopped
    peggy = json.loads((tmp_path / "students" / "peggy.json").read_text())
    assert "the check did not finish within --time-limit 6 s" in peggy["wrong"][0]
    frank = json.loads((tmp_path / "students" / "frank.json").read_text())
    assert any("raises ValueError exactly when N ≠ K and N > 1" in d for d in frank["diagnoses"])
    counted = summary["mistakes"]
    assert counted["σ′ evaluated at z instead of σ(z): z(1 − z) where σ(z)(1 − σ(z)) belongs"] == 2  # carol, mallory
    assert counted["your code does not return (an infinite loop?)"] == 2  # grace, peggy
    markdown = (tmp_path / "summary.md").read_text()
    assert "15 submissions: 2 pass, 13 fail, 0 could not be checked." in markdown
    assert "| [carol](students/carol.md) | FAIL |" in markdown
    assert (tmp_path / "students" / "carol.md").read_text().startswith("# carol: FAIL\n")
    readme = (ROOT / "README.md").read_text().split("### A whole class")[1].split("```")[3].lstrip("\n")  # summary.md
    assert readme == markdown, "README.md quotes another summary.md than the class report writes today"
    gradescope = json.loads((tmp_path / "gradescope" / "alice" / "results.json").read_text())
    assert gradescope["score"] == 1.0 and gradescope["tests"][0]["output"].startswith("PASS: ")
    assert json.loads((tmp_path / "gradescope" / "carol" / "results.json").read_text())["score"] == 0.0


def test_one_file_with_gradescope_writes_results_json_in_the_folder_itself(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "frameworks.check", "tests/students/cs224n/bob/q2_neural.py:forward_backward_prop",
         "--preset", "cs224n-q2", "--report", str(tmp_path), "--gradescope", "--checker", "oracle", "--examples", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 1.0


def _shortening_time_left(target):
    """A check (in the child) that says how long a failing point could still be shortened, however long the search."""
    from agreement import points
    from frameworks import verify
    return verify.Result("FAIL", target, wrong=[f"{points.deadline_after(1e6) - time.monotonic():.3f}"])


def test_a_childs_shortening_ends_before_its_time_limit():
    """Shortening takes as long as the search did, up to 10 s; in class mode it must leave the last evaluation
    (a forward and a backward, each up to --timeout) and the verdict inside --time-limit."""
    args = argparse.Namespace(checker="oracle", jobs=1, time_limit=5.0, timeout=1.0)
    job = classroom.Job(_shortening_time_left, str)
    (result,) = classroom.run([Path("a.py")], "f", job, args)
    assert 0 < float(result["wrong"][0]) <= 5.0 - 2 * 1.0 - 0.5, result
