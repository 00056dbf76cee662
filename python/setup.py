"""Build hook: ship libeprop in the wheel.

A regular (non-editable) ``pip install ./python`` from a repository checkout runs
``swift build -c release --product eprop`` in the repository root and copies the library
to ``eprop/lib/`` before the package files are collected, so the wheel carries it. If
``eprop/lib/`` already holds the library (``make lib``) or ``EPROP_SKIP_SWIFT_BUILD=1`` is
set, nothing is built. Editable installs (``pip install -e python``, what ``make python``
uses) build nothing: the package then finds ``eprop/lib/libeprop.so`` or the checkout's
``.build/release/libeprop.so`` at run time.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIB_NAME = "libeprop.dylib" if sys.platform == "darwin" else "libeprop.so"


class BuildPyWithSwift(build_py):
    def run(self):
        if not getattr(self, "editable_mode", False):
            self._ensure_library()
        super().run()

    def _ensure_library(self):
        dest = HERE / "eprop" / "lib" / LIB_NAME
        if os.environ.get("EPROP_SKIP_SWIFT_BUILD") == "1":
            return
        if (REPO / "Package.swift").exists():
            subprocess.check_call(["swift", "build", "-c", "release", "--product", "eprop"], cwd=REPO)
            built = REPO / ".build" / "release" / LIB_NAME
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, dest)
        elif not dest.exists():
            raise RuntimeError(
                f"{dest} is missing and no Swift package was found at {REPO}: build the library "
                "(`make lib` in the repository) or install from a repository checkout"
            )


class BinaryDistribution(Distribution):
    """The wheel carries a native library: tag it for the platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithSwift}, distclass=BinaryDistribution)
