"""`bench --emulate ... --report page.html`: the meter's result as a self-contained page (tables, two bar charts),
labelled ESTIMATE like the terminal output."""

from __future__ import annotations

import json

from ..html_page import e as _e
from ..html_page import img as _img
from ..html_page import page as _page
from ..html_page import plt as _plt
from ..html_page import png as _png
from ..html_page import table as _table
from .result import LEAVES_OUT, EmulatedBench, si


def _bars(result: EmulatedBench) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(result.rows) + 1.2))
    names = [r.delegate for r in result.rows][::-1]
    ax.barh(names, [r.cycles / 1e6 for r in result.rows][::-1], color="#4c72b0")
    ax.set_xlabel("estimated cycles per inference (millions)")
    ax.set_title(f"ESTIMATE: {result.board.title}")
    return _img(_png(fig), "estimated cycles per delegate")


def emulate_html(result: EmulatedBench) -> str:
    b = result.board
    meta = (f"<p><b>ESTIMATE</b> for {_e(b.title)} · model <b>{_e(result.model)}</b> · "
            f"{_e(result.rows[0].runtime if result.rows else result.runtime)} under {_e(result.qemu)} · "
            f"{_e(result.llvm)} -mcpu={_e(b.mca_cpu)} · {result.runs} counted inference(s) after {result.warmup} "
            f"warm-up · 1 thread</p><p class=\"muted\">{_e(LEAVES_OUT)}</p>")
    rows = []
    for r in result.rows:
        ratio = result.ratio(r)
        rows.append([r.delegate, si(r.instructions), si(r.cycles), f"{r.ms:.3f}",
                     f"{ratio:.2f}" if ratio is not None else "-", r.partition or ""])
    rows += [[name, "-", "-", "-", "-", f"failed: {why}"] for name, why in result.errors.items()]
    first = result.rows[0].delegate if result.rows else "first"
    table = _table(["delegate", "instructions", "est. cycles", f"est. ms at {b.clock_ghz} GHz", f"vs {first}",
                    "partition"], rows)
    sections = [meta, "<h2>Per inference</h2>", table]
    if result.rows:
        sections.append(_bars(result))
    for r in result.rows:
        if r.by_op:
            sections += [f"<h2>{_e(r.delegate)}: by op</h2>",
                         _table(["op", "instructions", "est. cycles", "share"],
                                [[s.name, si(s.instructions), si(s.cycles), f"{s.share:.1%}"] for s in r.by_op])]
        sections += [f"<h2>{_e(r.delegate)}: top functions</h2>",
                     _table(["function (library)", "instructions", "est. cycles", "share"],
                            [[s.name, si(s.instructions), si(s.cycles), f"{s.share:.1%}"] for s in r.by_kernel])]
    if result.notes:
        sections.append("".join(f'<p class="muted">note: {_e(n)}</p>' for n in result.notes))
    sections.append("<h2>Raw result</h2><pre>" + _e(json.dumps(result.as_dict(), indent=1, default=str)[:20000])
                    + "</pre>")
    return _page("edgelift bench --emulate", sections)


def emulate_report(result: EmulatedBench, path) -> str:
    from ...atomic import write_text

    write_text(path, emulate_html(result))
    return str(path)
