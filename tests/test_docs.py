"""Build the Sphinx documentation with warnings as errors, and check that it works offline.

The gallery pages are generated from ``examples/`` without running them
(``-D plot_gallery=0``); ``tests/test_examples.py`` runs the examples.
"""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """The HTML documentation, built once for the module."""
    tmp_path = tmp_path_factory.mktemp("docs")
    env = dict(os.environ)
    env.update(
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-D",
        "plot_gallery=0",
        "-d",
        str(tmp_path / "doctrees"),
        str(ROOT / "docs"),
        str(tmp_path / "html"),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        f"sphinx-build failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    )
    return tmp_path / "html"


def test_docs_build_without_warnings(html):
    assert (html / "api.html").exists()
    assert (html / "auto_examples" / "index.html").exists()
    assert (html / "generated" / "skdeepcluster.SeCuClustering.html").exists()
    assert (html / "user_guide" / "streaming.html").exists()
    page = (html / "generated" / "skdeepcluster.SeCuClustering.html").read_text()
    assert "partial_fit" in page and "get_feature_names_out" in page


class _Resources(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        rel = (attrs.get("rel") or "").split()
        if tag == "link" and ({"stylesheet", "preload", "modulepreload"} & set(rel)):
            self.urls.append(attrs.get("href", ""))


def _loads(page):
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def test_pages_load_nothing_from_the_network(html):
    pages = sorted(html.rglob("*.html"))
    assert len(pages) > 20
    remote = {
        f"{page.relative_to(html)}: {url}"
        for page in pages
        for url in _loads(page)
        if url.startswith(("http:", "https:", "//")) or "://" in url
    }
    assert not remote, "pages load remote resources:\n" + "\n".join(sorted(remote))


def test_math_is_rendered_by_a_bundled_mathjax(html):
    page = html / "user_guide" / "methods" / "secu.html"
    scripts = [url for url in _loads(page) if "mathjax" in url.lower()]
    assert scripts, "the SeCu page loads no MathJax"
    for url in scripts:  # every MathJax script the page loads is in the build
        assert (page.parent / url.split("?")[0]).resolve().is_file(), url
    fonts = html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are not in the build"
