"""Write docs/report.png: the top of the example run's report page, as headless Chromium shows it.

    python scripts/screenshot_report.py [--out docs/report.png]

Runs ``allocate run examples/holdings.csv -c configs/base.yaml --report`` into a temporary folder, opens its
``report.html`` in Debian's Chromium (``/usr/bin/chromium``, installed by ``make browser``) through Playwright's
Python package, with every request that is not a ``file://`` one refused, and saves the headline, approval and weights
of the page. Exits 1 with the reason when the browser or Playwright is missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1200, 1750  # CSS pixels: the headline, the approval and the weights chart


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        print("Playwright's Python package is missing: pip install -e '.[test]'", file=sys.stderr)
        return 1
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: make browser installs Debian's chromium", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT))
    from click.testing import CliRunner

    from allocator.cli import main as allocate

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "example"
        result = CliRunner().invoke(allocate, ["run", str(ROOT / "examples/holdings.csv"), "-c",
                                               str(ROOT / "configs/base.yaml"), "-o", str(out), "-q", "--report"])
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return 1

        def local_only(route: Route) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.route("**/*", local_only)
            page.goto((out / "report.html").as_uri())
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
