"""Bodies render as GitHub shows them, and no body can put a script or an attribute on the page."""

from __future__ import annotations

import pytest

from github_sandbox.pages_markdown import render_markdown

# (Markdown, fragments the HTML holds, fragments it must not hold)
CASES = [
    ("### Why\n- one\n- two", ["<h3>Why</h3>", "<ul>\n<li>one</li>\n<li>two</li>"], ["###"]),
    ("| a | b |\n| --- | --- |\n| 1 | 2 |", ["<th>a</th>", "<td>2</td>"], ["| a"]),
    ("```yaml\ntag: <1.2>\n```", ['<code class="language-yaml">tag: &lt;1.2&gt;'], ["<1.2>"]),
    ("run `x < y`", ["<code>x &lt; y</code>"], []),
    ("[notes](https://e.test/r?a=1&b=2)", ['<a href="https://e.test/r?a=1&amp;b=2">notes</a>'], []),
    ("**bold** ~~gone~~", ["<strong>bold</strong>", "<s>gone</s>"], []),
    ("one\ntwo", ["one<br />\ntwo"], []),  # a newline is a line break, as in comments
    (
        "<details open>\n<summary>Files</summary>\n\n- a\n</details>",
        ["<details open>", "<summary>Files</summary>", "<li>a</li>", "</details>"],
        [],
    ),
    ("<sub>small</sub> <kbd>K</kbd> a<br/>b", ["<sub>small</sub>", "<kbd>K</kbd>", "a<br>b"], []),
    # The bot's hidden metadata, and any other comment, is not shown (closed or not).
    ('text\n\n<!-- promotion-bot:v1 {"kind":"promotion-pr"} -->', ["<p>text</p>"], ["kind"]),
    ("a <!-- hidden --> b", ["a  b"], ["hidden"]),
    ("text\n\n<!-- never closed\n\nstill hidden", [], ["never", "still hidden"]),
    # Everything else written as HTML is text.
    ("<script>alert(1)</script>", ["&lt;script&gt;alert(1)&lt;/script&gt;"], ["<script"]),
    ("<img src=x onerror=alert(1)>", ["&lt;img src=x onerror=alert(1)&gt;"], ["<img"]),
    ('x <b onclick="go()">b</b>', ["&lt;b onclick=&quot;go()&quot;&gt;b"], ["<b "]),
    ("<details open=x>s</details>", ["&lt;details open=x&gt;"], ["<details"]),
    ('<a href="javascript:alert(1)">y</a>', ["&lt;a href="], ["<a "]),
    ("<style>body{display:none}</style>", ["&lt;style&gt;"], ["<style"]),
    ("<iframe src=https://e.test></iframe>", ["&lt;iframe"], ["<iframe"]),
    # Links markdown-it will not make: the text stays, the URL goes nowhere.
    ("[j](javascript:alert(1))", ["[j](javascript:alert(1))"], ["href"]),
    ("[d](data:text/html;base64,PHNjcmlwdD4=)", ["[d]("], ["href"]),
    ("[v](vbscript:msgbox) [f](file:///etc/passwd)", ["[v](vbscript:msgbox)"], ["href"]),
    # A stray closing tag is text; tags left open are closed where the body ends.
    ("</details> after", ["&lt;/details&gt; after"], []),
    ("<details><summary>s</summary>\n\nrest", ["<p>rest</p>\n</details></div>"], []),
    ("<b><i>x\n\nrest", ["<p>rest</p>\n</i></b></div>"], []),
]


@pytest.mark.parametrize(("markdown", "shown", "absent"), CASES)
def test_markdown_renders_safely(markdown: str, shown: list[str], absent: list[str]) -> None:
    rendered = render_markdown(markdown)
    assert rendered.startswith("<div class='markdown'>") and rendered.endswith("</div>")
    for fragment in shown:
        assert fragment in rendered
    for fragment in absent:
        assert fragment not in rendered


def test_no_body_is_an_empty_block() -> None:
    assert render_markdown(None) == render_markdown("") == "<div class='markdown'></div>"
