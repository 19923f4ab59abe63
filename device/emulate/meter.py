"""`edgelift bench MODEL --emulate rpi4|rpi5`: instruction-exact cost of a whole model on a Raspberry Pi, without one.

For each delegate, one emulated Pi process (Debian bookworm arm64 Python + the chosen TFLite runtime under
Debian's qemu-aarch64 with the block-counting plugin) loads the model, runs warm-up inferences, then counts
every instruction of the measured inferences (guest.py marks them). Counts are exact and identical run to run;
llvm-mca turns every executed block into estimated cycles on the board's core (mca.py), and the guest's memory
map names the functions (symbols.py). The NEON delegate runs with profile=1, so its cost is also split by op.

    result = emulate_bench("model.tflite", board="rpi4", delegates="neon,xnnpack,builtin")
    print(result.format())
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edgelift.errors import InvalidArgumentError, ModelNotFoundError, ToolUnavailableError

from . import pi_root
from .boards import Board
from .boards import board as find_board
from .counts import CLASS_NODE, REGION_EMPTY, REGION_INFERENCE, MeterError, read_counts
from .mca import CycleCache, block_key, cost_blocks, unknown_words
from .result import DelegateCost, EmulatedBench, Share
from .symbols import Symbolizer
from .tools import Tools, find_tools, llvm_version

DELEGATES = ("neon", "xnnpack", "builtin")
DEFAULT_DELEGATES = "neon,xnnpack,builtin"
RUNTIMES = {"tflite-runtime": "tflite-runtime", "tflite_runtime": "tflite-runtime",
            "ai-edge-litert": "ai-edge-litert", "litert": "ai-edge-litert"}
GUEST = Path(__file__).resolve().with_name("guest.py")
AGENT = Path(__file__).resolve().parents[1] / "agent" / "edgelift_agent.py"
TIMEOUT_S = 1200
RUNTIME_ROW = "(runtime and ops left to it)"
_GUEST_SIGNAL = re.compile(r"uncaught target signal (?P<number>\d+) \((?P<name>[^)]+)\)")


def _check(model, delegates, runtime, runs, warmup) -> tuple[Path, list[str], str]:
    if isinstance(model, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError("--emulate needs a model file, not bytes", hint="write the model to a .tflite")
    path = Path(model)
    if not path.is_file():
        raise ModelNotFoundError(f"model file {str(path)!r} does not exist", hint="check the path")
    from edgelift.tflite_model import load

    load(path)  # a clear error for a file that is not a .tflite, before minutes of emulation
    from ..bench_options import parse_delegates

    names = parse_delegates(delegates or DEFAULT_DELEGATES)
    bad = [n for n in names if n not in DELEGATES]
    if bad:
        raise InvalidArgumentError(f"delegate(s) {', '.join(bad)} cannot be emulated; allowed with --emulate: "
                                   f"{', '.join(DELEGATES)}", hint=f"e.g. -d {DEFAULT_DELEGATES}")
    rt = RUNTIMES.get(runtime or "tflite-runtime")
    if rt is None:
        raise InvalidArgumentError(f"unknown runtime {runtime!r} for --emulate; allowed: tflite-runtime, "
                                   "ai-edge-litert", hint="tflite-runtime 2.14 is what most Pis run today")
    for name, value, low in (("runs", runs, 1), ("warmup", warmup, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidArgumentError(f"{name} must be a whole number >= {low} with --emulate, got {value!r}",
                                       hint="counts are exact: --runs 1 is enough; warm-up runs are not counted")
    return path.resolve(), names, rt


def _check_neon_library(path: str | Path) -> None:
    from edgelift.delegates import neon

    arch = neon.library_arch(path)
    if arch != "aarch64":
        raise InvalidArgumentError(f"neon_library {str(path)!r} is built for {arch}; the emulated Pi needs an "
                                   "aarch64 build", hint="build one with `make native-aarch64`")


def _neon_library() -> str:
    from edgelift.delegates import neon

    return str(neon.library_path("aarch64"))


def _run_guest(tools: Tools, cache: Path, board: Board, runtime: str, spec: dict, work: Path) -> dict:
    spec_path, counts_path, out_path = work / "spec.json", work / "counts.txt", work / "result.json"
    spec_path.write_text(json.dumps(dict(spec, out=str(out_path))))
    root = pi_root.board_root(cache, board.name, board.cpuinfo())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QEMU_"))}
    env.update(PYTHONPATH=":".join(str(cache / "site" / s) for s in pi_root.RUNTIMES[runtime]),
               PYTHONNOUSERSITE="1", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    argv = [tools.qemu, "-L", str(root), "-cpu", board.qemu_cpu, "-plugin", f"{tools.plugin},out={counts_path}",
            str(cache / "root" / pi_root.PYTHON_IN_ROOT), str(GUEST), str(spec_path)]
    started = time.monotonic()
    try:  # cwd: where qemu would drop a core file of a crashed guest (removed with `work`)
        proc = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        raise MeterError(f"the emulated {spec['delegate']} run took over {TIMEOUT_S} s",
                         hint="try a smaller input size; one inference of MobileNetV2 224 takes ~10 s") from None
    try:
        result = json.loads(out_path.read_text())
    except (OSError, ValueError):
        crash = _GUEST_SIGNAL.search(proc.stderr or "")
        if crash is None:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
            raise MeterError(f"the emulated {spec['delegate']} run ended without a result (exit {proc.returncode}):"
                             f"\n{tail}") from None
        # the runtime itself died on this model (seen: tflite-runtime 2.14's builtin kernels on a transformer
        # block): a failed row, the other delegates still count
        result = {"ok": False, "error": f"{runtime} crashed on the emulated Pi (signal {crash['number']}, "
                                        f"{crash['name']}); try --runtime ai-edge-litert"}
    result["seconds"] = time.monotonic() - started
    result["counts"] = read_counts(counts_path) if result.get("ok") else None
    return result


def _shares(totals: dict[str, list[float]], total_cycles: float, top: int) -> list[Share]:
    rows = sorted(totals.items(), key=lambda kv: -kv[1][1])[:top]
    return [Share(name, instr, cyc, cyc / total_cycles if total_cycles else 0.0) for name, (instr, cyc) in rows]


def _cost(name: str, result: dict, board: Board, tools: Tools, cycle_cache: CycleCache, op_names: list[str],
          runs: int, top: int) -> DelegateCost:
    counts = result["counts"]
    if counts.unbalanced:
        raise MeterError(f"{name}: {counts.unbalanced} unbalanced region markers; the count is not trustworthy")
    codes = [b.code for b in counts.blocks]
    cycles_of = cost_blocks(codes, board, tools.llvm_mc, tools.llvm_mca, cycle_cache)
    symbolizer = Symbolizer(result.get("maps", ""), tools.llvm_nm)
    by_op: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_kernel: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for block in counts.blocks:
        cyc = cycles_of[block_key(block.code)]
        library, symbol = symbolizer.name(block.vaddr)
        function = f"{library} (no symbol)" if symbol == "?" else f"{symbol} ({library})"
        for (outer, inner), n in block.executions.items():
            if outer == REGION_EMPTY:  # the bracketing's own cost, measured by the empty regions: not the model's
                sign, op = -1, RUNTIME_ROW
            elif outer == REGION_INFERENCE:
                sign, op = 1, RUNTIME_ROW
                if inner >> 24 == CLASS_NODE:
                    node = inner & 0xFFFFFF
                    op = op_names[node] if node < len(op_names) else f"node {node}"
            else:
                continue
            for table, key in ((by_op, op), (by_kernel, function)):
                table[key][0] += sign * n * block.instructions
                table[key][1] += sign * n * cyc
    instructions = sum(v[0] for v in by_op.values()) / runs
    cycles = sum(v[1] for v in by_op.values()) / runs
    for table in (by_op, by_kernel):  # rows the bracketing's subtraction left empty
        for key in [k for k, v in table.items() if v[0] <= 0]:
            del table[key]
    for table in (by_op, by_kernel):
        for v in table.values():
            v[0] /= runs
            v[1] /= runs
    meta = result.get("meta") or {}
    return DelegateCost(
        delegate=name, instructions=instructions, cycles=cycles, ms=cycles / (board.clock_ghz * 1e6),
        runtime=" ".join(str(meta[k]) for k in ("runtime", "runtime_version") if meta.get(k)),
        partition=meta.get("partition") or meta.get("xnnpack"),
        by_op=_shares(by_op, cycles, top) if name == "neon" else [],
        by_kernel=_shares(by_kernel, cycles, top),
        outputs_sha256=result.get("outputs_sha256"), unknown_words=unknown_words(codes, board, tools.llvm_mc),
        emulation_s=result["seconds"])


def emulate_bench(model, board: str = "rpi4", delegates: str | list[str] | None = None,
                  runtime: str | None = None, runs: int = 1, warmup: int = 1, threads: int = 1,
                  delegate_options: dict[str, str] | None = None, top: int = 6, seed: int = 0,
                  neon_library: str | Path | None = None) -> EmulatedBench:
    """Estimated cost of one inference of `model` on `board` for each delegate (one emulated process each,
    run concurrently); neon_library: another aarch64 build of the delegate (e.g. an older commit's, to compare).
    Raises ToolUnavailableError when qemu-aarch64 / llvm / a C compiler is missing."""
    the_board = find_board(board)
    path, names, rt = _check(model, delegates, runtime, runs, warmup)
    if threads != 1:
        raise InvalidArgumentError(f"--emulate counts one thread; got threads={threads!r}",
                                   hint="drop --threads: the meter's counters are per process, not per core")
    if neon_library is not None:
        _check_neon_library(neon_library)
    started = time.monotonic()
    tools = find_tools()
    try:
        cache = pi_root.build(pi_root.DEFAULT_CACHE)
    except pi_root.SetupError as exc:
        raise ToolUnavailableError(f"the emulated Raspberry Pi could not be built: {exc}",
                                   hint="run `make emulated-pi` in the edgelift checkout (as root once, for apt)"
                                   ) from None
    from edgelift.tflite_model import load

    op_names = [op.op_name for op in load(path).operators]
    options = {"profile": "1", **{k: str(v) for k, v in (delegate_options or {}).items()}}
    specs = {}
    for name in names:
        spec = {"agent": str(AGENT), "model": str(path), "delegate": name, "threads": 1, "warmup": warmup,
                "runs": runs, "seed": seed}
        if name == "neon":
            spec["neon"] = {"file": str(neon_library) if neon_library else _neon_library(), "options": options}
        specs[name] = spec
    work = Path(tempfile.mkdtemp(prefix="edgelift-emulate-"))
    try:
        dirs = {name: work / name for name in names}
        for d in dirs.values():
            d.mkdir()
        with ThreadPoolExecutor(max_workers=max(1, min(len(names), os.cpu_count() or 1))) as pool:
            futures = {n: pool.submit(_run_guest, tools, cache, the_board, rt, specs[n], dirs[n]) for n in names}
            results = {n: f.result() for n, f in futures.items()}
        cycle_cache = CycleCache(pi_root.cache_home() / "emulate", the_board, llvm_version(tools.llvm_mca))
        rows, errors = [], {}
        for name in names:
            if not results[name].get("ok"):
                errors[name] = results[name].get("error") or "the guest failed"
                continue
            rows.append(_cost(name, results[name], the_board, tools, cycle_cache, op_names, runs, top))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    qemu_version = subprocess.run([tools.qemu, "--version"], capture_output=True, text=True,
                                  check=False).stdout.split("\n")[0]
    return EmulatedBench(model=str(path), board=the_board, runtime=rt, rows=rows, errors=errors, runs=runs,
                         warmup=warmup, qemu=qemu_version, llvm=f"llvm-mca {llvm_version(tools.llvm_mca)}",
                         seconds=time.monotonic() - started)
