"""Every notebook in ``notebooks/`` runs top to bottom without an error.

How the kernel is chosen: the notebooks name the ``python3`` kernel. Which Python that resolves to
depends on the kernelspecs installed on the machine (a user-level ``python3`` spec may point at
another interpreter), so the test does not rely on them. It writes ipykernel's own spec, whose
``argv`` is the absolute path of the interpreter running pytest (``sys.executable``, the venv's
python under ``make test``), into a temporary folder and puts that folder first on
``JUPYTER_PATH``. The first cell run in the kernel checks that it really is this interpreter, so a
mix-up fails with a clear message instead of an ``ImportError`` further down.

Each notebook runs with a fresh ``tmp_path`` as its working directory, and the kernel's IPython
profile and connection files go there too: nothing is written into the checkout or the home folder,
and the executed notebook is never saved. The dependencies (nbclient, nbformat, ipykernel) are in the
``dev`` extra that ``make test`` installs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from ipykernel import kernelspec

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _interpreter_check_cell():
    """A cell asserting that the kernel runs the interpreter that runs the tests."""
    hint = (f"the notebook kernel does not run {sys.executable} (the interpreter running the tests); "
            f"check the {KERNEL_NAME!r} kernelspec")
    return nbformat.v4.new_code_cell(
        f"import sys\nassert sys.prefix == {sys.prefix!r}, {hint!r} + ' (it runs ' + sys.executable + ')'\n")


@pytest.fixture
def kernel_from_this_python(tmp_path, monkeypatch):
    """Make the ``python3`` kernelspec resolve to the interpreter running pytest."""
    kernelspec.write_kernel_spec(tmp_path / "jupyter" / "kernels" / KERNEL_NAME)  # argv[0] = sys.executable
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # searched before every other place
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL_NAME


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOKS_DIR}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path, kernel_from_this_python):
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME, (
        f"{notebook.name} should name the {KERNEL_NAME!r} kernel")
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{notebook.name} is committed with outputs; clear them before committing")

    workdir = tmp_path / "run"
    workdir.mkdir()
    nb.cells.insert(0, _interpreter_check_cell())

    client = nbclient.NotebookClient(
        nb, kernel_name=kernel_from_this_python, timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        error = ANSI_ESCAPE.sub("", str(err))
    else:
        return
    failed = next((i for i, cell in enumerate(nb.cells)
                   if any(o.get("output_type") == "error" for o in cell.get("outputs", []))), None)
    where = "the interpreter check" if failed == 0 else (
        f"cell {failed} (1-based, markdown cells counted)" if failed is not None else "a cell")
    pytest.fail(f"{notebook.name}: {where} raised:\n{error}", pytrace=False)
