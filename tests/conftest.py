"""Session-wide test set-up."""

import os
import tempfile


def pytest_configure(config):
    # honed keeps decompressed copies of gzip data files in the user cache; tests write
    # theirs to a throw-away directory instead of the developer's ~/.cache (subprocesses
    # started by tests inherit it).
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="honed-test-cache-")
