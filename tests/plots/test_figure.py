"""The end every figure file shares: title, layout, then the figure or a PNG written."""

from honed.plots.figure import finish, pyplot


def test_finish_returns_the_figure_without_a_path_and_writes_png_with_one(tmp_path):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    assert finish(fig, None, "kept") is fig and fig._suptitle.get_text() == "kept"
    path = finish(fig, tmp_path / "new folder" / "f.png", dpi=50)
    assert path == tmp_path / "new folder" / "f.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert not plt.fignum_exists(fig.number)  # closed once written
