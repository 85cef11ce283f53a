"""`nnlab report`: self-contained HTML, Markdown with figures, curves, tables, deliverables, hostile runs."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.core.figures import save_images
from nnlab.report import build, output, plots
from nnlab.report.pdf import PDF_HINT
from nnlab.runs.store import RunStore
from runfactory import make_run

IMG_SRC = re.compile(r'<img src="([^"]*)"')


def _table_csv(writer, name: str = "network_table.csv") -> None:
    rows = [[f"digit {i}"] + [str(600 * (i == j) + j) for j in range(10)] for i in range(10)]
    with open(writer.artifact_path(name), "w", encoding="utf-8") as fh:
        fh.write(",".join(["class"] + [f"center_{j}" for j in range(10)]) + "\n")
        fh.writelines(",".join(r) + "\n" for r in rows)


def _reconstructions(writer, rows: int = 2, seed: int = 0) -> None:
    """A reconstructions.png as the autoencoders save it: `rows` rows of 10 digits with titles."""
    rng = np.random.default_rng(seed)
    images = rng.random((10 * rows, 28, 28)) * 0.8
    save_images(writer.artifact_path("reconstructions.png"), images, ncols=10,
                titles=[str(i) for i in range(10)] + [""] * (10 * rows - 10), suptitle="test images")


def _decoded(src: str) -> Image.Image:
    assert src.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


def test_run_report_is_self_contained_with_curves_tables_and_provenance(tmp_runs, tmp_path):
    writer = make_run(tmp_runs, "kmeans", config={"init": "exemplar", "lr": 4.5})
    writer.update(argv=["/usr/local/bin/nnlab", "kmeans", "--init", "exemplar", "--data-dir", "my data"])
    _table_csv(writer)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", writer.id, "-o", str(out), "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    sources = IMG_SRC.findall(html)
    # centres + samples + a curve per metric (accuracy, loss, step_loss)
    assert len(sources) == 5
    for src in sources:
        assert _decoded(src).size[0] > 10
    assert not re.search(r'(src|href)="(https?:|//)', html) and "<script" not in html and "@import" not in html
    assert "@media print" in html
    assert "loss from metrics.jsonl" in html and "centers.png" in html
    # the 10x10 table as an HTML table, not an image: header row + 10 rows of 11 cells
    table = html[html.index("network_table.csv"):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 11 and table.count("<td>") == 110 and "<th>center_9</th>" in table
    assert "nnlab kmeans --init exemplar --data-dir &#x27;my data&#x27;" in html  # the argv, shell-quoted
    for fact in ("seed", "device", "versions", "git commit"):
        assert f"<td>{fact}</td>" in html
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.count("](figures/") == 5 and "| center_9 |" in md.replace("center_9 |", "center_9 |")
    for name in re.findall(r"\]\(figures/([^)]+)\)", md):
        assert Image.open(out / "figures" / name).size[0] > 10


def test_hostile_run_files_are_escaped_capped_and_contained(tmp_runs, tmp_path):
    evil = "<script>alert(1)</script>"
    writer = make_run(tmp_runs, "kmeans", config={"note": evil}, summary={"test_loss": 0.5, evil: 1},
                      image=False)
    writer.update(argv=["nnlab", "kmeans", evil])
    with open(writer.artifact_path("table.csv"), "w", encoding="utf-8") as fh:
        fh.write(f"a,b\n{evil},|pipe|\n")
    writer.artifact_path("broken.png").write_bytes(b"\x89PNG not really")
    outside = tmp_path / "secret.png"
    Image.new("RGB", (30, 30), "red").save(outside)
    (writer.path / "artifacts" / "link.png").symlink_to(outside)
    out = tmp_path / "out"
    report = build.for_runs([RunStore(tmp_runs).get(writer.id)])
    output.write(report, out)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "broken.png: not a readable image" in html
    assert len(IMG_SRC.findall(html)) == 3 and "(link.png)" not in html  # the curves only; the link is never read
    md = (out / "report.md").read_text(encoding="utf-8")
    outside_code = re.sub(r"```\n.*?\n```", "", md, flags=re.S)  # code blocks show text verbatim
    assert evil not in outside_code and "\\|pipe\\|" in md


def test_tile_rows_finds_the_digits_of_a_saved_grid(tmp_runs):
    writer = make_run(tmp_runs, "ae", image=False)
    _reconstructions(writer, rows=3)
    png = (writer.path / "artifacts" / "reconstructions.png").read_bytes()
    rows = plots.tile_rows(plots.read_pixels(png))
    assert [len(r) for r in rows] == [10, 10, 10]
    assert all(abs(t.shape[0] - t.shape[1]) <= 3 for r in rows for t in r)  # square digit tiles


def _ae(root, latent: int, seed: int):
    writer = make_run(root, "ae", config={"arch": "funnel", "latent": latent}, image=False)
    _reconstructions(writer, seed=seed)
    return writer


def test_assignment_report_composes_deliverables_and_lists_what_to_run(tmp_runs, tmp_path):
    _ae(tmp_runs, 2, 0)
    _ae(tmp_runs, 32, 1)
    report = build.for_assignment("adam-ae-ops-cifar-receptive", RunStore(tmp_runs))
    by_id = {q.id: q for q in report.questions}
    assert by_id["Q2.1"].state == "answered" and len(by_id["Q2.1"].runs) == 2
    panels = by_id["Q2.1"].figures
    assert len(panels) == 1 and "6 subimages" in panels[0].caption
    assert Image.open(io.BytesIO(panels[0].png)).size[0] > 300
    assert by_id["Q2.2"].state == "open" and by_id["Q1.1"].state == "open"
    assert by_id["Q6"].state == "tool"
    out = tmp_path / "out"
    output.write(report, out)
    html = (out / "report.html").read_text(encoding="utf-8")
    for q in report.questions:  # every question is in the report
        assert f'id="q-{q.id}"' in html
    assert "nnlab cae --arch funnel --latent 2" in html and "nnlab adam --optimizer gd --h 0.5 --lr 0.3" in html
    assert "Quick run" not in html


def test_quick_assignment_runs_say_so(tmp_runs, tmp_path):
    store = RunStore(tmp_runs)
    batch = store.create("assignment run", {"assignment": "kmeans-and-generative-ae", "quick": True})
    child = make_run(tmp_runs, "kmeans", config={"init": "exemplar", "epochs": 1}, parent=batch.id)
    _table_csv(child)
    batch.finish("completed")
    report = build.for_assignment("kmeans-and-generative-ae", store)
    assert report.quick
    q1b = next(q for q in report.questions if q.id == "Q1b")
    assert q1b.state == "answered" and q1b.runs[0].figures[0].caption.endswith("(centers.png)")
    result = CliRunner().invoke(app, ["report", "--assignment", "kmeans-and-generative-ae", "-o",
                                      str(tmp_path / "o"), "--runs-dir", str(tmp_runs), "--json"])
    data = json.loads(result.stdout)
    assert data["quick"] is True and data["questions"]["Q1b"] == "answered" and data["questions"]["Q2a"] == "open"
    assert "Quick run." in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


def test_pdf_or_one_line_hint(tmp_runs, tmp_path):
    writer = make_run(tmp_runs, "kmeans")
    result = CliRunner().invoke(app, ["report", writer.id, "-o", str(tmp_path / "o"), "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 0
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        assert "nnlab[pdf]" in result.output and not (tmp_path / "o" / "report.pdf").exists()
        assert "nnlab[pdf]" in PDF_HINT
    else:
        assert (tmp_path / "o" / "report.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("args, message", [
    ([], "name runs to report on"),
    (["latest", "--assignment", "cnn-ae-cae"], "not both"),
    (["--assignment", "hw9"], "no assignment called 'hw9'"),
    (["nope"], "no run matches 'nope'"),
])
def test_bad_usage_is_one_line_exit_2(tmp_runs, tmp_path, args, message):
    result = CliRunner().invoke(app, ["report", *args, "-o", str(tmp_path / "o"), "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 2 and message in result.output


def test_markdown_figure_names_are_safe_and_links_in_out_are_not_followed(tmp_runs, tmp_path):
    writer = make_run(tmp_runs, "kmeans", image=False)
    Image.new("RGB", (40, 40), "blue").save(writer.artifact_path("a b)(c].png"))
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (out / "report.md").symlink_to(victim)
    output.write(build.for_runs([RunStore(tmp_runs).get(writer.id)]), out)
    assert victim.read_text(encoding="utf-8") == "keep" and not (out / "report.md").is_symlink()
    md = (out / "report.md").read_text(encoding="utf-8")
    names = re.findall(r"\]\(figures/([^)]+)\)", md)
    assert len(names) == 4 and all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names)
    assert all((out / "figures" / n).is_file() for n in names)


def _mean_latent(writer) -> None:
    save_images(writer.artifact_path("mean_latent.png"), np.random.default_rng(3).random((1, 28, 28)),
                titles=["decoded mean z"], ncols=1)


def test_every_deliverable_shape_is_composed(tmp_runs):
    for skip in (False, True):
        w = make_run(tmp_runs, "cae", config={"arch": "pool", "skip": skip, "noise": 0.3}, image=False)
        _reconstructions(w, rows=3, seed=int(skip))
    for latent in (2, 32):
        funnel = make_run(tmp_runs, "cae", config={"arch": "funnel", "latent": latent}, image=False)
        _mean_latent(funnel)
        _reconstructions(funnel, seed=latent)
    _reconstructions(make_run(tmp_runs, "ae", config={"arch": "shallow"}, image=False))
    make_run(tmp_runs, "cifar", config={"subset_per_class": [1, 10, 100, 1000, None]}, image=False,
             summary={"sizes": [10, 100, 1000, 10000, 50000], "gaps": [0.9, 0.7, 0.4, 0.2, 0.05]})
    store = RunStore(tmp_runs)
    figures = {}
    for name in ("cnn-ae-cae", "adam-ae-ops-cifar-receptive", "fashion-mlp-landscape-ae"):
        for q in build.for_assignment(name, store).questions:
            figures[(name, q.id)] = q.figures
    (rows,) = figures[("cnn-ae-cae", "P6.3")]
    assert "columns: no skip | skip" in rows.caption
    (conv_panels,) = figures[("adam-ae-ops-cifar-receptive", "Q2.2")]  # the conv funnel, λ = 2 and 32
    assert "6 subimages" in conv_panels.caption
    (pair,) = figures[("adam-ae-ops-cifar-receptive", "Q3")]
    assert pair.caption.startswith("2 subimages")
    (gap,) = figures[("adam-ae-ops-cifar-receptive", "Q5.2")]
    assert "train − test accuracy" in gap.caption
    (four,) = figures[("fashion-mlp-landscape-ae", "P4")]
    assert four.caption.startswith("4 images: 2 test originals above their 2 reconstructions")
    for fig in (rows, conv_panels, pair, gap, four):
        assert Image.open(io.BytesIO(fig.png)).size[0] > 200
