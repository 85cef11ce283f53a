"""report.html: one self-contained file (images as data URIs, inline CSS, no script, nothing
fetched) that reads on screen and prints cleanly. Every string from a run is escaped."""

from __future__ import annotations

import base64
from html import escape

from nnlab.report.build import QuestionSection, Report
from nnlab.report.content import Figure, RunSection, Table

STATE_TEXT = {"answered": "✓ answered", "partial": "✗ partly answered", "open": "✗ no run yet",
              "missing": "✗ no command yet", "written": "written answer", "tool": "calculator (no run)"}

CSS = """
:root { --ink: #1d232a; --dim: #5b6672; --line: #d5dae0; --ok: #1a7f37; --bad: #b3261e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 1000px; margin: 2rem auto; padding: 0 1.2rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; } h2 { font-size: 1.3rem; margin: 2.2rem 0 .4rem;
     border-bottom: 2px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .3rem; }
.dim { color: var(--dim); } .state { font-weight: 600; font-size: .9rem; margin-left: .5rem; }
.answered { color: var(--ok); } .open, .missing, .partial { color: var(--bad); } .written, .tool { color: var(--dim); }
.banner { border: 2px solid var(--warn); background: #fff8e1; padding: .6rem .9rem; border-radius: 6px; margin: 1rem 0; }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
pre { background: #f4f6f8; border: 1px solid var(--line); padding: .5rem .7rem; border-radius: 4px;
      white-space: pre-wrap; word-break: break-all; margin: .3rem 0; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 2px 7px; text-align: right; }
th { background: #f4f6f8; } td:first-child, th:first-child { text-align: left; }
table.kv td { text-align: left; } table.kv td:first-child { color: var(--dim); white-space: nowrap; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
figure { margin: .6rem 0 1rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--dim); font-size: 13px; }
.toc li { margin: .1rem 0; }
.run { border-left: 3px solid var(--line); padding-left: .9rem; margin: 1rem 0 1.6rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-before: page; page-break-before: always; } h2.first { break-before: auto; page-break-before: auto; }
  pre { white-space: pre-wrap; } .toc { break-after: page; }
  figure img { max-height: 22cm; }
  table, pre { break-inside: avoid; page-break-inside: avoid; }
  @page { size: A4; margin: 1.6cm; }
}
"""


def data_uri(png: bytes) -> str:
    """PNG bytes as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(fig: Figure) -> str:
    size = f' width="{fig.width}" height="{fig.height}"' if fig.width and fig.height else ""
    return (f'<figure><img src="{data_uri(fig.png)}" alt="{escape(fig.caption)}"{size}>'
            f"<figcaption>{escape(fig.caption)}</figcaption></figure>")


def _kv(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    note = f' <span class="dim">({escape(table.note)})</span>' if table.note else ""
    return (f"<figure><figcaption>{escape(table.caption)}{note}</figcaption>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></figure>")


def _run(run: RunSection, heading: str = "h3") -> str:
    parts = [f'<section class="run"><{heading}>Run <code>{escape(run.id)}</code> '
             f'<span class="dim">({escape(run.command)}, {escape(run.status)})</span></{heading}>',
             "<p>Reproduce:</p>", f"<pre>{escape(run.argv)}</pre>",
             '<div class="grid"><div>', "<p><b>Facts</b></p>", _kv(run.facts), "</div>"]
    if run.metrics:
        parts += ["<div>", "<p><b>Key metrics</b> (summary.json)</p>", _kv(run.metrics), "</div>"]
    parts.append("</div>")
    if run.config:
        parts += ["<details open><summary>Config</summary>", _kv(run.config), "</details>"]
    parts += [_figure(f) for f in run.figures]
    parts += [_table(t) for t in run.tables]
    parts += [f'<p class="dim">{escape(n)}</p>' for n in run.notes]
    parts.append("</section>")
    return "\n".join(parts)


def _question(q: QuestionSection, first: bool) -> str:
    css_class = ' class="first"' if first else ""
    parts = [f'<h2 id="q-{escape(q.id)}"{css_class}>{escape(q.id)}'
             f'<span class="state {escape(q.state)}">{escape(STATE_TEXT.get(q.state, q.state))}</span></h2>',
             f"<p>{escape(q.summary)}</p>"]
    if q.note:
        parts.append(f'<p class="dim">{escape(q.note)}</p>')
    if q.state == "missing" and q.missing:
        parts.append(f"<p><b>Missing.</b> nnlab has no command for this yet ({escape(q.missing.get('why', ''))}); "
                     f"it will be:</p><pre>{escape(q.missing.get('command', ''))}</pre>")
    elif q.state in ("open", "partial"):
        parts.append("<p><b>Missing.</b> Run:</p>" + "".join(f"<pre>{escape(c)}</pre>" for c in q.commands))
    elif q.commands:
        parts.append("<p>Command:</p>" + "".join(f"<pre>{escape(c)}</pre>" for c in q.commands))
    if q.figures:
        parts.append("<h3>Deliverable</h3>")
        parts += [_figure(f) for f in q.figures]
    parts += [f'<p class="dim">{escape(n)}</p>' for n in q.notes]
    parts += [_run(r) for r in q.runs]
    parts += [f'<p class="dim">Run <code>{escape(rid)}</code> is shown under {escape(other)}.</p>'
              for rid, other in q.shown_elsewhere]
    return "\n".join(parts)


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
             "style-src 'unsafe-inline'\">",
             f"<title>{escape(report.title)} · nnlab report</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(report.title)}</h1>"]
    parts += [f'<p class="dim">{escape(line)}</p>' for line in report.intro]
    parts.append(f'<p class="dim">built {escape(report.generated)} by nnlab {escape(report.version)} '
                 "from the run files (nothing retrained)</p>")
    if report.quick:
        parts.append('<div class="banner"><b>Quick run.</b> These runs were made with <code>--quick</code>: '
                     "training was cut to a smoke run (about one epoch), so the numbers and figures only show "
                     "that every command works. They are not the assignment's answers; run it without "
                     "<code>--quick</code> for those.</div>")
    if report.questions:
        done = sum(q.state == "answered" for q in report.questions)
        parts.append(f"<p><b>{done} of {len(report.questions)}</b> questions answered by runs.</p>")
        items = "".join(f'<li><a href="#q-{escape(q.id)}">{escape(q.id)}</a> '
                        f'<span class="state {escape(q.state)}">{escape(STATE_TEXT.get(q.state, q.state))}</span> '
                        f"{escape(q.summary)}</li>" for q in report.questions)
        parts.append(f'<ol class="toc">{items}</ol>')
        parts += [_question(q, i == 0) for i, q in enumerate(report.questions)]
    parts += [_run(r, "h2") for r in report.runs]
    parts.append("</body></html>")
    return "\n".join(parts)
