"""The documentation's pages are made from the README (docs/hooks.py, run by ``make docs``):
nothing of the README is lost or moved, and its links work on the site."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_sections_are_the_readme_in_order():
    hooks = load_hooks()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = hooks.readme_sections(readme)
    titles = [title for title, _ in sections]
    headings = [line[3:].strip() for line in readme.splitlines() if line.startswith("## ")]
    assert titles[0] == "Home" and "Deploy" in titles and "Install" in titles
    assert titles[1:] == headings  # (the README has no "## " line inside a code block)
    rebuilt = "\n".join(
        md if title == "Home" else md.replace(f"# {title}", f"## {title}", 1)
        for title, md in sections
    )
    assert rebuilt == "\n".join(readme.splitlines())


def test_code_fences_keep_their_headings():
    hooks = load_hooks()
    text = "intro\n## A\n```sh\n## not a section\n```\n## B\nend"
    assert [t for t, _ in hooks.readme_sections(text)] == ["Home", "A", "B"]


def test_links_point_into_the_site_or_become_paths():
    hooks = load_hooks()
    md = (
        "[fig](docs/figures/a.png) [b](benchmarks/README.md#x) [e](examples/moons.toml) "
        "[w](https://example.org/a)"
    )
    assert hooks._relink(md) == (
        "[fig](figures/a.png) [b](benchmarks.md#x) e (`examples/moons.toml`) "
        "[w](https://example.org/a)"
    )
