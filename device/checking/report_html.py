"""One self-contained HTML page for `bench` and `validate` (`--report report.html`).

Plots are drawn with matplotlib (Agg) and embedded as base64 PNGs; the page has inline CSS and no external
links, so it opens offline and can be attached to a CI run. Written atomically (`edgelift.atomic`).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..html_page import e as _e
from ..html_page import img as _img
from ..html_page import page as _page
from ..html_page import plt as _plt
from ..html_page import png as _png
from ..html_page import table as _table


# -- size breakdown -----------------------------------------------------------------------------------
def size_breakdown(model_source) -> dict[str, int] | None:
    """Bytes of constant data per op type (each constant counted once, at its first consumer) plus the rest
    of the file (graph structure, metadata). None when the model cannot be parsed here."""
    if model_source is None:
        return None
    try:
        from ...tflite_model import load

        m = load(model_source if not isinstance(model_source, os.PathLike) else str(model_source))
    except Exception:  # noqa: BLE001 - the report still works without this plot (e.g. no schema module)
        return None
    sizes: dict[str, int] = {}
    seen: set[int] = set()
    for op in m.operators:
        for t in op.inputs:
            if t < 0 or t in seen:
                continue
            tensor = m.tensors[t]
            if tensor.is_constant:
                seen.add(t)
                sizes[op.op_name] = sizes.get(op.op_name, 0) + tensor.nbytes
    total = len(m.content)
    sizes["(graph, metadata)"] = max(total - sum(sizes.values()), 0)
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def _size_section(model_source) -> str:
    sizes = size_breakdown(model_source)
    if not sizes:
        return "<h2>Size breakdown</h2><p class=\"muted\">not available (model not parseable here)</p>"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(sizes) + 1))
    names = list(sizes)[::-1]
    ax.barh(names, [sizes[n] / 1024 for n in names], color="#4c72b0")
    ax.set_xlabel("KiB")
    ax.set_title(f"model size {sum(sizes.values()) / 1024:.1f} KiB: constants per op type")
    rows = [[k, f"{v / 1024:.2f}", f"{100 * v / max(sum(sizes.values()), 1):.1f}%"] for k, v in sizes.items()]
    return ("<h2>Size breakdown</h2>" + _img(_png(fig), "size breakdown")
            + _table(["part", "KiB", "share"], rows))


# -- bench --------------------------------------------------------------------------------------------
def bench_html(result, model_source=None) -> str:
    d = result.as_dict()
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    for c in d["configs"]:
        ax.hist(c["samples_ms"], bins=40, alpha=0.55, label=f"{c['delegate']} (p50 {c['latency_ms']['p50']:.3f} ms)")
    ax.set_xlabel("latency per invocation (ms)")
    ax.set_ylabel("runs")
    ax.set_title("latency histogram per delegate")
    ax.legend()
    hist = _img(_png(fig), "latency histogram")
    rows = []
    for c in d["configs"]:
        lat = c["latency_ms"]
        ratio = c["ratio_to_first"]["p50"] if c["ratio_to_first"] else None
        rows.append([c["delegate"], f"{c['load_ms']:.2f}", f"{c['first_inference_ms']:.3f}", f"{lat['p50']:.3f}",
                     f"{lat['p90']:.3f}", f"{lat['p99']:.3f}", f"{lat['min']:.3f}", f"{lat['max']:.3f}",
                     f"{lat['mean']:.3f}", f"{lat['std']:.3f}",
                     f"{c['throughput_per_s']:.1f}" if c["throughput_per_s"] else "-",
                     f"{c['peak_rss_mb']:.1f}", c["runs"], f"{ratio:.2f}" if ratio is not None else "-"])
    table = _table(["delegate", "load ms", "first ms", "p50", "p90", "p99", "min", "max", "mean", "std",
                    "inf/s", "peak RSS MB", "runs", "x first (p50)"], rows)
    parts = _table(["delegate", "partition"], [[c["delegate"], c["partition"]] for c in d["configs"]])
    meta = (f"<p>model <b>{_e(d['model'])}</b> ({d['model_size_bytes'] / 1024:.1f} KiB) · runtime {_e(d['runtime'])}"
            f" · threads {d['threads']} · warmup {d['warmup']} · {_e(json.dumps(d['mode']))}"
            f"{' · interleaved' if d['interleaved'] else ''} · inputs {_e(d['inputs'])}"
            f" · host {_e(d['host']['machine'])}, {d['host']['cpus']} CPUs</p>")
    return _page("edgelift bench", [
        meta, "<h2>Latency</h2>", table, hist, "<h2>Delegation</h2>", parts,
        _per_op_section(d), _size_section(model_source),
    ])


def _per_op_section(d: dict[str, Any], top: int = 20) -> str:
    measured = [c for c in d["configs"] if c.get("per_op")]
    if not measured:
        return f'<h2>Per-op timing</h2><p class="muted">{_e(d["per_op_note"])}</p>'
    base = measured[0]["per_op"]
    order = sorted(range(len(base)), key=lambda i: -(base[i]["median_us"] or 0.0))[:top]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(order) * max(len(measured), 1) / 1.5 + 1.5))
    height = 0.8 / len(measured)
    ys = list(range(len(order)))[::-1]
    for k, c in enumerate(measured):
        vals = [c["per_op"][i]["median_us"] or 0.0 for i in order]
        ax.barh([y + 0.4 - height * (k + 0.5) for y in ys], vals, height=height, label=c["delegate"])
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{base[i]['node']} {base[i]['op']}" for i in order])
    ax.set_xlabel("median time per op, isolated (us)")
    ax.set_title(f"slowest {len(order)} ops (order: {measured[0]['delegate']})")
    ax.legend(loc="lower right")
    rows = [[base[i]["node"], base[i]["op"]] + [
        "-" if c["per_op"][i]["median_us"] is None else f"{c['per_op'][i]['median_us']:.1f}" for c in measured]
        for i in order]
    return ("<h2>Per-op timing</h2>" + _img(_png(fig), "per-op timing")
            + _table(["node", "op"] + [f"{c['delegate']} us" for c in measured], rows, left=2)
            + f'<p class="muted">{_e(d["per_op_note"])}</p>')


def bench_report(result, path, model_source=None) -> str:
    from ...atomic import write_text

    write_text(path, bench_html(result, model_source))
    return str(path)


# -- validate -----------------------------------------------------------------------------------------
def validate_html(result, model_source=None) -> str:
    d = result.as_dict()
    from .verdict import NO_THRESHOLDS

    verdict = {"pass": '<p class="pass">PASS</p>',
               "unchecked": f'<p class="unchecked">{_e(NO_THRESHOLDS)}</p>',
               "fail": '<p class="fail">FAIL</p><ul>' + "".join(f"<li>{_e(f)}</li>" for f in d["failures"])
               + "</ul>"}[d["status"]]
    if d["alarms"]:
        verdict = ('<div class="alarm"><p class="fail">ALARM</p><ul>'
                   + "".join(f"<li>{_e(a)}</li>" for a in d["alarms"]) + "</ul></div>" + verdict)
    given = {k: v for k, v in d["thresholds"].items() if v is not None}
    meta = (f"<p>model <b>{_e(d['model'])}</b> on {_e(d['engine'])}<br>reference {_e(d['reference'])}<br>"
            f"data {_e(d['data'])}, {d['samples']} samples · thresholds "
            f"{_e(', '.join(f'{k}={v}' for k, v in given.items()) or 'none')}</p>")
    rows = []
    for o in d["outputs"]:
        ex = o.get("exact")
        rows.append([
            f"{o['index']} {o['name']}", str(tuple(o["shape"])), f"{o['max_abs_error']:.6g}",
            f"{o['mean_abs_error']:.6g}", f"{o['snr_db']:.2f}", f"{o['cosine']:.6f}",
            "-" if o["top1_agreement"] is None else f"{100 * o['top1_agreement']:.2f}%",
            "-" if o["accuracy"] is None else f"{100 * o['accuracy']:.2f}%",
            "-" if o["reference_accuracy"] is None else f"{100 * o['reference_accuracy']:.2f}%",
            "-" if ex is None else f"{100 * ex['identical_share']:.3f}% / {ex['max_lsb_difference']} LSB",
        ])
    table = _table(["output", "shape", "max abs err", "mean abs err", "SNR dB", "cosine", "top-1 agree",
                    "accuracy", "ref accuracy", "identical / max diff"], rows)
    sections = [meta, verdict, "<h2>Outputs</h2>", table]
    diag = d.get("per_layer")
    if diag:
        plt = _plt()
        layers = diag["layers"]
        names = [f"{e['node']} {e['layer']}" for e in layers]
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(layers) + 1.5))
        y = list(range(len(layers)))[::-1]
        ax.barh([v + 0.2 for v in y], [e.get("error", e["rel_error"]) for e in layers], height=0.4,
                label="relative error at output (tensor or median channel, the worse)")
        ax.barh([v - 0.2 for v in y], [e["added"] for e in layers], height=0.4, label="error added by the layer")
        ax.axvline(diag["threshold"], color="#b00020", ls="--", lw=1, label=f"threshold {diag['threshold']:g}")
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.set_xlabel("relative RMS error (dequantized int8 vs float)")
        ax.legend(loc="lower right")
        ax.set_title("per-layer error")
        lrows = [[e["node"], e["layer"] + (" (range dominated)" if e.get("range_dominated") else ""), e["op"],
                  f"{e['rel_error']:.4f}", f"{e.get('channel_error', 0.0):.4f}", f"{e['added']:+.4f}",
                  f"{e['snr_db']:.1f}", f"{100 * e['clipped']:.2f}%", f"{100 * e.get('crushed_share', 0.0):.2f}%",
                  f"{e.get('dominance', 1.0):.0f}x", f"{e['levels']:.1f}"] for e in layers]
        sections += [
            "<h2>Per-layer diagnosis</h2>",
            f"<p>cause: <b>{_e(diag.get('cause') or 'none')}</b> · first layer over the threshold: "
            f"<b>{_e(diag['first_crossing'] or 'none')}</b> · worst (error "
            f"added): {_e(', '.join(diag['worst']))} · tensors matched by {_e(diag['matching'])}, "
            f"{diag['samples']} samples</p>",
            _img(_png(fig), "per-layer error"),
            _table(["node", "layer", "op", "rel error", "median channel err", "added", "SNR dB", "clipped",
                    "crushed", "range / median channel", "std/scale"], lrows, left=3),
            "<ul>" + "".join(f"<li>{_e(a)}</li>" for a in diag["advice"]) + "</ul>",
        ]
    sections.append(_size_section(model_source))
    sections.append("<h2>Raw result</h2><pre>" + _e(json.dumps(d, indent=1, default=str)[:20000]) + "</pre>")
    return _page("edgelift validate", sections)


def validate_report(result, path, model_source=None) -> str:
    from ...atomic import write_text

    write_text(path, validate_html(result, model_source))
    return str(path)
