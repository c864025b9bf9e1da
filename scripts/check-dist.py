#!/usr/bin/env python3
"""Check what a built sdist and wheel contain, and that they state one version.

    scripts/check-dist.py DIST_DIR SOURCE_DIR

Run by scripts/release-check after `python -m build`. Exit 1 with one line per problem.
Stdlib only.
"""

from __future__ import annotations

import email.parser
import re
import sys
import tarfile
import zipfile
from pathlib import Path

# The sdist is enough to build the wheel and to run the suite (distribution packagers do):
# the docs, contrib/ (client configs, units, completion, man page) and the tests travel with it.
SDIST_MUST = [
    "LICENSE",
    "README.md",
    "SECURITY.md",
    "pyproject.toml",
    "MANIFEST.in",
    "oauth_helper/__init__.py",
    "oauth_helper/data/oauth-helper.1",
    "bin/oauth-helper",
    "bin/git-credential-oauth-helper",
    "contrib/man/oauth-helper.1",
    "contrib/systemd",
    "docs/reference.md",
    "tests/conftest.py",
    "tests/support/oidc/package.json",
    "scripts/test",
]
# Nothing built, installed or cached on the packager's machine.
SDIST_MUST_NOT = re.compile(
    r"(^|/)(node_modules|__pycache__|\.venv[^/]*|\.hypothesis|build|dist)(/|$)|\.py[co]$"
)
WHEEL_MUST = ["oauth_helper/__init__.py", "oauth_helper/cli.py", "oauth_helper/data/oauth-helper.1"]
# The commands: files of their own (pyproject.toml's script-files, not console-script entry
# points), each starting `#!python`, the line pip replaces with the environment's interpreter.
WHEEL_SCRIPTS = {"oauth-helper", "git-credential-oauth-helper"}


def main(dist: Path, source: Path) -> list[str]:
    problems: list[str] = []
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        return [
            f"expected one sdist and one wheel in {dist}, found {[p.name for p in dist.iterdir()]}"
        ]
    init = (source / "oauth_helper" / "__init__.py").read_text()
    found = re.search(r'^__version__ = "([^"]+)"$', init, re.M)
    if found is None:
        return [
            "oauth_helper/__init__.py has no literal __version__ (setuptools reads it from there)"
        ]
    version = found.group(1)

    with tarfile.open(sdists[0]) as sdist:
        top = f"{sdists[0].name.removesuffix('.tar.gz')}/"
        names = {m.name.removeprefix(top).rstrip("/") for m in sdist.getmembers()}
        pkg_info = sdist.extractfile(top + "PKG-INFO")
        sdist_meta = (
            email.parser.BytesParser().parse(pkg_info, headersonly=True) if pkg_info else None
        )
    problems += [f"sdist lacks {want}" for want in SDIST_MUST if want not in names]
    problems += [f"sdist carries {name}" for name in sorted(names) if SDIST_MUST_NOT.search(name)]

    with zipfile.ZipFile(wheels[0]) as wheel:
        wnames = set(wheel.namelist())
        info = next(n.split("/")[0] for n in wnames if n.endswith(".dist-info/METADATA"))
        meta = email.parser.BytesParser().parsebytes(
            wheel.read(f"{info}/METADATA"), headersonly=True
        )
        data = info.replace(".dist-info", ".data")
        scripts = {
            n.removeprefix(f"{data}/scripts/"): wheel.read(n)
            for n in wnames
            if n.startswith(f"{data}/scripts/")
        }
        entry_points = (
            wheel.read(f"{info}/entry_points.txt").decode()
            if f"{info}/entry_points.txt" in wnames
            else ""
        )
        page = (
            wheel.read("oauth_helper/data/oauth-helper.1").decode()
            if WHEEL_MUST[2] in wnames
            else ""
        )
    problems += [f"wheel lacks {want}" for want in WHEEL_MUST if want not in wnames]
    problems += [
        f"wheel carries {n}"
        for n in sorted(wnames)
        if not n.startswith(("oauth_helper/", info, f"{data}/scripts/"))
    ]
    if f"{info}/licenses/LICENSE" not in wnames:
        problems.append("wheel lacks its LICENSE file")
    if set(scripts) != WHEEL_SCRIPTS:
        problems.append(f"wheel's commands are {sorted(scripts)}, not {sorted(WHEEL_SCRIPTS)}")
    problems += [
        f"wheel's command {name} does not start with #!python (pip would not point it at the "
        "environment's interpreter)"
        for name, text in sorted(scripts.items())
        if not text.startswith(b"#!python\n")
    ]
    if "[console_scripts]" in entry_points:
        problems.append("wheel also declares console scripts (pip's wrapper imports re first)")

    # One version: __init__.py defines it; the metadata of both and the man page say the same.
    for what, value in (
        ("wheel metadata", meta["Version"]),
        ("sdist metadata", sdist_meta["Version"] if sdist_meta else None),
        (
            "man page .TH",
            (re.search(r'^\.TH .*"oauth-helper ([^"]+)"', page, re.M) or [None, None])[1],
        ),
    ):
        if value != version:
            problems.append(f"{what} says version {value}, oauth_helper/__init__.py says {version}")
    for field in ("Project-URL", "Classifier", "Keywords", "License-Expression", "Requires-Python"):
        if not meta.get_all(field):
            problems.append(f"wheel metadata has no {field}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: check-dist.py DIST_DIR SOURCE_DIR")
    found_problems = main(Path(sys.argv[1]), Path(sys.argv[2]))
    for problem in found_problems:
        print(f"check-dist: {problem}", file=sys.stderr)
    sys.exit(1 if found_problems else 0)
