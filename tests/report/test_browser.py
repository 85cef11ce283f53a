"""The report opens in headless Chromium and every image decodes (skips when Chromium is absent)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from nnlab.report import build, output
from nnlab.runs.store import RunStore
from runfactory import make_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--virtual-time-budget=5000"]

# After load, count the images the browser decoded; the marker lands in the dumped DOM.
PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-decoded', ok + '/' + imgs.length);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_chromium_decodes_every_image_of_the_report(tmp_runs, tmp_path):
    writer = make_run(tmp_runs, "kmeans", config={"init": "exemplar"})
    out = tmp_path / "out"
    output.write(build.for_runs([RunStore(tmp_runs).get(writer.id)]), out)
    html = (out / "report.html").read_text(encoding="utf-8")
    expected = html.count("<img ")
    assert expected == 5
    # the report forbids scripts (its CSP); this copy drops that one line so the probe may run
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace("</body>", PROBE + "</body>")
    page = tmp_path / "probe.html"
    page.write_text(probe, encoding="utf-8")
    profile = tmp_path / "profile"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    marker = re.search(r'data-decoded="(\d+)/(\d+)"', result.stdout)
    assert marker, result.stderr[-2000:]
    assert marker.groups() == (str(expected), str(expected))
