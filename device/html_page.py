"""The parts of edgelift's self-contained HTML pages (`bench` / `validate` / `bench --emulate` `--report`):
inline CSS, escaped tables, matplotlib figures embedded as base64 PNGs. Shared by `checking` and `emulate`,
which must not import each other's modules for it."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from ..errors import RuntimeUnavailableError

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}.unchecked{color:#7a5b00;font-weight:bold}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}img{max-width:100%}
.muted{color:#666;font-size:.9em}
"""


def plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeUnavailableError(f"--report needs matplotlib, which is not importable: {exc}",
                                      hint="pip install matplotlib, or leave --report out") from None
    return plt


def png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def e(x: Any) -> str:
    return html.escape(str(x))


def table(head: list[str], rows: list[list[Any]], left: int = 1) -> str:
    th = "".join(f'<th class="{"l" if i < left else ""}">{e(h)}</th>' for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{e(c)}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def page(title: str, sections: list[str]) -> str:
    from .. import __version__

    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{e(title)}</h1>" + "".join(sections)
            + f'<p class="muted">edgelift {__version__}</p></body></html>')
