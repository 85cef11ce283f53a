"""Write a built report: report.md (figures beside it), a self-contained report.html and,
with WeasyPrint, report.pdf."""

from __future__ import annotations

from pathlib import Path

from nnlab.report.build import Report
from nnlab.report.html import render_html
from nnlab.report.markdown import render_markdown
from nnlab.report.pdf import write_pdf


def write(report: Report, out_dir: Path) -> dict[str, Path | str]:
    """Write report.md (+ its figures), report.html and, with WeasyPrint, report.pdf.

    Returns the paths written; `pdf` is a one-line hint instead when WeasyPrint is absent.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    html = render_html(report)
    for name in ("report.html", "report.md", "report.pdf"):
        if (out_dir / name).is_symlink():  # never write through a link planted in the output folder
            (out_dir / name).unlink()
    (out_dir / "report.html").write_text(html, encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(report, figures_dir), encoding="utf-8")
    written: dict[str, Path | str] = {"html": out_dir / "report.html", "md": out_dir / "report.md"}
    written["pdf"] = write_pdf(html, out_dir / "report.pdf")
    return written
