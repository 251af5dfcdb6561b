"""The lab's gallery: ``index.html`` linking one self-contained page per experiment.

Every page holds its figures as base64 ``data:`` URIs and its style inline: no network, no
other file needed, so a page can be mailed or opened from anywhere.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from honed.lab.base import FAIL, INCONCLUSIVE, PASS, LabResult

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f2f2f2; }
.pass { color: #fff; background: #2e7d32; padding: 2px 8px; border-radius: 4px; }
.fail { color: #fff; background: #c62828; padding: 2px 8px; border-radius: 4px; }
.inconclusive { color: #222; background: #f9a825; padding: 2px 8px; border-radius: 4px; }
.mode { color: #555; font-size: 0.92em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.reason { font-size: 0.92em; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _badge(result: LabResult) -> str:
    word = result.verdict.word
    return f"<span class='{word.lower()}'>{word}</span>"


def _mode(result: LabResult) -> str:
    return "quick" if result.quick else "full"


def reproduce_command(result: LabResult) -> str:
    """The command that makes this experiment's result again (its mode and seeds)."""
    quick = " --quick" if result.quick else ""
    return f"honed lab {result.name}{quick} --seeds {len(result.seeds)}"


def _table(result: LabResult) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in result.table()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def experiment_page(result: LabResult) -> str:
    """One experiment: claim, settings, table, figures, verdict (images embedded)."""
    doc = html.escape(result.claim)
    figures = "".join(
        f"<h3>{html.escape(name)}</h3><img alt='{html.escape(name)}' "
        f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
        for name, data in result.figures.items()
    )
    settings = html.escape(
        "\n".join(
            f"{key} = {json.dumps(value, default=str, ensure_ascii=False)}"
            for key, value in result.settings.items()
        )
    )
    body = (
        f"<p><a href='index.html'>← all experiments</a></p>"
        f"<h1>{html.escape(result.name)} {_badge(result)}</h1>"
        f"<p class='mode'>{_mode(result)} mode"
        + (" (fewer iterations than the notes' settings)" if result.quick else "")
        + f"; reproduce: <code>{html.escape(reproduce_command(result))}</code></p>"
        f"<p><b>Claim (the course):</b> {doc}</p>"
        f"<p class='reason'><b>Verdict:</b> {html.escape(str(result.verdict))}</p>"
        f"<h2>Measurements (mean ± sd over {len(result.seeds)} seeds)</h2>{_table(result)}"
        + (f"<p><b>Course reference:</b> {html.escape(result.notes)}</p>" if result.notes else "")
        + f"<h2>Figures</h2>{figures}"
        f"<h2>Settings</h2><pre>{settings}</pre>"
        f"<p>seeds {result.seeds}, {result.seconds:.1f} s</p>"
    )
    return _page(f"honed lab: {result.name}", body)


def page_name(name: str) -> str:
    return f"{name}.html"


def write_gallery(results: list[LabResult], out, command: str | None = None) -> Path:
    """Write ``out/index.html`` and ``out/<experiment>.html``; returns the index path.

    ``command`` is the command line that made the results (shown as "Reproduce"); by
    default the ``honed lab --all`` command of their mode and seeds.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for r in results:
        (out / page_name(r.name)).write_text(experiment_page(r), encoding="utf-8")
        items.append(
            f"<tr><td><a href='{page_name(r.name)}'>{html.escape(r.name)}</a></td>"
            f"<td>{_badge(r)}</td><td>{html.escape(r.claim)}</td>"
            f"<td>{_mode(r)}</td><td>{len(r.seeds)}</td><td>{r.seconds:.1f} s</td></tr>"
        )
    words = [r.verdict.word for r in results]
    counts = ", ".join(f"{words.count(w)} {w}" for w in (PASS, FAIL, INCONCLUSIVE))
    modes = sorted({_mode(r) for r in results})
    if command is None and results:
        quick = " --quick" if results[0].quick else ""
        command = f"honed lab --all{quick} --seeds {len(results[0].seeds)} --out {out}"
    body = (
        "<h1>honed: the course lab</h1>"
        f"<p>{len(results)} experiments of the course's notes, each rerun over several seeds "
        f"and checked against the course's claim, seed by seed: {counts}. "
        f"Made in {' and '.join(modes)} mode"
        + (" (fewer iterations than the notes' settings)" if "quick" in modes else "")
        + ".</p>"
        "<table><tr><th>experiment</th><th>verdict</th><th>claim</th><th>mode</th>"
        f"<th>seeds</th><th>time</th></tr>{''.join(items)}</table>"
        f"<p>Reproduce: <code>{html.escape(command or '')}</code> (one experiment: the command "
        "on its page).</p>"
    )
    index = out / "index.html"
    index.write_text(_page("honed: the course lab", body), encoding="utf-8")
    return index
