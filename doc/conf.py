"""Sphinx configuration: numpydoc API reference, user guide, sphinx-gallery examples.

Build (warnings are errors): ``python -m sphinx -W -b html doc doc/_build/html``.
No network is used: intersphinx is off.
"""

import os
import re
import sys
from pathlib import Path

# Document (and run the examples against) the source tree next to this file,
# whatever version is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The gallery runs the examples in this process: they find the project's
# collection beside the checkout through the variable the package reads
# (without it they fall back to bundled or generated data, and say so).
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if _SHARED.is_dir():
    os.environ.setdefault("IMBESTIMATORS_DATA", str(_SHARED))

import imbestimators  # noqa: E402
from imbestimators.utils.discovery import all_public_objects  # noqa: E402

project = "imbestimators"
author = "The imbestimators developers"
copyright = "the imbestimators developers"
release = imbestimators.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

html_theme = "alabaster"
html_theme_options = {"description": "imbalanced and cost-sensitive classification",
                      "fixed_sidebar": True}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False  # autosummary pages list the members
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# mathjax is loaded from a CDN by the reader's browser, not at build time.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib", "seaborn"),
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": os.environ.get("IMBESTIMATORS_DOC_PLOT_GALLERY", "True"),
}

# Every public callable must be in api.rst: the ``__all__`` of every public
# module, found by walking the package, is compared with the names listed
# there at build time (a warning, so -W fails the build).


def _public_callables():
    # documented where it lives: the public package of its private module
    return {f"{obj.__module__.split('._')[0]}.{name}"
            for _, name, obj in all_public_objects()}


def _documented(api_rst):
    """Full names listed in api.rst's autosummary blocks, under their currentmodule."""
    current, names = "", set()
    for line in api_rst.splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            current = match.group(1)
        elif re.fullmatch(r"    [A-Za-z_]\w*", line):
            names.add(f"{current}.{line.strip()}")
    return names


def _check_api_reference(app):
    from sphinx.util import logging

    documented = _documented((Path(app.srcdir) / "api.rst").read_text())
    missing = sorted(_public_callables() - documented)
    if missing:
        logging.getLogger(__name__).warning(
            "public callables missing from doc/api.rst: %s", ", ".join(missing)
        )


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document a class's own members, not those inherited from scikit-learn or torch."""
    # autodoc passes the parent's kind ("class"), autosummary the member's.
    module = getattr(getattr(obj, "fget", obj), "__module__", None) or ""
    if (what in ("class", "method", "attribute", "property") and not name.startswith("__")
            and not module.startswith("imbestimators")):
        return True
    return None


def setup(app):
    app.connect("builder-inited", _check_api_reference)
    app.connect("autodoc-skip-member", _skip_foreign_members)
