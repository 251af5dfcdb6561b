"""A griffe extension for ``make docs``: the Sphinx roles in honed's docstrings as code.

honed's docstrings name other objects the Sphinx way (``:func:`to_onnx```,
``:class:`~honed.experiment.bundle.RunBundle```); mkdocstrings reads Markdown, where those
roles would show as raw text. Each becomes inline code (``~`` keeps the last name, as in Sphinx),
and a paragraph ending in ``::`` (reST: a code block follows) ends in one colon.
"""

from __future__ import annotations

import re

import griffe

_LITERAL_MARK = re.compile(r"(?<=\S)::$", re.MULTILINE)
_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj|py:\w+):`(~?)([^`]+)`")


def _code(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites ``:role:`target``` to ```target``` (and ``::`` to ``:``) in every docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(_code, obj.docstring.value)
            obj.docstring.value = _LITERAL_MARK.sub(":", text)
