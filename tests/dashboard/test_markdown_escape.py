"""File names and labels shown in Markdown stay literal text."""

from __future__ import annotations

import markdown_it
import pytest

from dashboard.markdown import escape, escape_lines


@pytest.mark.parametrize("name", [
    "![x](http://tracker.invalid/p.png)",
    "<img src=http://tracker.invalid/p.png>",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` $x^2$ a|b ~~del~~ # title",
    "photos\\sub/a.png",
    "1. first.png",
    "- item _a_ b.png",
    "# 12) x.png",
])
def test_escaped_names_render_as_the_same_text(name):
    html = markdown_it.MarkdownIt("commonmark").render(escape(name))
    assert "<img" not in html and "<a " not in html and "<strong>" not in html
    assert html.strip() == "<p>" + name.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;") + "</p>"


def test_line_breaks_cannot_start_a_new_block():
    assert "\n" not in escape("a.png\n# heading\r\n- item")


def test_escaped_lines_keep_their_breaks():
    html = markdown_it.MarkdownIt("commonmark").render(escape_lines("![a](http://x/y)\nsize: 2"))
    assert "<br />" in html and "<img" not in html and "![a](http://x/y)" in html


def test_ordinary_names_are_left_alone():
    assert escape("holiday_2024-07.v2.png") == "holiday_2024-07.v2.png"
