"""Profile the gateway under load with py-spy: `python -m bench.profile [--upstream sdk|node] [--target ...]`.

Samples the mcpstead process (headless by default, or with the dashboard) (not the upstream, not the load) for `--duration` seconds at 32 sessions, keeps
py-spy's collapsed stacks (`<stamp>-profile-<target>-<upstream>.collapsed.txt`, for flamegraph.pl or speedscope) and
writes a text summary beside it: top self-time and inclusive functions, and a top-down flame tree.
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench import load, throughput
from bench.targets import BENCH_DIR, VENV_BIN, install_cleanup, snapshot, start_target, start_upstream, stop_all

_LINE = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
SITE_PACKAGES = re.compile(r"^.*?/(?:site|dist)-packages/")


def _frame_key(frame: str) -> str:
    """`function (file:line)` -> `function (short/file.py)`, dropping line numbers and site-packages paths."""
    match = _LINE.match(frame)
    if match is None:
        return frame
    path = SITE_PACKAGES.sub("", match["file"])
    path = path.replace(str(BENCH_DIR.parent) + "/", "")
    return f"{match['function']} ({path})"


LOOP_FRAME = "Runner.run (asyncio/runners.py)"
LOOP_SELF = "[event loop itself: uvloop C code, callbacks, I/O syscalls outside Python frames]"


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's collapsed stacks, re-rooted at the event loop so every task's stack starts at its coroutine.

    (py-spy shows some task frames under `<module>;main;...;Runner.run` and some without it.)
    """
    stacks: list[tuple[list[str], int]] = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame_key(frame) for frame in stack.split(";")]
        if LOOP_FRAME in frames:
            frames = frames[frames.index(LOOP_FRAME) + 1 :] or [LOOP_SELF]
        stacks.append((frames, int(count)))
    return stacks


@dataclass
class _Node:
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree_lines(stacks: list[tuple[list[str], int]], total: int, min_share: float, max_depth: int) -> list[str]:
    """A top-down call tree, each node with its inclusive share; branches under `min_share` are cut."""
    root = _Node()
    for frames, count in stacks:
        node = root
        for frame in frames[:max_depth]:
            node = node.children.setdefault(frame, _Node())
            node.count += count
    lines: list[str] = []

    def walk(node: _Node, depth: int) -> None:
        for frame, child in sorted(node.children.items(), key=lambda item: -item[1].count):
            if child.count / total >= min_share:
                lines.append(f"{child.count / total:6.1%}  {'  ' * depth}{frame}")
                walk(child, depth + 1)

    walk(root, 0)
    return lines


def _by_package(own: Counter[str]) -> Counter[str]:
    packages: Counter[str] = Counter()
    for frame, count in own.items():
        match = _LINE.match(frame)
        packages[match["file"].split("/")[0] if match else frame] += count
    return packages


def summarise(stacks: list[tuple[list[str], int]], top: int = 30) -> str:
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    out = [f"samples: {total} (of the gateway's non-idle threads)", "", f"top {top} by self time:"]
    out += [f"{count / total:6.1%}  {frame}" for frame, count in own.most_common(top)]
    out += ["", "self time by package (first path component of the frame's file):"]
    out += [f"{count / total:6.1%}  {package}" for package, count in _by_package(own).most_common()]
    out += ["", f"top {top} by inclusive time:"]
    out += [f"{count / total:6.1%}  {frame}" for frame, count in inclusive.most_common(top)]
    out += ["", "flame summary (top-down from the event loop, inclusive share, branches >= 1.5%):"]
    out += _tree_lines(stacks, total, 0.015, 60)
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--upstream", choices=("sdk", "sdk-sse", "node"), default="sdk")
    parser.add_argument("--target", choices=("mcpstead", "mcpstead-modern", "mcpstead-tui"), default="mcpstead")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--src", type=Path, help="run mcpstead from this source tree copy (as bench.run --src)")
    parser.add_argument("--snapshot", action="store_true", help="run a copy of mcpstead/ and tui/ (as bench.run)")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not Path(py_spy).exists():
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    install_cleanup()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    name = f"{stamp}-profile-{args.target}-{args.upstream}"
    collapsed, summary_path = results / f"{name}.collapsed.txt", results / f"{name}.summary.txt"
    try:
        with tempfile.TemporaryDirectory(prefix="mcpstead-profile-") as tmp:
            if args.snapshot:
                args.src = snapshot(Path(tmp) / "src")
            upstream, url = start_upstream(args.upstream, Path(tmp))
            if not uvloop.run(load.wait_ready(url, "echo", 30)):
                raise RuntimeError(f"upstream not ready: {upstream.log_tail()}")
            target = start_target(args.target, args.upstream, upstream, url, Path(tmp), args.src)
            if not uvloop.run(load.wait_ready(target.url, target.tool, 30)):
                raise RuntimeError(f"gateway not ready: {target.measured.log_tail()}")
            argv = [py_spy, "record", "--pid", str(target.measured.pid), "--duration", str(int(args.duration))]
            argv += ["--rate", str(args.rate), "--format", "raw", "--output", str(collapsed), "--nonblocking"]
            spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                window = throughput.measure(target, args.sessions, 2, args.duration, 10.0)
                _, spy_err = spy.communicate(timeout=args.duration + 30)
                exited = target.measured.popen.poll()
                if exited is not None:
                    print(
                        f"the gateway exited ({exited}) during the run:\n{target.measured.log_tail()}", file=sys.stderr
                    )
                    return 1
            finally:
                if spy.poll() is None:
                    spy.kill()
                    spy.wait()
    finally:
        stop_all()
    if not collapsed.exists():
        print(f"py-spy wrote nothing: {spy_err}", file=sys.stderr)
        return 1
    calls = window.ok
    stacks = parse_collapsed(collapsed.read_text(errors="replace"))
    active_s = sum(count for _, count in stacks) / args.rate
    header = (
        f"{args.target} in front of the {args.upstream} upstream, {args.sessions} sessions, "
        f"{args.duration:.0f} s, py-spy {args.rate} Hz (--nonblocking)\n"
        f"calls {calls} ({calls / window.wall_s:.0f}/s), errors {window.errors or 0}, "
        f"gateway CPU {window.gateway_cpu_s / max(calls, 1) * 1e6:.0f} us/call (with py-spy attached)\n"
        f"py-spy counts a thread as active when it is running or runnable: {active_s:.1f} s of active samples vs "
        f"{window.gateway_cpu_s:.1f} s of CPU actually used (/proc).\nThe difference is time spent runnable but "
        "preempted; on 2 shared cores it gathers where a socket write wakes the peer process\n(transport.write "
        "lines), so the self time at those lines overstates their CPU cost.\n\n"
    )
    summary_path.write_text(header + summarise(stacks), encoding="utf-8")
    print(summary_path.read_text())
    print(f"collapsed stacks: {collapsed}\nsummary: {summary_path}")
    return 1 if window.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())


def resummarise(collapsed: Path) -> str:
    """The summary of an existing collapsed-stacks file (for re-reading an old profile)."""
    return summarise(parse_collapsed(collapsed.read_text(errors="replace")))
