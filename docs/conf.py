"""Sphinx configuration of the skdeepcluster documentation.

Build (what the test suite checks, without running the examples)::

    python -m sphinx -W --keep-going -b html -D plot_gallery=0 docs docs/_build/html

Drop ``-D plot_gallery=0`` to run the examples and render their figures.

The pages load nothing from the network: MathJax is copied into the build
(``sphinx-mathjax-offline``, in the ``docs`` extra) and sphinx-gallery's
execution-time pages, which load DataTables from CDNs, are not written.

The API reference (``api.rst``) is generated here from the ``__all__`` of each
public module, so every public object is documented and a name added to a
module's ``__all__`` appears without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import skdeepcluster  # noqa: E402

project = "skdeepcluster"
author = "The skdeepcluster developers"
copyright = "The skdeepcluster developers"  # noqa: A001
release = skdeepcluster.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax copied into _static/mathjax (the sphinx-mathjax-offline package), so
    # that the equations render where no CDN can be reached
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/sg_execution_times.rst"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Deep clustering with the scikit-learn API",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# Docstring checks that fail the build (with -W): every parameter documented and
# no unknown one (PR01-PR03, PR10), known sections in the right order (GL06, GL07),
# a summary line (SS01).
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "GL06", "GL07", "SS01"}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "min_reported_time": 1,
    # the execution-time pages load jQuery and DataTables from CDNs; the docs
    # reference no remote script or stylesheet (tests/test_docs.py)
    "write_computation_times": False,
}

# ------------------------------------------------------------------ API reference
#: Sections of the API reference: (module, title, introduction).
API_SECTIONS = [
    (
        "skdeepcluster",
        "Estimators",
        "The deep clustering estimators and the package settings. Each estimator "
        "is a scikit-learn clusterer and transformer; see :ref:`user_guide` for "
        "how each method works.",
    ),
    (
        "skdeepcluster.base",
        "Base class",
        "What every estimator shares: parameters, input validation, seeding, "
        "the fit skeleton, inference and persistence.",
    ),
    (
        "skdeepcluster.assignment",
        "Assignment solvers",
        "Pure tensor functions that turn scores into cluster assignments under a "
        "constraint; see :doc:`user_guide/assignment`.",
    ),
    (
        "skdeepcluster.losses",
        "Losses",
        "The per-method objectives, as pure tensor functions.",
    ),
    (
        "skdeepcluster.metrics",
        "Metrics and scorers",
        "Clustering metrics against known classes, label-free diagnostics and "
        "scorers usable by name in model selection; see :doc:`user_guide/evaluation`. "
        "``normalized_mutual_info_score`` and ``adjusted_rand_score`` are "
        "re-exported unchanged from :mod:`sklearn.metrics`.",
    ),
    (
        "skdeepcluster.augment",
        "Augmentations",
        "Batched transforms that make the training views, on the training device.",
    ),
    (
        "skdeepcluster.nn",
        "Networks",
        "Backbones, projection heads and layers used by the estimators.",
    ),
    (
        "skdeepcluster.data",
        "Data",
        "Input conversion and mini-batch loading.",
    ),
    (
        "skdeepcluster.datasets",
        "Datasets",
        "Loaders of bundled and generated benchmark data.",
    ),
]

#: Descriptions of public module-level data (autodoc cannot read the comments of
#: a re-exported variable).
DATA_DOCS = {
    "skdeepcluster.nn.BACKBONES": (
        "Named backbones: ``backbone=name`` builds ``BACKBONES[name](input_shape, "
        "**backbone_params)``, where ``input_shape`` is ``(n_features,)`` for vectors "
        "and ``(C, H, W)`` for images."
    ),
    "skdeepcluster.data.DEVICE_DATA_FRACTION": (
        "Largest share of a CUDA device's free memory that the training data may take "
        'with ``data_placement="auto"`` (see :func:`skdeepcluster.set_config`).'
    ),
    "skdeepcluster.data.IMAGE_EXTENSIONS": (
        "File name endings (lower case) read as images from folders and lists of paths."
    ),
}


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return [n for n in names if not n.startswith("_")]


def _own(obj) -> bool:
    """Objects defined in skdeepcluster (re-exports from other packages are not ours)."""
    return getattr(obj, "__module__", "").split(".")[0] == "skdeepcluster"


def write_api(path: Path) -> None:
    lines = [
        ".. This file is generated by conf.py; edit API_SECTIONS there.",
        "",
        ".. _api:",
        "",
        "API reference",
        "=============",
        "",
    ]
    for modname, title, intro in API_SECTIONS:
        module = importlib.import_module(modname)
        if modname == "skdeepcluster.base":
            members = ["BaseDeepClustering"]
        else:
            members = _public_names(module)
        documented, data = [], []
        for name in members:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or (not callable(obj) and f"{modname}.{name}" in DATA_DOCS):
                if not inspect.ismodule(obj):
                    data.append(name)
                continue
            if not callable(obj):
                raise RuntimeError(f"document {modname}.{name} in DATA_DOCS (docs/conf.py)")
            if _own(obj):
                documented.append(name)
        if not documented and not data:
            continue
        lines += [title, "-" * len(title), "", intro, "", f".. currentmodule:: {modname}", ""]
        if documented:
            lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
            lines += [f"   {name}" for name in sorted(documented, key=str.lower)]
            lines.append("")
        for name in data:
            lines += [f".. data:: {name}", "", f"   {DATA_DOCS[f'{modname}.{name}']}", ""]
    path.write_text("\n".join(lines))


write_api(HERE / "api.rst")
