"""A chapter opened on its own (as in Colab) makes the run records it needs.

Chapter 6 needs the evaluated run; with an empty run folder it must train both phases and
evaluate first, top to bottom, with no other chapter having run. Uses the offline backbone
on the shared CIFAR-10 copy with the quick profile (about a minute on 2 cores).
"""


import nbformat
import pytest
from conftest import REPO, SHARED_CIFAR
from nbclient import NotebookClient


@pytest.mark.skipif(not SHARED_CIFAR.exists(), reason="needs ../shared/data/cifar10-jpeg.tar.gz")
def test_takeaways_chapter_runs_alone_and_makes_its_records(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    for key, value in {"CIFAR_LESSONS_PROFILE": "quick", "CIFAR_LESSONS_DATA": str(SHARED_CIFAR),
                       "CIFAR_LESSONS_BACKBONE": "efficientnet_lite0", "CIFAR_LESSONS_WEIGHTS": "imagenet",
                       "CIFAR_LESSONS_RUNS": str(runs), "CIFAR_LESSONS_BUILD": "1"}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(REPO / "book" / "07_takeaways.ipynb", as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    stages = sorted(p.parent.name for p in runs.rglob("record.json"))
    assert stages == ["full", "head", "tuned"]
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "run-card" in html and "efficientnet_lite0" in html and "Not the real result" in html
    assert "test accuracy" in html  # the results table
