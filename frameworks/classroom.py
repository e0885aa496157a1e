"""A whole class at once: every file a pattern matches, each checked in its own process with a time limit.

    python -m frameworks.check 'submissions/*/q2_neural.py:forward_backward_prop' --preset cs224n-q2 \\
        --report class/ [--gradescope] [--time-limit 120] [--jobs 2]

A student's crash, infinite loop or sys.exit harms no other check: each file runs in a child
process, killed when its time is up, forked from a server process that imported the checker once
(so a file costs its own check and not the imports, and no child inherits thread pools that have
run: the caller may have computed with torch or JAX before). Written into the --report folder:

    students/NAME.md, students/NAME.json     each student's verdict, diagnosis and failing call
    summary.md, summary.json                 how many pass, which mistakes how often
    gradescope/NAME/results.json             with --gradescope (one file: results.json in the folder itself)
"""

from __future__ import annotations

import collections
import glob
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

from frameworks import verify

PATTERN_CHARS = "*?["


def is_pattern(target: str) -> bool:
    return any(c in target.rpartition(":")[0] for c in PATTERN_CHARS)


def files(target: str) -> tuple[list[Path], str]:
    """The files the FILE part of `target` matches (sorted), and NAME."""
    pattern, sep, name = target.rpartition(":")
    if not sep or not pattern or not name:
        raise ValueError(f"expected FILE.py:NAME (FILE may be a pattern), got {target!r}")
    found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not found:
        raise ValueError(f"{pattern}: no file matches")
    return found, name


def names(paths: list[Path]) -> list[str]:
    """A short, unique name per file: the parts of its path that differ from the others'."""
    if len(paths) == 1:
        return [paths[0].stem]
    parts = [p.resolve().parts for p in paths]
    head = 0  # the folders every path shares
    while all(len(p) > head + 1 and p[head] == parts[0][head] for p in parts):
        head += 1
    same_name = len({p.name for p in paths}) == 1
    out = []
    for p in parts:
        rest = list(p[head:])
        if same_name and len(rest) > 1:
            rest = rest[:-1]
        out.append("/".join(rest).removesuffix(".py").replace("/", "_") or Path(*p).stem)
    return out


def one(args, preset_list, described) -> verify.Result:
    """One file, checked in a forked child with the time limit, as a class of one."""
    path, _, name = args.target.rpartition(":")
    result = run([Path(path)], name, preset_list, args, described=described)[0]
    return verify.Result(**{k: result[k] for k in verify.Result.__dataclass_fields__})


def _child(connection, target, preset_list, checker, examples, dtype, timeout, described):
    """In the child: check one file and send the result back; the student's output goes to stderr."""
    try:
        sys.stdout = sys.stderr
        result = verify.check(target, preset_list, checker, examples, dtype, timeout, described)
        connection.send(result.json())
    finally:
        connection.close()


def run(paths, name, preset_list, args, log=None, described=None) -> list[dict]:
    """Every file checked, at most --jobs at a time, each in a forked child killed after --time-limit s."""
    import frameworks

    # Children fork from a server process that imported the checker once and never computed with it:
    # a fork of a process whose torch or JAX thread pools have run can deadlock in the child.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["frameworks.verify", frameworks.CHECKERS[args.checker][0]])
    jobs = args.jobs or os.cpu_count() or 1
    pending = list(enumerate(paths))
    running, results = {}, [None] * len(paths)
    while pending or running:
        while pending and len(running) < jobs:
            i, path = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            target = f"{path}:{name}"
            process = context.Process(target=_child, args=(send, target, preset_list, args.checker, args.examples,
                                                             np.dtype(args.dtype), args.timeout, described or target),
                                      daemon=True)
            process.start()
            send.close()
            running[i] = (process, receive, time.monotonic(), target)
        for i, (process, receive, started, target) in list(running.items()):
            if receive.poll():
                try:
                    results[i] = receive.recv()
                except EOFError:
                    results[i] = None
            elif process.is_alive() and time.monotonic() - started <= args.time_limit:
                continue
            elif process.is_alive():
                process.kill()
                results[i] = verify.Result("FAIL", described or target, wrong=[
                    f"the check did not finish within --time-limit {args.time_limit:g} s: your code does not return "
                    "(an infinite loop that also swallows the time limit of each call?)"],
                    diagnoses=["your code does not return (an infinite loop?)"]).json()
            process.join()
            if results[i] is None:
                results[i] = verify.Result("ERROR", described or target, wrong=[
                    f"your code ended the check's process (exit status {process.exitcode}) before it returned"]).json()
            receive.close()
            del running[i]
            if log:
                log(f"{results[i]['verdict']}: {target}")
        time.sleep(0.01)
    return results


def _kind(diagnosis: str) -> str:
    """A diagnosis without the student's own file and line, so that the same mistake counts as one."""
    return diagnosis.split(", at ")[0].split(", stopped at ")[0]


def summary(named: dict[str, dict]) -> dict:
    verdicts = collections.Counter(r["verdict"] for r in named.values())
    mistakes = collections.Counter(_kind(d) for r in named.values() for d in dict.fromkeys(r["diagnoses"]))
    return {"students": len(named), "pass": verdicts["PASS"], "fail": verdicts["FAIL"], "error": verdicts["ERROR"],
            "mistakes": dict(mistakes.most_common()),
            "verdicts": {n: r["verdict"] for n, r in named.items()}}


def _markdown(name, result, checker) -> str:
    from frameworks import check

    lines = check.text(verify.Result(**{k: result[k] for k in verify.Result.__dataclass_fields__}), checker)
    return f"# {name}: {result['verdict']}\n\n```\n" + "\n".join(lines) + "\n```\n"


def _summary_markdown(s: dict, preset: str) -> str:
    lines = [f"# Class report: {preset}", "", f"{s['students']} submissions: {s['pass']} pass, {s['fail']} fail, "
             f"{s['error']} could not be checked.", "", "| mistake | students |", "|---|---|"]
    lines += [f"| {m} | {c} |" for m, c in s["mistakes"].items()] or ["| (none named) | |"]
    lines += ["", "| student | verdict |", "|---|---|"]
    lines += [f"| [{n}](students/{n}.md) | {v} |" for n, v in s["verdicts"].items()]
    return "\n".join(lines) + "\n"


def _gradescope(result: dict, text: str) -> dict:
    score = 1.0 if result["verdict"] == "PASS" else 0.0
    return {"score": score, "visibility": "visible", "tests": [
        {"name": "loss and gradients agree with an independent checker", "score": score, "max_score": 1.0,
         "output": text}]}


def write(folder: Path, named: dict[str, dict], args, single: bool) -> dict:
    from frameworks import check

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "students").mkdir(exist_ok=True)
    for name, result in named.items():
        (folder / "students" / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
        (folder / "students" / f"{name}.md").write_text(_markdown(name, result, args.checker))
        if args.gradescope:
            text = "\n".join(check.text(verify.Result(**{k: result[k] for k in verify.Result.__dataclass_fields__}),
                                        args.checker))
            where = folder if single else folder / "gradescope" / name
            where.mkdir(parents=True, exist_ok=True)
            (where / "results.json").write_text(json.dumps(_gradescope(result, text), ensure_ascii=False, indent=1))
    s = summary(named)
    (folder / "summary.json").write_text(json.dumps(s, ensure_ascii=False, indent=1))
    (folder / "summary.md").write_text(_summary_markdown(s, args.preset or "function"))
    return s


def main(args, preset_list) -> int:
    """Class mode: check, write the report, print one line per file (or the summary as JSON); 0 if all pass."""
    paths, name = files(args.target)
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    results = run(paths, name, preset_list, args, log=say)
    named = dict(zip(names(paths), results, strict=True))
    s = summary(named) if not args.report else write(Path(args.report), named, args, single=len(paths) == 1
                                                      and not is_pattern(args.target))
    if args.json:
        print(json.dumps({**s, "results": named}, ensure_ascii=False))
    else:
        print(f"{s['pass']} of {s['students']} pass" + (f"; report in {args.report}" if args.report else ""))
    return 0 if s["pass"] == s["students"] else 1
