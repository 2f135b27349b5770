"""Every code block of the documentation site (docs/, built by `make docs`) is run, so the pages
cannot drift from the code.

The conventions a page follows (getting-started.md, "How these pages are tested", says them
for readers):

* ```python blocks run: a page's blocks run in order in one fresh interpreter — a script
  made of them, run as `__main__` in a temporary directory — sharing their names as a reader's
  session would. The script keeps the page's line numbers (every other line is blank), so a
  traceback's line is the page's. Every block is complete code: no fragments.
* A ```python block followed by the line `<!-- output -->` and a ```text block: the block's
  stdout must be that text (exactly, after trailing whitespace is stripped from each line and
  from the end).
* `<!-- not run: <reason> -->` on the line just before a ```python block skips it: only for
  what cannot run here (a real cluster's address); the reason is required, and the whole site
  may hold at most `MAX_NOT_RUN` of them.
* ```rust blocks are doctests of the crate `parallel`: crates/parallel/src/site_docs.rs includes
  each page that has one (`cargo test -p parallel --doc` runs them); a page with a rust block
  missing there fails here.
* ```console (shell commands, `$ make test`), ```text (output, diagrams) and ```toml
  (configuration files) are shown, not run. Any other fence (```bash, ```sh, ```py, or none)
  fails, saying which to use.

Run alone: `python -m pytest -q tests/test_docs.py` (the package must be built: `make python`).
"""

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SITE_DOCS_RS = ROOT / "crates" / "parallel" / "src" / "site_docs.rs"

OUTPUT = "<!-- output -->"
NOT_RUN = re.compile(r"^\s*<!--\s*not run:(?P<reason>.*?)-->\s*$")
MAX_NOT_RUN = 3

# The languages a fence may have, and what becomes of each.
RUN = {"python", "rust"}
SHOWN = {"console", "text", "toml"}
# What to write instead of a language that is not allowed.
INSTEAD = {
    "": "tag every fence: ```python (run), ```rust (a doctest), ```console (a shell command, "
    "not run) or ```text (output or a diagram, not run)",
    "py": "write ```python (it is run)",
    "python3": "write ```python (it is run)",
    "pycon": "write ```python with complete code (it is run), and its output as ```text after "
    "<!-- output -->",
    "rs": "write ```rust (a doctest of the crate)",
    "bash": "write shell commands as ```console with a `$ ` prompt (not run), or the code as ```python",
    "sh": "write shell commands as ```console with a `$ ` prompt (not run), or the code as ```python",
    "shell": "write shell commands as ```console with a `$ ` prompt (not run)",
    "zsh": "write shell commands as ```console with a `$ ` prompt (not run)",
}

# Seconds a page's script may take: generous, for a loaded 2-core machine (a page that starts
# a local cluster takes seconds); nothing measures time.
PAGE_TIMEOUT = 900


@dataclass
class Block:
    lang: str
    line: int  # the line of its opening fence, from 1
    first: int  # the index (from 0) of its first line of code
    code: str
    before: str  # the line just before the opening fence ("" for none)


def fences(text):
    """The fenced blocks of a markdown page, in order. A fence may be indented (in a list):
    its code is dedented by the fence's indentation."""
    lines = text.splitlines()
    blocks, i = [], 0
    opening = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
    while i < len(lines):
        m = opening.match(lines[i])
        if not m or ("`" in m["info"] and m["fence"][0] == "`"):
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        info = m["info"].strip()
        lang = info.split()[0].strip("{}.").lower() if info else ""
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : j]]
        blocks.append(Block(lang, i + 1, i + 1, "\n".join(body), lines[i - 1] if i else ""))
        i = j + 1
    return blocks


def pages():
    return sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def text_of(page):
    return (DOCS / page).read_text(encoding="utf-8")


def problems_of(page, text, blocks):
    """What breaks the conventions in a page: a list of messages."""
    problems = []
    lines = text.splitlines()
    for n, block in enumerate(blocks):
        where = f"{page}:{block.line}"
        if block.lang not in RUN | SHOWN:
            advice = INSTEAD.get(block.lang, "use ```python, ```rust, ```console, ```text or ```toml")
            problems.append(f"{where}: a ```{block.lang} block: {advice}")
        not_run = NOT_RUN.match(block.before)
        if not_run:
            if block.lang != "python":
                problems.append(f"{where}: <!-- not run: … --> goes only before a ```python block")
            elif not not_run["reason"].strip():
                problems.append(f"{where}: <!-- not run: --> needs its reason: what cannot run here")
        if block.before.strip() == OUTPUT:
            previous = blocks[n - 1] if n else None
            if block.lang != "text":
                problems.append(f"{where}: <!-- output --> goes just before a ```text block")
            elif previous is None or previous.lang != "python" or not _adjacent(lines, previous, block):
                problems.append(f"{where}: the output block has no ```python block just before it")
    return problems


def _adjacent(lines, previous, block):
    """Whether only blank lines lie between `previous`'s closing fence and `block`'s marker."""
    closing = previous.line + previous.code.count("\n") + 1  # its closing fence, from 0
    return all(not line.strip() for line in lines[closing + 1 : block.line - 2])


def outputs(blocks):
    """The expected stdout of each python block that has one: {block line: text}."""
    expected = {}
    for previous, block in zip(blocks, blocks[1:]):
        if block.lang == "text" and block.before.strip() == OUTPUT and previous.lang == "python":
            expected[previous.line] = block.code
    return expected


MARK = "\x1e{}\x1e"


def script_of(text, blocks):
    """The page as a script: each python block's code on its own lines, every other line
    blank, and on each block's opening fence line a mark written to stdout (where the block's
    output begins) by the page's process."""
    lines = [""] * (len(text.splitlines()) + 1)
    for block in blocks:
        if block.lang != "python" or NOT_RUN.match(block.before):
            continue
        # Only in the page's own process: a child that imports the script again (a spawned
        # multiprocessing or Dask worker runs it as `__mp_main__`) writes no marks.
        lines[block.line - 1] = (
            f"__name__ == '__main__' and __import__('sys').stdout.write({MARK.format(block.line)!r} + '\\n')"
        )
        for k, code in enumerate(block.code.split("\n")):
            lines[block.line + k] = code
    return "\n".join(lines) + "\n"


def split_output(stdout):
    """{block line: its stdout} from a run's stdout, cut at the marks."""
    parts = re.split(r"\x1e(\d+)\x1e\n", stdout)
    return {int(line): out for line, out in zip(parts[1::2], parts[2::2])}


def normalized(out):
    return "\n".join(line.rstrip() for line in out.rstrip().splitlines())


def failed_block(python_blocks, stdout, stderr, script_name):
    """The line of the block that was running when the script failed: the last whose mark
    reached stdout, else the block of the traceback's outermost line in the page's script."""
    started = split_output(stdout)
    if started:
        return max(started)
    lines = [int(n) for n in re.findall(rf'File ".*{re.escape(script_name)}", line (\d+)', stderr)]
    inside = [b.line for b in python_blocks if lines and b.line < lines[0]]
    return inside[-1] if inside else None


@pytest.mark.parametrize("page", pages())
def test_page(page, tmp_path):
    text = text_of(page)
    blocks = fences(text)
    problems = problems_of(page, text, blocks)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)

    python_blocks = [b for b in blocks if b.lang == "python" and not NOT_RUN.match(b.before)]
    if not python_blocks:
        return
    script_name = page.replace("/", "__") + ".py"
    script = tmp_path / script_name
    script.write_text(script_of(text, blocks), encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [sys.executable, script_name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
    )
    if run.returncode != 0:
        line = failed_block(python_blocks, run.stdout, run.stderr, script_name)
        where = f"the python block at line {line}" if line else "a python block"
        pytest.fail(
            f"{page}: {where} failed (exit code {run.returncode}; the traceback's lines in "
            f"{script_name} are the page's):\n{textwrap.indent(run.stderr.strip()[-6000:], '    ')}",
            pytrace=False,
        )
    got = split_output(run.stdout)
    for line, want in outputs(blocks).items():
        have = got.get(line, "")
        if normalized(have) != normalized(want):
            pytest.fail(
                f"{page}: the output of the python block at line {line} differs from its "
                f"<!-- output --> block:\n--- printed\n{have}\n--- written\n{want}",
                pytrace=False,
            )


# The modules whose docstrings docs/reference/python.md renders (mkdocstrings): their examples
# (`>>>`) are on the site too, and run as doctests.
DOCSTRING_MODULES = [
    "parallel",
    "parallel._engine",
    "parallel._results",
    "parallel._tasks",
    "parallel._progress",
    "parallel._initializer",
    "parallel.exceptions",
]


def test_docstring_examples(tmp_path):
    script = textwrap.dedent(
        f"""\
        import doctest, importlib, sys
        failed = attempted = 0
        for name in {DOCSTRING_MODULES!r}:
            result = doctest.testmod(importlib.import_module(name))
            failed += result.failed
            attempted += result.attempted
        print(attempted, "examples")
        sys.exit(1 if failed or not attempted else 0)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=PAGE_TIMEOUT
    )
    if run.returncode != 0:
        pytest.fail(f"the docstrings' examples failed:\n{run.stdout}\n{run.stderr}", pytrace=False)


def rust_pages_listed():
    """The pages crates/parallel/src/site_docs.rs includes."""
    source = SITE_DOCS_RS.read_text(encoding="utf-8")
    return set(re.findall(r'include_str!\("\.\./\.\./\.\./docs/([^"]+)"\)', source))


def test_every_page_with_rust_blocks_is_a_doctest():
    listed = rust_pages_listed()
    missing = []
    for page in pages():
        text = text_of(page)
        if any(b.lang == "rust" for b in fences(text)) and page not in listed:
            missing.append(page)
    assert not missing, (
        f"pages with ```rust blocks that {SITE_DOCS_RS.relative_to(ROOT)} does not include (so "
        f"`cargo test --doc` would not run them): {', '.join(missing)}; add for each "
        '`#[doc = include_str!("../../../docs/<page>")] pub struct <Name>;`'
    )
    gone = sorted(page for page in listed if not (DOCS / page).exists())
    assert not gone, f"site_docs.rs includes pages that do not exist: {', '.join(gone)}"


def test_few_blocks_are_not_run():
    skipped = [
        f"{page}:{b.line}"
        for page in pages()
        for b in fences(text_of(page))
        if NOT_RUN.match(b.before)
    ]
    assert len(skipped) <= MAX_NOT_RUN, (
        f"{len(skipped)} blocks are marked <!-- not run -->, at most {MAX_NOT_RUN} may be: "
        f"{', '.join(skipped)}; make them run"
    )


def test_the_runner_reads_fences():
    """The parser and the conventions themselves, on a page made here."""
    page = textwrap.dedent(
        """\
        # A page

        ```python
        print("hi")
        ```

        <!-- output -->
        ```text
        hi
        ```

        - a list item:

          ```python
          x = 1
          ```

        <!-- not run: a real cluster -->
        ```python
        connect("tcp://somewhere:8786")
        ```

        ```sh
        make test
        ```

        ```
        untagged
        ```
        """
    )
    blocks = fences(page)
    assert [(b.lang, b.line) for b in blocks] == [
        ("python", 3),
        ("text", 8),
        ("python", 14),
        ("python", 19),
        ("sh", 23),
        ("", 27),
    ]
    assert blocks[2].code == "x = 1"
    assert outputs(blocks) == {3: "hi"}
    problems = problems_of("p.md", page, blocks)
    assert len(problems) == 2 and "```console" in problems[0] and "tag every fence" in problems[1]
    script = script_of(page, blocks).splitlines()
    assert script[3] == 'print("hi")' and script[14] == "x = 1"
    assert "connect" not in "\n".join(script)
    assert problems_of("p.md", "<!-- not run:  -->\n```python\nx\n```\n", fences("<!-- not run:  -->\n```python\nx\n```\n"))
