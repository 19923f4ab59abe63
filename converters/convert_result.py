"""What `edgelift.convert` returns: the paths written, the report, the warnings, and the terminal summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ConvertResult:
    output: Path
    report: dict[str, Any]
    report_path: Path | None
    recipe_path: Path | None  # None: the run read its recipe from where it would write it, left as it was
    warnings: list[str] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        return self.report["output"]["size_bytes"]

    def summary(self) -> str:
        r = self.report
        q = r["steps"]["quantize"]
        per_op = {k: v for k, v in (q.get("layers") or {}).items() if v != q["mode"]}  # `layers:` modes of their own
        modes = f" (per op: {', '.join(f'{k} {v}' for k, v in per_op.items())})" if per_op else ""
        line = (f"wrote {self.output} ({self.size_bytes:,} bytes, {q['mode']}{modes}"
                f"{', io ' + q['io'] if q['mode'] == 'int8' else ''}, weight sparsity "
                f"{r['sparsity']['weight_sparsity']:.0%}) in {r['seconds']:.1f} s")
        acc = r.get("accuracy")
        if acc and acc.get("tflite") is not None:
            metric = acc["metric"]
            where = f"on {acc['samples']} samples of {acc['eval_data']}"
            if metric == "max_abs_diff_vs_float":
                line += f"\nmax |.tflite - float| {where}: {acc['tflite']:.4g}"
            else:
                fl = "n/a" if acc.get("float") is None else f"{acc['float']:.4f}"
                line += f"\n{metric} {where}: float {fl}, .tflite {acc['tflite']:.4f}"
                if acc.get("float_optimized") is not None:
                    line += f" (optimized float model {acc['float_optimized']:.4f})"
        prep = r["steps"].get("preprocess")
        if prep:  # a .tflite input: say what was repaired for the quantizer
            fixes = [f for f, on in (("added a SignatureDef", prep["signature_added"]),
                                     (f"op codes of {', '.join(prep['op_codes_fixed'])} taken from the deprecated "
                                      "8-bit field", prep["op_codes_fixed"]),
                                     (f"{prep['fp16_dequantize_folded']} fp16 weights widened to float32",
                                      prep["fp16_dequantize_folded"]),
                                     (f"{prep['external_buffers_inlined']} external buffers read in",
                                      prep["external_buffers_inlined"])) if on]
            if fixes:
                line += "\nprepared for ai-edge-quantizer: " + "; ".join(fixes)
        sp = r.get("sparse_prediction")
        if sp and (sp["layers"] or sp["target"]):
            from .sparse_report import layer_lines, summary_line

            line += "\n" + "\n".join([summary_line(sp), *layer_lines(sp)])
        if r["steps"].get("distill"):
            from .distill_step import summary_line

            line += "\n" + summary_line(r["steps"]["distill"])
        if r.get("search"):
            line = r["search"]["table"] + "\n" + line
        if self.report_path:
            line += f"\nreport: {self.report_path}"
        line += f"\nrecipe: {self.recipe_path}" if self.recipe_path else "\nrecipe: the one given (unchanged)"
        return line
