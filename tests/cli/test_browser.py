"""report.html rendered by a real headless browser (Debian's chromium).

Skipped where no chromium is installed, unless ``IMBESTIMATORS_REQUIRE_BROWSER=1``
(set it in CI after installing chromium), which turns the skip into a failure.
"""

import os
import shutil
import subprocess

import numpy as np
import pytest

from imbestimators.cli import main

BROWSER = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
     if shutil.which(name)),
    None,
)


def test_report_renders_in_headless_chromium(binary_csv, tmp_path, capsys):
    if BROWSER is None:
        if os.environ.get("IMBESTIMATORS_REQUIRE_BROWSER") == "1":
            pytest.fail("IMBESTIMATORS_REQUIRE_BROWSER=1 but no chromium on PATH "
                        "(apt-get install chromium)")
        pytest.skip("no chromium on this machine")
    mpimg = pytest.importorskip("matplotlib.image")
    out = tmp_path / "report"
    status = main(["compare", str(binary_csv), "--target", "label", "--quick", "--cv", "2",
                   "--configs", "logreg_class_weight", "--out", str(out),
                   "--tune-threshold"])
    assert status == 0, capsys.readouterr().err
    screenshot = tmp_path / "screenshot.png"
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,3000", f"--screenshot={screenshot}",
         (out / "report.html").as_uri()],
        capture_output=True, timeout=180, check=False,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
    pixels = mpimg.imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (3000, 1000)
    # Not a blank page: dark text and the coloured plots are drawn on white.
    assert pixels.min() < 0.2 and pixels.mean() < 0.99
    colourful = np.ptp(pixels, axis=2) > 0.3  # pixels far from grey: the plots
    assert colourful.mean() > 0.005

    # The rendered page (after the browser parsed it) leads with the
    # recommendation and shows the tuned threshold.
    dom = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         (out / "report.html").as_uri()],
        capture_output=True, timeout=180, check=False, text=True,
    ).stdout
    assert "<p>Recommended: logreg_class_weight" in dom
    assert "<h2>Operating points</h2>" in dom and "precision at recall 0.9" in dom
