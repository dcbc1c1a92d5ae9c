"""Projects of the page: one folder each under the data folder, named by a random id.

    DATA/<project id>/
        project.json            the settings: name, owner, k, household and id columns, file names
        inputs/pool/<name>      the uploaded pool, under the name the organiser gave it
        inputs/quotas/<name>    the uploaded quotas
        .pseudonym.key          the project's pseudonym key, made where the ids look personal
                                (docs/privacy.md); never a download, erased with the project
        runs/<n>.json           what run n asked for (algorithm, seed, k, households)
        runs/<n>/               what it wrote (``sortition.write_selection``)

A project belongs to the browser that made it: ``project.json`` keeps the SHA-256 of that
browser's session cookie, and any other browser is told there is no such project. Nothing here
draws or checks anything: ``load`` is ``sortition.load`` on the stored files.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import threading
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import sortition

PROJECT_ID = re.compile(r"^[0-9a-f]{20}$")
RUN_ID = re.compile(r"^[1-9][0-9]{0,5}$")
ALLOWED_SUFFIXES = (".csv", ".xlsx")
MAX_NAME = 120
PRIVATE_FOLDER = "private"  # what a run writes for the organiser only (private/pseudonyms.csv)
PSEUDONYM_TABLE = "pseudonyms.csv"
KEY_FILE = ".pseudonym.key"  # a private name: run_file serves only the files of a run's folder
_lock = threading.Lock()  # creating runs and writing project.json


def session_digest(session: str) -> str:
    """What a project stores of its owner: the SHA-256 of the browser's session cookie."""
    return hashlib.sha256(session.encode()).hexdigest()


def safe_file_name(name: str) -> str | None:
    """The uploaded file's own name without any folder, or None when nothing usable is left or
    it is not a CSV or Excel file. Letters of any script stay as they are."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    base = base.strip().lstrip(".")
    if not base or len(base) > MAX_NAME or not base.lower().endswith(ALLOWED_SUFFIXES):
        return None
    return base


@dataclass(frozen=True)
class Settings:
    """What project.json holds."""

    name: str
    owner: str
    k: int | None = None
    household_columns: tuple[str, ...] = ()
    id_column: str | None = None
    pool: str | None = None  # the stored file names
    quotas: str | None = None
    registry: str | None = None  # stage 1: the registry the letters are drawn from
    runs: int = 0  # runs started so far (the next run is runs + 1)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A project's folder and settings."""

    id: str
    folder: Path
    settings: Settings

    @property
    def pool_path(self) -> Path | None:
        s = self.settings
        return None if s.pool is None else self.folder / "inputs" / "pool" / s.pool

    @property
    def quotas_path(self) -> Path | None:
        s = self.settings
        return None if s.quotas is None else self.folder / "inputs" / "quotas" / s.quotas

    @property
    def registry_path(self) -> Path | None:
        s = self.settings
        return None if s.registry is None else self.folder / "inputs" / "registry" / s.registry

    @property
    def key_path(self) -> Path:
        """Where the project's pseudonym key is kept (it may not exist)."""
        return self.folder / KEY_FILE

    @property
    def privacy(self) -> dict[str, Any]:
        """What the upload found of the ids: ``personal`` (why they look personal, or None)
        and ``ids_are_public`` (the organiser said they are not personal)."""
        found = self.settings.extra.get("privacy") or {}
        return {
            "personal": found.get("personal"),
            "ids_are_public": bool(found.get("ids_are_public")),
        }

    @property
    def ready(self) -> bool:
        """Both files uploaded and k set."""
        return (
            self.pool_path is not None
            and self.quotas_path is not None
            and self.settings.k is not None
        )

    def load(self, k: int | None = None, households: bool = True) -> sortition.LoadedInput:
        """``sortition.load`` on the stored files (an ``InputError`` names file, row, column)."""
        pool, quotas = self.pool_path, self.quotas_path
        if pool is None or quotas is None:
            raise sortition.InputError("upload the pool and the quotas first")
        return sortition.load(
            pool,
            quotas,
            k if k is not None else (self.settings.k or 0),
            id_column=self.settings.id_column,
            household_columns=self.settings.household_columns if households else (),
            pseudonym_key=privacy_key(self),
            ids_are_public=self.privacy["ids_are_public"],
        )

    def run_folder(self, run: str) -> Path:
        return self.folder / "runs" / run

    def runs(self) -> list[dict[str, Any]]:
        """The runs started, newest first: what each asked for, and its files once written."""
        found = []
        folder = self.folder / "runs"
        for path in folder.glob("*.json") if folder.is_dir() else []:
            if not RUN_ID.match(path.stem):
                continue
            run = json.loads(path.read_text(encoding="utf-8"))
            out = folder / path.stem
            run["id"] = path.stem
            run["files"] = (
                sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
                if out.is_dir()
                else []
            )
            found.append(run)
        return sorted(found, key=lambda r: -int(r["id"]))

    def commitment_folder(self, run: str) -> Path:
        """Where a two-step run's first step writes commitment.json (``sortition commit``)."""
        return self.folder / "runs" / f"{run}-commitment"

    def run_file(self, run: str, name: str) -> Path | None:
        """A file a run wrote, looked up by name among those written (never a path built from
        what the browser sent)."""
        if not RUN_ID.match(run):
            return None
        out = self.commitment_folder(run) if name == "commitment.json" else self.run_folder(run)
        if not out.is_dir():
            return None
        if name == PSEUDONYM_TABLE:  # private/pseudonyms.csv, the organiser's own table
            out = out / PRIVATE_FOLDER
            if not out.is_dir():
                return None
        for path in out.iterdir():
            if path.name == name and path.is_file() and not name.startswith("."):
                return path
        return None


class Projects:
    """The projects under one data folder."""

    def __init__(self, data: Path) -> None:
        self.data = data

    def create(self, name: str, session: str) -> Project:
        self.data.mkdir(parents=True, exist_ok=True)
        while True:
            project_id = secrets.token_hex(10)
            folder = self.data / project_id
            try:
                folder.mkdir()
                break
            except FileExistsError:  # pragma: no cover - 80 random bits
                continue
        project = Project(project_id, folder, Settings(name=name, owner=session_digest(session)))
        self.save(project)
        return project

    def get(self, project_id: str, session: str | None) -> Project | None:
        """The project, if it exists and belongs to this browser's session."""
        if session is None or not PROJECT_ID.match(project_id):
            return None
        folder = self.data / project_id
        try:
            raw = json.loads((folder / "project.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        raw["household_columns"] = tuple(raw.get("household_columns", ()))
        settings = Settings(**raw)
        if not secrets.compare_digest(settings.owner, session_digest(session)):
            return None
        return Project(project_id, folder, settings)

    def mine(self, session: str | None) -> list[Project]:
        """This browser's projects, by name."""
        if session is None or not self.data.is_dir():
            return []
        found = [self.get(p.name, session) for p in self.data.iterdir() if p.is_dir()]
        return sorted((p for p in found if p is not None), key=lambda p: (p.settings.name, p.id))

    def save(self, project: Project) -> None:
        data = asdict(project.settings)
        data["household_columns"] = list(project.settings.household_columns)
        with _lock:
            _write_json(project.folder / "project.json", data)

    def update(self, project: Project, **changes: Any) -> Project:
        updated = replace(project, settings=replace(project.settings, **changes))
        self.save(updated)
        return updated

    def store_input(self, project: Project, kind: str, name: str, content: bytes) -> Project:
        """Keep an uploaded pool, quota or registry file (``kind``), replacing the one before."""
        folder = project.folder / "inputs" / kind
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / name).write_bytes(content)
        return self.update(project, **{kind: name})

    def start_run(self, project: Project, request: dict[str, Any]) -> tuple[Project, str]:
        """Number the next run and write what it asks for (runs/<n>.json)."""
        with _lock:
            number = project.settings.runs + 1
            runs = project.folder / "runs"
            runs.mkdir(exist_ok=True)
            while (runs / f"{number}.json").exists() or (runs / str(number)).exists():
                number += 1
            _write_json(runs / f"{number}.json", request)
        return self.update(project, runs=number), str(number)

    def update_run(self, project: Project, run: str, **changes: Any) -> None:
        """Add what a run's second step used (its seed) to runs/<n>.json."""
        self.update_run_file(project.folder, run, **changes)

    def update_run_file(self, folder: Path, run: str, **changes: Any) -> None:
        """Add ``changes`` to the project folder's runs/<n>.json."""
        path = folder / "runs" / f"{run}.json"
        with _lock:
            _write_json(path, {**json.loads(path.read_text(encoding="utf-8")), **changes})

    def delete(self, project: Project) -> None:
        """Erase the project's folder and everything in it."""
        shutil.rmtree(project.folder)


def privacy_key(project: Project) -> sortition.PseudonymKey | None:
    """The project's pseudonym key, when its ids look personal and the organiser has not said
    they are not: ``select``, ``commit``, the audit and ``draw`` then name everyone by a keyed
    pseudonym (docs/privacy.md). None otherwise: the outputs are then as without a key."""
    privacy = project.privacy
    if privacy["personal"] is None or privacy["ids_are_public"] or not project.key_path.is_file():
        return None
    return sortition.read_key(project.key_path)


def why_personal(loaded: sortition.LoadedInput) -> str | None:
    """Why the loaded pool's ids look personal (the rule the command applies,
    ``sortition.privacy.personal``), or None. Never quotes an id."""
    found = sortition.personal_ids(loaded.pool_file.source_ids, loaded.pool_file.id_column)
    return None if found is None else found.reason


def ensure_key(project: Project) -> bool:
    """Make the project's key from fresh randomness unless it has one (an existing key is never
    replaced: records made with it are checked with it). True when one was made."""
    if project.key_path.is_file():
        return False
    try:
        sortition.new_key(project.key_path)
    except sortition.InputError:  # made by another request of the same browser meanwhile
        if project.key_path.is_file():
            return False
        raise
    return True


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``path`` whole or not at all (a staging file, then a rename): the pages read the
    run and project files without the lock while a job's thread updates them."""
    staging = path.with_name(path.name + ".tmp")
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    staging.write_text(text, encoding="utf-8")
    staging.replace(path)
