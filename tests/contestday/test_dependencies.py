"""Reproducible installs: pyproject.toml names every package our code imports, each with a lower bound and an
upper one below its next major; constraints.txt (scripts/lock) pins every dependency, direct or not, inside
every range that asks for it; and CI installs exactly those pins."""

from __future__ import annotations

import ast
import importlib.metadata as md
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
PACKAGES = ["contestday", "scoring", "registration", "judging", "results", "kiosk", "certificates"]
FIRST_PARTY = {*PACKAGES, "tests", "bench"}
# below the next minor, not the next major: contestday.db.writer.Prepared uses the compiler's internals
NEXT_MINOR = {"sqlalchemy"}


def pins() -> dict[NormalizedName, Version]:
    found: dict[NormalizedName, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip() and not any(c in line for c in ";@ "), f"not an exact pin: {line!r}"
        key = canonicalize_name(name)
        assert key not in found, f"pinned twice: {name}"
        found[key] = Version(version)
    return found


def applies(req: Requirement, extras: frozenset[str] = frozenset()) -> bool:
    """Whether `req` is wanted on this platform (with the given extras of the package asking for it)."""
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras | {""})


def test_every_dependency_has_a_lower_bound_and_an_upper_one_below_its_next_major() -> None:
    """>=LOW (what we test with, or the oldest known to work) and <HIGH: the next major after the pinned release
    (0.x: 1; 0.0.x: 0.1), or for SQLAlchemy the next minor."""
    pinned = pins()
    for req in RUNTIME + DEV:
        lower = [Version(s.version) for s in req.specifier if s.operator == ">="]
        upper = [Version(s.version) for s in req.specifier if s.operator == "<"]
        assert len(lower) == 1 and len(upper) == 1 and len(req.specifier) == 2, f"{req}: want >=LOW,<HIGH"
        pin = pinned.get(canonicalize_name(req.name))
        if pin is None:  # not wanted here (a marker): its range still has both ends
            continue
        if canonicalize_name(req.name) in NEXT_MINOR:
            want = Version(f"{pin.major}.{pin.minor + 1}")
        elif pin.major == 0:
            want = Version("0.1") if pin.minor == 0 else Version("1")
        else:
            want = Version(str(pin.major + 1))
        assert upper[0] == want, f"{req}: the upper bound should be <{want} (pinned {pin})"
        assert lower[0] <= pin, f"{req}: pinned {pin} is below the lower bound"


def test_every_dependency_is_pinned_inside_its_range() -> None:
    pinned = pins()
    for req in RUNTIME + DEV:
        if not applies(req):
            continue
        key = canonicalize_name(req.name)
        assert key in pinned, f"{req.name} is not in constraints.txt: run scripts/lock"
        assert pinned[key] in req.specifier, f"constraints.txt pins {req.name}=={pinned[key]}, outside {req}"


def closure() -> Iterator[tuple[str, Requirement]]:
    """(who asks, requirement) for every requirement reached from pyproject.toml, through the metadata of the
    installed distributions (with the extras asked for)."""
    todo = [(PROJECT["name"], req) for req in RUNTIME + DEV if applies(req)]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while todo:
        parent, req = todo.pop()
        yield parent, req
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = md.distribution(req.name)
        todo += [(req.name, sub) for sub in map(Requirement, dist.requires or [])
                 if applies(sub, frozenset(req.extras))]


def test_constraints_pin_every_package_the_install_needs_inside_every_range_that_asks() -> None:
    pinned = pins()
    reached: set[NormalizedName] = set()
    for parent, req in closure():
        key = canonicalize_name(req.name)
        reached.add(key)
        assert key in pinned, f"{parent} needs {req}, which constraints.txt does not pin: run scripts/lock"
        assert req.specifier.contains(pinned[key], prereleases=True), \
            f"{parent} needs {req}; constraints.txt pins {pinned[key]}: run scripts/lock"
    # and nothing else: a pin no install needs is a leftover (the lock is made on Linux, where every marker holds)
    assert set(pinned) - reached == set(), "pinned but not needed: run scripts/lock"


def test_ci_runs_on_the_pinned_versions() -> None:
    """.ci/run installs with -c constraints.txt: the suite then runs on exactly the pinned set (elsewhere a
    developer may have newer releases installed, so this holds under CI only)."""
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert '-m pip install -q -c constraints.txt -e ".[dev]"' in text
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "constraints.txt" in docker.split("RUN pip install -c constraints.txt .")[0].split("COPY", 1)[1]
    if os.environ.get("CI") == "true":
        pinned = pins()
        for _parent, req in closure():
            installed = Version(md.version(req.name))
            assert installed == pinned[canonicalize_name(req.name)], f"{req.name} {installed} is not the pin"


def imports(folder: str) -> Iterator[tuple[str, str]]:
    """(top-level module, file) of every absolute import under `folder`."""
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield name.split(".")[0], str(path.relative_to(ROOT))


def undeclared(folders: list[str], declared: list[Requirement]) -> list[str]:
    names = {canonicalize_name(r.name) for r in declared}
    providers = md.packages_distributions()
    missing = []
    for module, path in imports_of(folders):
        if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
            continue
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & names:
            missing.append(f"{path}: import {module} ({', '.join(sorted(dists)) or 'not installed'})")
    return missing


def imports_of(folders: list[str]) -> Iterator[tuple[str, str]]:
    for folder in folders:
        yield from imports(folder)


def test_every_package_the_code_imports_is_declared_directly() -> None:
    """Not only brought in by another package: each import names a distribution in pyproject.toml (the code's
    in the dependencies, the tests' and benchmarks' there or in the dev extra)."""
    assert undeclared(PACKAGES, RUNTIME) == []
    assert undeclared(["tests", "bench"], RUNTIME + DEV) == []
    # the check sees what it is meant to see
    assert {"python_calamine", "xlsxwriter", "fastexcel", "redis", "jinja2"} <= {m for m, _ in imports_of(PACKAGES)}
