"""The page checker itself: it must see a loaded image, a broken one and a console error."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from tests.pages import open_page, require_browser


def _png_data_uri() -> str:
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_page_check_sees_loaded_and_broken_images_and_console_errors(tmp_path):
    require_browser()
    good = tmp_path / "good.html"
    good.write_text(
        f"<html><head><title>ok</title></head><body><h1>hello</h1><img src='{_png_data_uri()}'></body></html>"
    )
    check = open_page(good, tmp_path / "good.png")
    assert check.title == "ok" and check.images == 1 and check.broken_images == []
    assert check.console_errors == [] and check.distinct_colours > 2 and "hello" in check.text

    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><body><img src='missing.png'><script>throw new Error('boom')</script></body></html>"
    )
    check = open_page(bad, tmp_path / "bad.png")
    assert len(check.broken_images) == 1
    assert any("boom" in e for e in check.console_errors)
