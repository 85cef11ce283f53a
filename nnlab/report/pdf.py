"""report.pdf through WeasyPrint, when the `pdf` extra is installed (`pip install 'nnlab[pdf]'`)."""

from __future__ import annotations

from pathlib import Path

PDF_HINT = "no report.pdf: install WeasyPrint with `pip install 'nnlab[pdf]'` (or print report.html to PDF)"


def write_pdf(html: str, path: Path) -> Path | str:
    """Render `html` to `path`; returns the path, or a one-line hint when WeasyPrint is missing."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):  # OSError: WeasyPrint installed but its Pango library is not
        return PDF_HINT
    # the HTML is self-contained; a fetcher that refuses everything makes sure nothing is loaded
    HTML(string=html, url_fetcher=_refuse).write_pdf(str(path))
    return path


def _refuse(url: str, *args, **kwargs):
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url)
    raise ValueError(f"report.pdf loads nothing from outside the report ({url[:40]})")
