"""mkdocs hooks: the pages of the documentation, made at build time from their sources.

- the README: its introduction is the front page, each ``## `` section a page, in order;
- ``config-keys.md``: the output of ``honed config --keys`` (the keys, types and defaults the
  installed honed accepts; never a copied file);
- ``benchmarks.md``: ``benchmarks/README.md``;
- ``api/<package>.md``: ``::: honed.<package>`` for mkdocstrings, from the docstrings.

Links in the README to ``docs/...`` are made relative to the site; links to other files of the
repository become their path in code (the site has no copy of them).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_PACKAGES = (
    ("honed", "honed"),
    ("autograd", "honed.autograd"),
    ("nn", "honed.nn"),
    ("optim", "honed.optim"),
    ("data", "honed.data"),
    ("train", "honed.train"),
    ("diagnose", "honed.diagnose"),
    ("population", "honed.population"),
    ("tune", "honed.tune"),
    ("experiment", "honed.experiment"),
    ("export", "honed.export.onnx"),  # the graph, its inputs and outputs
    ("plots", "honed.plots"),
    ("lab", "honed.lab"),
    ("sklearn", "honed.sklearn"),
)
_LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def readme_sections(text: str) -> list[tuple[str, str]]:
    """``[(title, markdown), ...]``: the introduction, then each ``## `` section (headings
    inside code blocks are code, not sections)."""
    sections, title, lines, fenced = [], "Home", [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("## ") and not fenced:
            sections.append((title, "\n".join(lines)))
            title, lines = line[3:].strip(), [f"# {line[3:].strip()}"]
        else:
            lines.append(line)
    sections.append((title, "\n".join(lines)))
    return sections


def _page_name(title: str) -> str:
    return "index.md" if title == "Home" else f"{_slug(title)}.md"


def _relink(markdown: str) -> str:
    def fix(match: re.Match) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        if "://" in target or target.startswith(("mailto:", "#")):
            return match.group(0)
        if target.startswith("docs/"):
            return f"]({target[len('docs/') :]}{anchor})"
        if target == "benchmarks/README.md":
            return f"](benchmarks.md{anchor})"
        return f"]({target}{anchor})"

    markdown = _LINK.sub(fix, markdown)
    # links to files the site has no copy of: their path, in code
    return re.sub(
        r"\[([^\]]+)\]\(((?:examples|tests|honed|benchmarks)/[^)]*)\)",
        lambda m: f"{m.group(1)} (`{m.group(2)}`)",
        markdown,
    )


def key_reference() -> str:
    """``honed config --keys`` of the honed being documented."""
    out = subprocess.run(
        [sys.executable, "-m", "honed", "config", "--keys"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def _pages() -> list[tuple[str, str, str]]:
    """``[(nav title, file, markdown), ...]`` in the order of the navigation."""
    pages = [
        (title, _page_name(title), _relink(md) + "\n")
        for title, md in readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    ]
    pages.append(("Experiment file keys", "config-keys.md", key_reference()))
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    pages.append(("Benchmarks", "benchmarks.md", _relink(bench)))
    for name, module in API_PACKAGES:
        pages.append((f"API: {module}", f"api/{name}.md", f"::: {module}\n"))
    return pages


_PAGES: list[tuple[str, str, str]] = []


def on_config(config):
    _PAGES[:] = _pages()
    readme = [{title: path} for title, path, _ in _PAGES if not path.startswith("api/")]
    api = [
        {title.removeprefix("API: "): path} for title, path, _ in _PAGES if path.startswith("api/")
    ]
    config["nav"] = [*readme, {"API reference": api}]
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for _, path, markdown in _PAGES:
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)  # docs/config-keys.md is the committed copy; this is current
        files.append(File.generated(config, path, content=markdown))
    return files
