"""What scripts/build_slides.py lets through to a slide: no stderr, no log lines or progress bars."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_slides", REPO / "scripts" / "build_slides.py")
build_slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_slides)

TF_LOG = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
          "I0000 00:00:1795892045.058853    5385 port.cc:153] oneDNN custom operations are on.\n"
          "E0000 00:00:1795892051.199426    5385 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n")
KERAS = "Epoch 1/2\n29/29 - 10s - 345ms/step - accuracy: 0.2 - loss: 2.2\n79/79 - 6s - 82ms/step\n"


def deck_html(*cells) -> str:
    nb = new_notebook(cells=[new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}), *cells])
    nb = build_slides.prepare(nbformat.from_dict(nb))
    body, _ = build_slides.exporter().from_notebook_node(nb, resources={"metadata": {"name": "t"}, "deck": {"margin": 0.04}})
    return body


def test_logs_progress_and_untagged_output_never_reach_a_slide():
    tagged = new_code_cell("fit()", metadata={"tags": ["slides-show-output"]}, outputs=[
        new_output("stream", name="stderr", text=TF_LOG),
        new_output("stream", name="stdout", text=KERAS + "phase 1 took 11 s\n")])
    untagged = new_code_cell("print(1)", outputs=[new_output("stream", name="stdout", text="untagged output\n")])
    body = deck_html(tagged, untagged)
    assert "phase 1 took 11 s" in body
    for text in ("absl", "I0000", "E0000", "cuInit", "oneDNN", "Epoch 1/2", "ms/step", "untagged output", "fit()"):
        assert text not in body, text


def test_outputs_can_go_to_the_notes_and_code_can_be_shown():
    cell = new_code_cell("model.summary()", metadata={"tags": ["slides-show-code", "slides-output-to-notes"]},
                         outputs=[new_output("display_data", data={"text/html": "<b>SUMMARY</b>", "text/plain": "s"})])
    body = deck_html(cell)
    assert "model" in body and "summary" in body
    notes = body.split('<aside class="notes">', 1)
    assert len(notes) == 2 and "<b>SUMMARY</b>" in notes[1] and "<b>SUMMARY</b>" not in notes[0]


def test_slides_never_scroll_and_print_one_page_per_slide():
    body = deck_html(new_markdown_cell("text"))
    assert "overflow-y" not in body.split("Reveal.initialize")[1]
    assert "pdfMaxPagesPerSlide: 1" in body and "pdfSeparateFragments: false" in body
    assert f"width: {build_slides.WIDTH}" in body and f"height: {build_slides.HEIGHT}" in body
