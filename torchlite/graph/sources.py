"""Where in the user's code an op ran: the first frame outside the torchlite package, as a
schema SOURCE dict ({"file", "line", "function", "code"}), with notebook cells named as
IPython names them ("Cell In[3]")."""
import functools
import linecache
import os
import sys

PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def in_torchlite(frame):
    return frame.f_code.co_filename.startswith(PKG_DIR)


def user_frame(frame):
    """The first frame outside the torchlite package, going outwards from ``frame``."""
    while frame is not None and in_torchlite(frame):
        frame = frame.f_back
    return frame


def frame_source(frame, line=None):
    """A schema SOURCE dict for a frame (at ``line``, default its current line) or None."""
    if frame is None:
        return None
    code = frame.f_code
    line = frame.f_lineno if line is None else line
    text = linecache.getline(code.co_filename, line).strip()
    return {"file": shown_file(code.co_filename), "line": line, "function": code.co_name,
            "code": text or None}


@functools.lru_cache(maxsize=4096)
def shown_file(filename):
    """The file recorded for a source line: "Cell In[3]" for code run in an IPython or Jupyter
    cell (as IPython's tracebacks name it; its real file is a temporary path), else the path.
    A cell's file is named before the cell runs, and never renamed: the cache is exact."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    name_cell = getattr(getattr(shell, "compile", None), "format_code_name", None)
    cell = name_cell(filename) if name_cell is not None else None
    return f"{cell[0]} {cell[1]}" if cell is not None else filename


def source_location(src):
    """Where a schema SOURCE points, for messages: "Cell In[3], line 5" or "path/file.py:5"."""
    sep = ", line " if src["file"].startswith("Cell In[") else ":"
    return f"{src['file']}{sep}{src['line']}"
