"""Text that came from users' files (names, labels, folders) made inert inside Markdown.

``st.caption``, ``st.markdown`` and the message boxes render Markdown, so a file named
``![x](http://host/p.png)`` would make the browser of whoever sees the name fetch that
image, and ``$…$`` or ``[…](…)`` would restyle the page or plant a link. Plain Python:
pages wrap every such piece of text in :func:`escape`.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the ones
# Markdown, GitHub-flavoured tables, Streamlit's directives and KaTeX give a meaning.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")


def escape(text: object) -> str:
    """``text`` shown literally when rendered as Markdown (one line: breaks become spaces)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


def escape_lines(text: object) -> str:
    """Each line of ``text`` shown literally, the line breaks kept (Markdown hard breaks)."""
    return "  \n".join(escape(line) for line in str(text).splitlines())
