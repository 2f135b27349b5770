"""The version has one home, the workspace's Cargo.toml: the crate, the Python distribution's
metadata (maturin reads it) and `parallel.__version__` all say it, and CHANGELOG.md has its entry."""

import importlib.metadata
import re
from pathlib import Path

import parallel

ROOT = Path(__file__).resolve().parents[1]


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^version\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert found, "Cargo.toml's [workspace.package] has no version"
    return found.group(1)


def test_the_package_says_the_workspace_version():
    version = workspace_version()
    assert parallel.__version__ == version
    assert importlib.metadata.version("parallel-rs") == version


def test_the_crates_take_their_version_from_the_workspace():
    for manifest in ("crates/parallel/Cargo.toml", "crates/parallel-py/Cargo.toml"):
        text = (ROOT / manifest).read_text()
        assert "version.workspace = true" in text, manifest
        assert not re.search(r'^version\s*=\s*"', text, re.MULTILINE), manifest


def test_the_changelog_has_an_entry_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(workspace_version())}\]?", changelog, re.MULTILINE)
