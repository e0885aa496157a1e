"""The run's evidence, for coursework and regression records: REPORT.md, report.json and errors.png.

Written once per run by the process that holds every figure (the pytest-xdist controller, which
has merged the workers'), even when checks fail, each file atomically (written aside, then
renamed over the old one), so a reader never sees half a report.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from agreement import FIXED, SAFETY

DISTRIBUTIONS = {"NumPy": "numpy", "PyTorch": "torch", "JAX": "jax", "jaxlib": "jaxlib", "Hypothesis": "hypothesis"}


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def git_commit(root: Path) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not available)"
    if commit.returncode != 0:
        return "unknown (not a git checkout)"
    return commit.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def rows(results: dict) -> list[dict]:
    """The run's figures, one dict per (subject, checker, dtype, quantity), sorted."""
    names = ("examples", "not_informative", "visible", "worst_abs_error", "worst_rel_error", "tolerance_used",
             "failures")
    return [{"subject": k[0], "checker": k[1], "dtype": k[2], "quantity": k[3], **dict(zip(names, v, strict=True))}
            for k, v in sorted(results.items())]


# The table's columns: header, width in the terminal (negative: aligned right), how a row shows in it.
COLUMNS = [
    ("subject", 28, lambda r: r["subject"]),
    ("checker", 7, lambda r: r["checker"]),
    ("dtype", 8, lambda r: r["dtype"]),
    ("quantity", 8, lambda r: r["quantity"]),
    ("examples", -8, lambda r: str(r["examples"])),
    ("not informative", -15, lambda r: str(r["not_informative"])),
    ("0.1% visible", -12, lambda r: f"{100 * r['visible'] / max(r['examples'], 1):.0f}%"),
    ("worst abs", -10, lambda r: f"{r['worst_abs_error']:.2e}"),
    ("worst rel", -10, lambda r: f"{r['worst_rel_error']:.2e}"),
    ("tolerance used", -14, lambda r: f"{r['tolerance_used']:.2g}"),
    ("status", 0, lambda r: "ok" if r["failures"] == 0 else f"FAILED {r['failures']}"),
]


def table(rows: list[dict], markdown: bool) -> list[str]:
    """The rows as one table: Markdown for REPORT.md, or fixed-width text (a header per subject) for the
    terminal. Negative widths align right."""
    if markdown:
        lines = ["| " + " | ".join(h for h, _, _ in COLUMNS) + " |",
                 "|" + "|".join("---:" if w < 0 else "---" for _, w, _ in COLUMNS) + "|"]
        return lines + ["| " + " | ".join(show(r) for _, _, show in COLUMNS) + " |" for r in rows]

    def line(cells):
        return " ".join(f"{c:>{-w}}" if w < 0 else f"{c:<{w}}" for c, (_, w, _) in zip(cells, COLUMNS, strict=True))

    lines, subject = [], None
    for r in rows:
        if r["subject"] != subject:
            subject = r["subject"]
            lines += ["", line([h for h, _, _ in COLUMNS]).rstrip()]
        lines.append(line([show(r) for _, _, show in COLUMNS]).rstrip())
    return lines


def build(results: dict, failures: list[dict], *, versions: dict, profile: str, seed: str, commit: str,
          outcome: dict, exit_status: int = 0, seconds: float | None = None) -> dict:
    """The report as plain data: the same content report.json holds. PASS needs a run that ran tests,
    exited 0, failed none and has no row that disagreed."""
    table_rows = rows(results)
    passed = (exit_status == 0 and outcome.get("passed", 0) > 0 and not failures and outcome.get("failed", 0) == 0
              and all(r["failures"] == 0 for r in table_rows))
    return {
        "status": "PASS" if passed else "FAIL",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "python": platform.python_version(),
        "versions": versions,
        "hypothesis_profile": profile,
        "hypothesis_seed": seed,
        "tests": outcome,
        "pytest_exit_status": exit_status,
        "seconds": seconds,
        "rows": table_rows,
        "failures": failures,
    }


def markdown(report: dict, plotted: bool = True) -> str:
    status = report["status"]
    t = report["tests"]
    seconds = report.get("seconds")
    lines = [
        f"# Gradient verification: {status}",
        "",
        f"{t.get('passed', 0)} tests passed, {t.get('failed', 0)} failed, {t.get('skipped', 0)} skipped, "
        f"{t.get('error', 0)} errors (pytest exit status {report['pytest_exit_status']}); "
        f"{sum(r['examples'] for r in report['rows'])} comparisons in {len(report['rows'])} rows, "
        f"{sum(r['failures'] for r in report['rows'])} of them disagreeing"
        + (f"; {seconds:.1f} s." if seconds is not None else "."),
        "",
        f"- date: {report['date']}",
        f"- git commit: {report['git_commit']}",
        f"- Python {report['python']}, " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        f"- Hypothesis profile: {report['hypothesis_profile']}; seed: {report['hypothesis_seed']}",
        "",
        f"Each element is judged against its own bound (agreement.tolerance): float64 by atol {FIXED.atol:g} + "
        f"rtol {FIXED.rtol:g} · max|checker|,",
        f"float32 by {SAFETY:g} · (ε · (its rounding spread + max|checker|) + tiny). 'not informative' counts the "
        "examples whose",
        "result carried no information at that dtype (not judged); '0.1% visible' the share in which a 0.1 % error "
        "would have",
        "shown; 'tolerance used' the largest |reference − checker| / bound.",
        "",
    ]
    if report["failures"]:
        lines += ["## Failures", ""]
        for failure in report["failures"]:
            lines += [f"### {failure['test']}", "", "```", failure["message"], "```", ""]
    lines += ["## Every row", "", *table(report["rows"], markdown=True), ""]
    lines.append("![worst relative error per row against the tolerance](errors.png)" if plotted
                 else "(errors.png was not drawn: matplotlib is not installed.)")
    lines.append("")
    return "\n".join(lines)


def plot(report: dict) -> bytes:
    """errors.png: the share of its tolerance that each row used at worst, per dtype (at most 1 to pass)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted({r["dtype"] for r in report["rows"]}) or ["float64"]
    widest = max([len({(r["subject"], r["checker"]) for r in report["rows"] if r["dtype"] == d}) for d in dtypes])
    fig, axes = plt.subplots(len(dtypes), 1, figsize=(max(8, 0.22 * widest + 3), 4.2 * len(dtypes)), squeeze=False)
    colors = {"torch": "tab:red", "jax": "tab:blue", "oracle": "tab:green"}
    # one marker per kind of quantity, so that gradients can be told apart within a column
    markers = {"loss": "s", "x": "^", "output": "v", "W": "o", "b": "D"}
    for ax, dtype in zip(axes[:, 0], dtypes, strict=True):
        rows = [r for r in report["rows"] if r["dtype"] == dtype]
        groups = sorted({(r["subject"], r["checker"]) for r in rows})
        floor = 1e-8  # exact agreement (0) is drawn at the floor of the log scale
        for r in rows:
            x = groups.index((r["subject"], r["checker"]))
            kind = r["quantity"] if r["quantity"] in markers else r["quantity"][:1]
            ax.scatter(x, max(r["tolerance_used"], floor), s=14, color=colors.get(r["checker"], "gray"),
                       marker=markers.get(kind, "o"), edgecolors="black" if r["failures"] else "none",
                       linewidths=1.5)
            if r["failures"]:
                ax.scatter(x, max(r["tolerance_used"], floor), s=60, color="black", marker="x")
        ax.axhline(1.0, color="black", linewidth=1)
        handles = [plt.Line2D([], [], linestyle="", marker=m, color="gray", label=k + ("_l" if k in "Wb" else ""))
                   for k, m in markers.items()]
        handles += [plt.Line2D([], [], linestyle="", marker="o", color=c, label=n) for n, c in colors.items()]
        handles.append(plt.Line2D([], [], linestyle="", marker="x", color="black", markersize=8, label="failed"))
        ax.legend(handles=handles, fontsize=6, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_yscale("log")
        ax.set_title(f"{dtype}: the share of its tolerance each gradient used at worst (1: the tolerance itself)")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([f"{s} · {c}" for s, c in groups], rotation=90, fontsize=6)
        ax.set_ylabel("|reference − checker| / tolerance")
    fig.suptitle(f"Gradient verification: {report['status']} ({report['date']})")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def write(directory: Path, report: dict) -> list[str]:
    """REPORT.md and report.json, then errors.png where matplotlib is installed; the names written."""
    import importlib.util

    directory.mkdir(parents=True, exist_ok=True)
    plotted = importlib.util.find_spec("matplotlib") is not None
    _atomic_write(directory / "report.json", json.dumps(report, indent=2, default=_plain).encode())
    _atomic_write(directory / "REPORT.md", markdown(report, plotted).encode())
    if not plotted:
        return ["REPORT.md", "report.json"]
    _atomic_write(directory / "errors.png", plot(report))
    return ["REPORT.md", "report.json", "errors.png"]


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(type(value).__name__)
