"""The thin vertical path through every layer, in a real browser."""

from __future__ import annotations

import syft_pm


def test_sidebar_shows_server_version(jlab):
    jlab.open()
    sidebar = jlab.open_sidebar()
    version = sidebar.wait_for_selector(".syft-pm-server-version")
    assert syft_pm.__version__ in version.inner_text()


def test_cell_output_rendered_by_our_renderer(jlab, lab):
    nb = lab.write_notebook(
        "foundation.ipynb",
        [
            "import sys, syft_pm\n"
            "h = syft_pm.run('foundation-demo', [sys.executable, '-c', "
            "'import time; print(\"hello from syft_pm\", flush=True); time.sleep(600)'])\n"
            "h"
        ],
    )
    jlab.open()
    jlab.open_notebook(nb)
    cell = jlab.run_cell(nb, 0)
    out = cell.wait_for_selector(".syft-pm-process[data-process-name='foundation-demo']")
    assert "foundation-demo" in out.inner_text()
    # The static HTML fallback must not be what is shown: our renderer wins.
    assert cell.query_selector(".syft-pm-card") is None
