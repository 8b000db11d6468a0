"""Text that came from users' files (names, labels, folders) made inert inside Markdown.

``st.caption``, ``st.markdown`` and the message boxes render Markdown, so a file named
``![x](http://host/p.png)`` would make the browser of whoever sees the name fetch that
image, and ``$…$`` or ``[…](…)`` would restyle the page or plant a link. Plain Python:
pages wrap every such piece of text in :func:`escape`.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash. Escaped: what makes
# links, images, HTML, code, tables, Streamlit's directives and KaTeX anywhere; an
# underscore only where it can start or end emphasis (not in "photo_1"), a colon only
# where it can start a directive or an icon (not before a space); list, quote and
# heading markers only at the start. Ordinary names ("photo_1.png") stay as they are.
_SPECIAL = re.compile(r"[\\`*{}\[\]()<>!|~$&]|:(?=\S)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BLOCK_START = re.compile(r"^(\s*\d*)([-+#>=.])")


def escape(text: object) -> str:
    """``text`` shown literally when rendered as Markdown (one line: breaks become spaces)."""
    line = _SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(str(text).splitlines()))
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)


def escape_lines(text: object) -> str:
    """Each line of ``text`` shown literally, the line breaks kept (Markdown hard breaks)."""
    return "  \n".join(escape(line) for line in str(text).splitlines())
