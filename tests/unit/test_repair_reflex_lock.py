"""scripts/repair_reflex_lock.sh (called by `make run`): a reflex.lock/package.json left
empty by a run stopped mid-write is put back from git; a sound one is left alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "repair_reflex_lock.sh", project / "scripts")
    (project / "reflex.lock").mkdir()
    (project / "reflex.lock" / "package.json").write_text('{"name": "reflex", "dependencies": {}}\n')
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "lock"], check=True)
    return project


def _repair(project: Path) -> str:
    return subprocess.run(["bash", str(project / "scripts" / "repair_reflex_lock.sh")], check=True,
                          capture_output=True, text=True).stdout


def test_an_empty_package_json_is_put_back_from_git(tmp_path):
    project = _project(tmp_path)
    lock = project / "reflex.lock" / "package.json"
    committed = lock.read_text()
    lock.write_text("")
    assert "remise en place" in _repair(project)
    assert lock.read_text() == committed


def test_a_sound_package_json_is_left_alone(tmp_path):
    project = _project(tmp_path)
    lock = project / "reflex.lock" / "package.json"
    lock.write_text('{"name": "reflex", "dependencies": {"a": "1.0.0"}}\n')  # newer than git's: kept
    assert _repair(project) == ""
    assert '"a": "1.0.0"' in lock.read_text()


def test_outside_git_a_cut_file_is_removed_for_reflex_to_write_anew(tmp_path):
    project = _project(tmp_path)
    shutil.rmtree(project / ".git")
    lock = project / "reflex.lock" / "package.json"
    lock.write_text('{"name": "re')
    assert "supprimé" in _repair(project)
    assert not lock.exists()
