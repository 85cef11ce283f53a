"""report.pdf through WeasyPrint, when the `pdf` extra is installed (`pip install 'nnlab[pdf]'`)."""

from __future__ import annotations

from pathlib import Path

PDF_HINT = "no report.pdf: install WeasyPrint with `pip install 'nnlab[pdf]'` (or print report.html to PDF)"


def write_pdf(html: str, path: Path) -> Path | str:
    """Render `html` to `path`; returns the path, or a one-line hint when WeasyPrint is missing."""
    try:
        from weasyprint import HTML
        from weasyprint import urls
    except (ImportError, OSError):  # OSError: WeasyPrint installed but its Pango library is not
        return PDF_HINT
    # the HTML is self-contained: a fetcher that allows only data: URIs makes sure nothing is loaded
    HTML(string=html, url_fetcher=_data_only(urls)).write_pdf(str(path))
    return path


def _data_only(urls):
    if hasattr(urls, "URLFetcher"):  # WeasyPrint 68 and later
        return urls.URLFetcher(allowed_protocols=("data",))

    def fetch(url: str, *args, **kwargs):  # earlier versions take a function
        if not url.startswith("data:"):
            raise ValueError(f"report.pdf loads nothing from outside the report ({url[:40]})")
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch
