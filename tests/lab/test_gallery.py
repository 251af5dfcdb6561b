"""The gallery opened in headless Chromium: every image loaded, no console errors, not blank."""

import re

from honed import lab
from honed.lab.gallery import write_gallery
from tests.pages import open_page, require_browser

SUBSET = ("xor", "softmax", "scales", "gradcheck")


def test_gallery_is_self_contained_and_opens_in_a_browser(tmp_path):
    require_browser()
    results = [lab.run(name, seeds=2, quick=True) for name in SUBSET]
    index = write_gallery(results, tmp_path)
    page = index.read_text()
    for name in SUBSET:
        assert f"href='{name}.html'" in page
    for name in SUBSET:
        html = (tmp_path / f"{name}.html").read_text()
        # images embedded, nothing fetched from the network or other files
        assert "data:image/png;base64," in html
        assert not re.search(r"(src|href)=['\"](https?:|//)", html)
    check = open_page(index, tmp_path / "index.png")
    assert check.console_errors == [] and check.distinct_colours > 3
    assert "PASS" in check.text
    # which mode made it, and the command that makes it again
    assert "Made in quick mode" in check.text
    assert f"Reproduce: honed lab --all --quick --seeds 2 --out {tmp_path}" in check.text
    for name, result in zip(SUBSET, results):
        check = open_page(tmp_path / f"{name}.html", tmp_path / f"{name}.png")
        assert check.images == len(result.figures) and check.broken_images == []
        assert check.console_errors == [] and check.distinct_colours > 10
        assert result.verdict.word in check.text and "Claim" in check.text
        assert (
            f"quick mode (fewer iterations than the notes' settings); reproduce: honed lab {name} --quick --seeds 2"
            in " ".join(check.text.split())
        )
