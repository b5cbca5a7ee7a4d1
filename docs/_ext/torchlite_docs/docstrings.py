"""torchlite's docstrings are plain text with ``code`` spans (read in ``help()`` and Jupyter's
``?`` as much as here). Before autodoc parses them as reStructuredText, markup characters outside
the code spans are escaped (``|x|`` is not a substitution, ``xavier_uniform_`` not a link,
``*`` not emphasis) and hanging indents get the blank lines that make them definition lists.
"""
import re

CODE = re.compile(r"(``.+?``)")
SPECIAL = re.compile(r"([|*\\]|(?<=\w)_(?!\w)|`)")


def escape_line(line):
    """``line`` with rST markup characters escaped outside its ``code`` spans."""
    parts = CODE.split(line)
    return "".join(p if i % 2 else SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def _indent(line):
    return len(line) - len(line.lstrip())


def plain_text_to_rst(lines):
    """The lines of a plain-text docstring as rST that renders them as written."""
    out = []
    for i, line in enumerate(lines):
        prev = out[-1] if out else ""
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and prev.strip():
            dedent = _indent(line) < _indent(prev)
            starts_item = nxt.strip() and _indent(nxt) > _indent(line)
            if dedent or starts_item:
                out.append("")
        out.append(escape_line(line))
    return out


def _process(app, what, name, obj, options, lines):
    lines[:] = plain_text_to_rst(lines)


def setup(app):
    app.connect("autodoc-process-docstring", _process)
