"""A whole class at once: every file a pattern matches, each checked in its own process with a time limit.

    python -m frameworks.check 'submissions/*/q2_neural.py:forward_backward_prop' --preset cs224n-q2 \\
        --report class/ [--gradescope] [--time-limit 120] [--jobs 2]
    python -m frameworks.check 'submissions/*/layers.py:batchnorm_backward' --preset cs231n-layers --report class/

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
import functools
import glob
import json
import multiprocessing
import multiprocessing.forkserver
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from agreement import points
from frameworks import layer_check, verify

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


def names(paths: list[Path], pattern: str = "") -> list[str]:
    """A short, unique name per file: the parts of its path that differ from the others'. One file is named
    by its folder when the pattern fixes the file's name (submissions/*/q2_neural.py), else by its stem."""
    if len(paths) == 1:
        fixed_name = not any(c in Path(pattern).name for c in PATTERN_CHARS)
        return [paths[0].resolve().parent.name if pattern and fixed_name else paths[0].stem]
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
        name = "/".join(rest).removesuffix(".py").replace("/", "_") or Path(*p).stem
        while name in out:  # a_b/q.py and a/b_q.py would both be a_b
            name += "_"
        out.append(name)
    return out


class Job(NamedTuple):
    """How each file is checked: check(target) gives its verdict (verify.Result), in the child; label(target) is
    what that check is called where it says nothing itself (it was killed, ended or interrupted)."""

    check: Callable
    label: Callable


def _named(described, target) -> str:
    return described or target


def network_job(preset_list, args, described=None) -> Job:
    """Checked against presets (verify.check); `described` names the one file, else each is named by its path."""
    label = functools.partial(_named, described)
    return Job(functools.partial(_network_check, label=label, preset_list=preset_list, checker=args.checker,
                                 examples=args.examples, dtype=np.dtype(args.dtype or "float64"), timeout=args.timeout),
               label)


def _network_check(target, *, label, **options):
    return verify.check(target, described=label(target), **options)


def layer_job(args) -> Job:
    """A layer function checked as CS231n calls it (--preset cs231n-layers, frameworks.layer_check)."""
    return Job(functools.partial(layer_check.check, checker=args.checker, examples=args.examples, timeout=args.timeout),
               layer_check.describe)


def one(args, job) -> verify.Result:
    """One file, checked in a forked child with the time limit, as a class of one."""
    path, _, name = args.target.rpartition(":")
    return verify.Result.from_json(run([Path(path)], name, job, args)[0])


def _child(connection, job, target, end):
    """In the child: check one file and send the result back, drawing no example and shortening no failing point past
    `end` (a time.monotonic() value). The student's output goes to stderr, file descriptor 1 included (os.system, C code),
    and the child ends at once after sending: a thread the student's code left running cannot keep it alive."""
    try:
        points.end_by(end)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        verify.keep_hypothesis_out_of_the_students_folder()
        try:
            result = job.check(target)
        except BaseException as err:  # KeyboardInterrupt raised by the student's code, say
            result = verify.Result("ERROR", job.label(target), wrong=[f"the check was interrupted: {type(err).__name__}"])
        connection.send(result.json())
        connection.close()
    finally:
        os._exit(0)


def _child_end(args) -> float:
    """When a child must stop drawing examples and shortening its failing point: --time-limit from now, less what
    the last evaluation may still take (a forward and a backward, each up to --timeout) and half a second to send the
    verdict. Else slow code is killed while it is checked, and the student blamed for a loop."""
    return time.monotonic() + args.time_limit - 2 * args.timeout - 0.5


def _timed_out(described, limit) -> dict:
    return verify.Result("FAIL", described, wrong=[
        f"the check did not finish within --time-limit {limit:g} s: your code does not return "
        "(an infinite loop that also swallows the time limit of each call?)"],
        diagnoses=["your code does not return (an infinite loop?)"]).json()


def _start_server_on_one_thread():
    """Start the server process (if it is not running yet) with one OpenMP and OpenBLAS thread, which its children
    inherit: --jobs children share the cores, and the idle threads of OpenMP (torch's) and OpenBLAS (NumPy's) wait by
    spinning. benchmarks/classroom.py --quick took 13.5 s and 14.2 s with their defaults, 12.7 s and 12.7 s with one
    thread, in turns. A value set already stays; the caller's own environment is left as it was."""
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ["OMP_NUM_THREADS"]


def run(paths, name, job, args, log=None) -> list[dict]:
    """Every file checked by `job` (network_job or layer_job), at most --jobs at a time, each in a forked child
    killed after --time-limit s."""
    import frameworks

    # Children fork from a server process that imported the checker once and never computed with it:
    # a fork of a process whose torch or JAX thread pools have run can deadlock in the child.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["frameworks.verify", "frameworks.layer_check", frameworks.CHECKERS[args.checker][0]])
    _start_server_on_one_thread()
    jobs = args.jobs or os.cpu_count() or 1
    pending = list(enumerate(paths))
    running, results = {}, [None] * len(paths)
    while pending or running:
        while pending and len(running) < jobs:
            i, path = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            target = f"{path}:{name}"
            process = context.Process(target=_child, daemon=True, args=(send, job, target, _child_end(args)))
            process.start()
            send.close()
            running[i] = (process, receive, time.monotonic(), job.label(target))
        for i, (process, receive, started, label) in list(running.items()):
            alive = process.is_alive()  # asked before the pipe: a result sent just after is still read below
            if receive.poll():
                try:
                    results[i] = receive.recv()
                except EOFError:
                    results[i] = None
            elif alive and time.monotonic() - started <= args.time_limit:
                continue
            elif alive:
                results[i] = _timed_out(label, args.time_limit)
                process.kill()  # at once: not given time to end by itself
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
            if results[i] is None:
                results[i] = verify.Result("ERROR", label, wrong=[
                    f"your code ended the check's process (exit status {process.exitcode}) before it returned"]).json()
            receive.close()
            del running[i]
            if log:
                log(f"{results[i]['verdict']}: {label}")
        time.sleep(0.01)
    return results


def _kind(diagnosis: str) -> str:
    """A diagnosis without the student's own file and line, the layer or the convention it was found in, so
    that the same mistake counts as one."""
    for cut in (", at ", ", stopped at ", " (only in ", " (with "):
        diagnosis = diagnosis.split(cut)[0]
    return diagnosis


def summary(named: dict[str, dict]) -> dict:
    verdicts = collections.Counter(r["verdict"] for r in named.values())
    mistakes = collections.Counter(k for r in named.values() for k in dict.fromkeys(_kind(d) for d in r["diagnoses"]))
    unnamed = sum(1 for r in named.values() if r["verdict"] == "FAIL" and not r["diagnoses"])
    if unnamed:
        mistakes["(failed, no mistake named)"] = unnamed
    return {"students": len(named), "pass": verdicts["PASS"], "fail": verdicts["FAIL"], "error": verdicts["ERROR"],
            "mistakes": dict(mistakes.most_common()),
            "verdicts": {n: r["verdict"] for n, r in named.items()}}


def _summary_markdown(s: dict, preset: str) -> str:
    lines = [f"# Class report: {preset}", "", f"{s['students']} submission{'s' if s['students'] != 1 else ''}: "
             f"{s['pass']} pass, {s['fail']} fail, "
             f"{s['error']} could not be checked.", "", "| mistake | students |", "|---|---|"]
    lines += [f"| {m} | {c} |" for m, c in s["mistakes"].items()] or ["| (none) | |"]
    lines += ["", "| student | verdict |", "|---|---|"]
    lines += [f"| [{n}](students/{n}.md) | {v} |" for n, v in s["verdicts"].items()]
    return "\n".join(lines) + "\n"


def _gradescope(result: dict, text: str) -> dict:
    score = 1.0 if result["verdict"] == "PASS" else 0.0
    return {"score": score, "visibility": "visible", "tests": [
        {"name": "your results agree with an independent checker", "score": score, "max_score": 1.0,
         "output": text}]}


def write(folder: Path, named: dict[str, dict], args, single: bool) -> dict:
    from frameworks import check

    (folder / "students").mkdir(parents=True, exist_ok=True)
    for name, result in named.items():
        text = "\n".join(check.text(verify.Result.from_json(result), args.checker))
        (folder / "students" / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
        (folder / "students" / f"{name}.md").write_text(f"# {name}: {result['verdict']}\n\n```\n{text}\n```\n")
        if args.gradescope:
            where = folder if single else folder / "gradescope" / name
            where.mkdir(parents=True, exist_ok=True)
            (where / "results.json").write_text(json.dumps(_gradescope(result, text), ensure_ascii=False, indent=1))
    s = summary(named)
    (folder / "summary.json").write_text(json.dumps(s, ensure_ascii=False, indent=1))
    (folder / "summary.md").write_text(_summary_markdown(s, args.preset or "function"))
    return s


def main(args, job) -> int:
    """Class mode: check, write the report, print one line per file (or the summary as JSON); 0 if all pass."""
    paths, name = files(args.target)
    if args.report:
        try:
            Path(args.report).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"--report {args.report}: cannot write there ({err.strerror or err})") from None
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    results = [{"target": f"{path}:{name}", "preset": args.preset or "function", "checker": args.checker, **result}
               for path, result in zip(paths, run(paths, name, job, args, log=say), strict=True)]  # as --json has it
    named = dict(zip(names(paths, args.target.rpartition(":")[0]), results, strict=True))
    s = summary(named) if not args.report else write(Path(args.report), named, args, single=len(paths) == 1
                                                      and not is_pattern(args.target))
    if args.json:
        print(json.dumps({**s, "results": named}, ensure_ascii=False))
    else:
        print(f"{s['pass']} of {s['students']} pass" + (f"; report in {args.report}" if args.report else ""))
    return 0 if s["pass"] == s["students"] else 1
