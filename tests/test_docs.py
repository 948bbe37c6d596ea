"""The documentation holds together: links resolve, citations point inside the
repository, and the equation table names real functions that cite their equations.

* Every relative link in every ``*.md`` file of the repository resolves to a file
  or folder inside the repository.
* No file of the repository cites the developers' brief or a path next to the
  repository: every citation resolves to docs/equations.md.
* Every function named in the equation table of tutorials/README.md exists
  (import and getattr) and its docstring cites the row's equation numbers
  (rows marked "planned" are skipped).
"""

import importlib
import inspect
import os
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tutorials" / "README.md"

# Directories that hold build products, caches or run outputs, never sources.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".numba_cache", "build",
              "dist", "figures", "minivae-demo", ".venv", "venv", ".ipynb_checkpoints"}

# Citations that must not appear anywhere: the developers' brief and the folder beside
# the repository. The words are assembled so that this file does not cite them itself.
_FORBIDDEN = [
    ("S" + "PEC", re.compile(r"\b" + "S" + r"PEC\b")),
    ("../" + "shared", re.compile(re.escape("../" + "shared"))),
]

# --- Transitional lists, to be emptied as the issue-8 work is merged -----------------
# Files outside this change's reach that still carry a forbidden citation; their exact
# replacements are listed for the lead. A file listed here that is already clean makes
# test_no_citation_outside_the_repository fail: delete it from the list.
PENDING_CITATION_FILES = set()
# Functions of the equation table whose docstrings the model code (rewritten by the
# architecture change) must still give their equation numbers. An entry that already
# passes makes test_equation_table_functions_cite_their_equations fail: delete it.
PENDING_DOCSTRINGS = set()


# ------------------------------------------------------------------------------------
# Files of the repository
# ------------------------------------------------------------------------------------

def _repository_files():
    """Paths (relative, POSIX) of the repository's files: tracked and new, not ignored."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
        names = [n for n in out.decode("utf-8").split("\0") if n]
        if names:
            return sorted(n for n in names if (ROOT / n).is_file())
    except (OSError, subprocess.SubprocessError):
        pass
    # No git (e.g. an unpacked source archive): walk the tree instead.
    names = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        names += [Path(folder, f).relative_to(ROOT).as_posix() for f in files]
    return sorted(names)


def _read_text(name):
    """The file's text, or None for a binary file."""
    try:
        return (ROOT / name).read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


FILES = _repository_files()
MARKDOWN = [n for n in FILES if n.endswith(".md")]


# ------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
_HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def markdown_links(text):
    """Targets of the inline, reference-style and HTML links of a Markdown text.

    Fenced code blocks and code spans are removed first: text in them is not a link.
    """
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    return (_INLINE_LINK.findall(text) + _REFERENCE_DEF.findall(text)
            + _HTML_LINK.findall(text))


def heading_anchors(text):
    """The anchors GitHub gives the headings of a Markdown text.

    Lower case; markup, punctuation and symbols dropped; spaces become hyphens;
    a repeated heading gets -1, -2, ... (GitHub's rule for ASCII headings).
    """
    anchors, seen = set(), {}
    for line in _FENCE.sub("", text).splitlines():
        match = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))  # a link: its text
        slug = re.sub(r"[^\w\- ]", "", title.lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def broken_relative_links(name):
    """(target, reason) for each relative link of file ``name`` that does not resolve.

    A link into a Markdown file (or to an anchor of the same file) must also name
    one of its headings.
    """
    broken = []
    for target in markdown_links(_read_text(name) or ""):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # a web address
        path, _, anchor = target.partition("#")
        path = urllib.parse.unquote(path.split("?", 1)[0])
        if not path:
            resolved = ROOT / name  # an anchor in the same file
        else:
            base = ROOT if path.startswith("/") else (ROOT / name).parent
            resolved = (base / path.lstrip("/")).resolve()
        if not resolved.is_relative_to(ROOT):
            broken.append((target, "points outside the repository"))
        elif not resolved.exists():
            broken.append((target, "does not exist"))
        elif anchor and resolved.suffix == ".md" and (
                urllib.parse.unquote(anchor) not in heading_anchors(resolved.read_text(encoding="utf-8"))):
            broken.append((target, "names no heading of that file"))
    return broken


def test_link_parser_finds_every_kind_of_link():
    text = ("[a](x.md) ![b](img/y.png \"title\") [c][ref] `[not](a_link)`\n"
            "```\n[also not](code)\n```\n"
            "[ref]: ../z.py\n<a href=\"w.md#top\">w</a> [web](https://example.org)\n")
    assert sorted(markdown_links(text)) == sorted(
        ["x.md", "img/y.png", "../z.py", "w.md#top", "https://example.org"])


def test_heading_anchors_follow_github():
    text = "# minivae\n## 1. Network core, and optimisers\n## Notes\n## Notes\n### (2.31) KL `kl_standard_normal`\n"
    assert heading_anchors(text) == {"minivae", "1-network-core-and-optimisers", "notes", "notes-1",
                                     "231-kl-kl_standard_normal"}


def test_markdown_files_are_found():
    assert "README.md" in MARKDOWN
    assert "tutorials/README.md" in MARKDOWN
    assert "docs/equations.md" in MARKDOWN
    assert len(markdown_links(_read_text("docs/equations.md"))) >= 10


@pytest.mark.parametrize("name", MARKDOWN)
def test_relative_links_resolve_inside_the_repository(name):
    broken = broken_relative_links(name)
    assert not broken, f"{name}: " + "; ".join(f"{t} {why}" for t, why in broken)


# ------------------------------------------------------------------------------------
# Citations
# ------------------------------------------------------------------------------------

def citation_offenders():
    """{file: ["line: text", ...]} for every line citing something outside the repository."""
    offenders = {}
    for name in FILES:
        text = _read_text(name)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(pattern.search(line) for _, pattern in _FORBIDDEN):
                offenders.setdefault(name, []).append(f"{number}: {line.strip()}")
    return offenders


def _format(offenders):
    return "\n".join(f"  {name}:{entry}" for name, entries in sorted(offenders.items())
                     for entry in entries)


def test_no_citation_outside_the_repository():
    words = " or ".join(repr(word) for word, _ in _FORBIDDEN)
    offenders = citation_offenders()
    unexpected = {n: v for n, v in offenders.items() if n not in PENDING_CITATION_FILES}
    assert not unexpected, (
        f"these lines mention {words}; cite the equation number and docs/equations.md "
        f"instead:\n{_format(unexpected)}")
    clean = sorted(PENDING_CITATION_FILES - set(offenders))
    assert not clean, f"no longer cite {words}: delete from PENDING_CITATION_FILES: {clean}"
    if offenders:
        pytest.xfail(f"citation pass pending in files outside the docs change:\n{_format(offenders)}")


# ------------------------------------------------------------------------------------
# Equation numbers and the equation table
# ------------------------------------------------------------------------------------

_NUMBER = r"(\d)\.(\d+)"
_DASH = r"\s*[-–]\s*"
_SINGLE = re.compile(r"(?<![\d.§])" + _NUMBER + r"(?![\d]|\.\d)")
_RANGE = re.compile(r"(?<![\d.§])" + _NUMBER + _DASH + r"(?:(\d)\.)?(\d+)(?![\d]|\.\d)")
_PAREN_RANGE = re.compile(r"\(" + _NUMBER + r"\)" + _DASH + r"\(" + _NUMBER + r"\)")
_F_GROUP = re.compile(r"\[F\s+([^\]]+)\]")
_F_RANGE = re.compile(r"\[F\s+" + _NUMBER + r"\]" + _DASH + r"\[F\s+" + _NUMBER + r"\]")


def _expand(chapter, first, last_chapter, last, prefix=""):
    if last_chapter not in (None, chapter) or int(last) < int(first):
        return {f"{prefix}{chapter}.{first}", f"{prefix}{last_chapter}.{last}"}
    return {f"{prefix}{chapter}.{k}" for k in range(int(first), int(last) + 1)}


def cited_equations(text):
    """The equation numbers a text cites, as {"2.31", "F1.5", "F§1.3.8", ...}.

    Thesis numbers count inside parentheses only, e.g. "(2.31)", "(2.29, 2.31)",
    "(1.36-1.37)", "(1.26)-(1.27)" or "(thesis, eq. 2.45)"; autoencoder-thesis
    numbers inside "[F ...]", e.g. "[F 1.5]", "[F 1.2-1.5]", "[F 1.6]-[F 1.7]",
    "[F §1.3.8]". Ranges are expanded.
    """
    found = set()
    for a, b, c, d in _PAREN_RANGE.findall(text):
        found |= _expand(a, b, c, d)
    for a, b, c, d in _F_RANGE.findall(text):
        found |= _expand(a, b, c, d, prefix="F")
    for group in _F_GROUP.findall(text):
        found |= {"F" + s for s in re.findall(r"§\d+(?:\.\d+)+", group)}
        for a, b, c, d in _RANGE.findall(group):
            found |= _expand(a, b, c or a, d, prefix="F")
        found |= {f"F{a}.{b}" for a, b in _SINGLE.findall(group)}
    for group in re.findall(r"\(([^()]*)\)", _F_GROUP.sub("", text)):
        for a, b, c, d in _RANGE.findall(group):
            found |= _expand(a, b, c or a, d)
        found |= {f"{a}.{b}" for a, b in _SINGLE.findall(group)}
    return found


def test_cited_equations_parser():
    assert cited_equations("KL to N(0, I) (2.31).") == {"2.31"}
    assert cited_equations("see (1.36-1.37) and (2.29, 2.31)") == {"1.36", "1.37", "2.29", "2.31"}
    assert cited_equations("(1.26)–(1.27)") == {"1.26", "1.27"}
    assert cited_equations("(2.40)–(2.42)") == {"2.40", "2.41", "2.42"}
    assert cited_equations("[F 1.2-1.5]") == {"F1.2", "F1.3", "F1.4", "F1.5"}
    assert cited_equations("[F 1.6]–[F 1.7]") == {"F1.6", "F1.7"}
    assert cited_equations("[F §1.3.8] (Rifai et al. 2011)") == {"F§1.3.8"}
    assert cited_equations("a sample of 2.31 values; thesis §2.3") == set()
    assert cited_equations("(thesis §1.3.1)") == set()
    assert "1.5" not in cited_equations("sparsity [F 1.5]")


def equation_table():
    """Rows (equations, function cell, names) of the table in tutorials/README.md."""
    text = TABLE.read_text(encoding="utf-8")
    section = text.split("## Equation → function → tutorial", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 4 or set(cells[0]) <= set("-: "):
            continue
        if cells[0] == "equation" or cells[0].startswith("**"):
            continue  # the header and the chapter rows
        names = re.findall(r"`(minivae(?:\.\w+)+)`", cells[2])
        rows.append((cells[0], cells[2], names))
    return rows


def resolve(dotted):
    """Import the longest importable module prefix of ``dotted`` and getattr the rest."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)  # AttributeError: the name does not exist
        return obj
    raise ModuleNotFoundError(dotted)


def test_equation_table_is_complete():
    rows = equation_table()
    labels = " ".join(eq for eq, _, _ in rows)
    assert len(rows) >= 50
    for number in ["(1.29)", "(1.33)", "(2.25)", "(2.31)", "(2.32)", "(2.33)", "(2.37)",
                   "(2.38)", "(2.40)", "(2.43)", "(2.44)", "(2.45)", "(3.1)", "[F 1.1]"]:
        assert number in labels, f"the equation table has no row for {number}"
    for eq, cell, names in rows:
        planned = cell.startswith("planned")
        assert planned or names or cell.startswith("—"), f"row {eq} names no function"
        assert not (planned and names), f"planned row {eq} names existing-looking functions {names}"


def equation_table_problems():
    """{function: problem} for the table's functions that are missing or do not cite."""
    problems = {}
    for eq, cell, names in equation_table():
        if cell.startswith("planned"):
            continue
        needed = cited_equations(eq)
        for name in names:
            try:
                obj = resolve(name)
            except (ImportError, AttributeError) as exc:
                problems[name] = f"does not exist ({type(exc).__name__}: {exc})"
                continue
            missing = sorted(needed - cited_equations(inspect.getdoc(obj) or ""))
            if missing:
                problems.setdefault(name, "")
                problems[name] += f" docstring does not cite {', '.join(missing)} (row {eq});"
    return problems


def test_equation_table_functions_cite_their_equations():
    problems = equation_table_problems()
    unexpected = {n: p for n, p in problems.items() if n not in PENDING_DOCSTRINGS}
    assert not unexpected, "\n".join(f"{n}: {p}" for n, p in sorted(unexpected.items()))
    done = sorted(PENDING_DOCSTRINGS - set(problems))
    assert not done, f"these now exist and cite their equations: delete from PENDING_DOCSTRINGS: {done}"
    if problems:
        pytest.xfail("docstrings pending in the model code:\n"
                     + "\n".join(f"  {n}: {p}" for n, p in sorted(problems.items())))


def test_equation_reference_covers_the_table():
    """Every number of the table is written out in docs/equations.md."""
    reference = cited_equations((ROOT / "docs" / "equations.md").read_text(encoding="utf-8"))
    for eq, _, _ in equation_table():
        missing = cited_equations(eq) - reference
        assert not missing, f"docs/equations.md does not write out {sorted(missing)}"


@pytest.mark.parametrize("name", ["README.md", "docs/equations.md"])
def test_names_in_the_documentation_exist(name):
    """Every ``minivae.…`` name that README.md and docs/equations.md mention can be imported."""
    names = sorted(set(re.findall(r"`(minivae(?:\.\w+)+)`", (ROOT / name).read_text(encoding="utf-8"))))
    assert names
    missing = []
    for dotted in names:
        try:
            resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    assert not missing, f"{name} names what does not exist: {missing}"
