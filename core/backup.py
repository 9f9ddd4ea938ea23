"""Backups of the whole database (every tenant), and restoring one.

* SQLite: the sqlite3 online backup API (a consistent copy while the application runs);
  restoring copies the backup back page by page into the live file.
* PostgreSQL: ``pg_dump -Fc`` and ``pg_restore --clean --single-transaction`` with the
  owner connection (``CCAS_DATABASE_OWNER_URL``). Forced row-level security hides rows
  even from the owner, so the dump runs with ``ccas.cross = on`` (the escape hatch of
  the policies) and ``--enable-row-security``: every tenant's rows are dumped, and the
  policies, grants and ownership are dumped with the schema. The password travels in
  ``PGPASSWORD``, never on a command line.

The stored documents' files (``CCAS_FILES_DIR``) are backed up beside the database:
``<backup>.files.zip`` holds every file (``<tenant id>/<key>``) and ``SHA256SUMS`` with
each one's checksum; restoring checks every checksum before replacing the folder.

No Flask here: functions take URLs and paths, so the CLI and tests call them directly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from . import clock
from .errors import UserError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
LOCK_TIMEOUT = "60s"


def dialect_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise UserError(f"Sauvegarde impossible : base {name!r} non prise en charge.")
    return name


def default_filename(url: str, now: datetime | None = None) -> str:
    stamp = (now or clock.now()).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if dialect_of(url) == "sqlite" else "dump"
    return f"ccas-{stamp}.{suffix}"


FILES_SUFFIX = ".files.zip"
SUMS = "SHA256SUMS"


def files_archive(backup: str | Path) -> Path:
    """Where the files of the backup ``backup`` are kept."""
    backup = Path(backup)
    return backup.with_name(backup.name + FILES_SUFFIX)


def create(owner_url: str, output: str | Path, files_dir: str | Path | None = None) -> Path:
    """Write a backup of the database at ``owner_url`` to ``output`` (and of the stored
    documents of ``files_dir`` to :func:`files_archive`); return its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        raise UserError(f"Le fichier {output} existe déjà : choisissez un autre nom.")
    partial = output.with_name(output.name + ".partial")
    try:
        if dialect_of(owner_url) == "sqlite":
            _sqlite_copy(_sqlite_path(owner_url), partial)
        else:
            _run(["pg_dump", "--format=custom", "--enable-row-security",
                  f"--file={partial}"], owner_url, cross=True)
        if files_dir is not None:
            save_files(files_dir, files_archive(output))
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def _stored_files(files_dir: Path):
    for tenant_dir in sorted(p for p in files_dir.iterdir() if p.is_dir()):
        for path in sorted(tenant_dir.glob("*/*")):
            if path.is_file() and not path.name.endswith(".partial"):
                yield f"{tenant_dir.name}/{path.name}", path


def save_files(files_dir: str | Path, target: Path) -> int:
    """Copy every stored file of ``files_dir`` into the ZIP ``target`` with their
    checksums; return how many."""
    files_dir = Path(files_dir)
    partial = target.with_name(target.name + ".partial")
    sums = []
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        if files_dir.is_dir():
            for name, path in _stored_files(files_dir):
                data = path.read_bytes()
                archive.writestr(name, data)
                sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
        archive.writestr(SUMS, "\n".join(sums) + ("\n" if sums else ""))
    partial.replace(target)
    return len(sums)


def restore_files(source: Path, files_dir: str | Path) -> int:
    """Replace the stored files of ``files_dir`` by those of the ZIP ``source``, every
    checksum checked first; return how many."""
    return write_files(read_files(source), files_dir)


def read_files(source: Path) -> dict[tuple[str, str], bytes]:
    """The files of the ZIP ``source``, each checked against ``SHA256SUMS``."""
    try:
        with zipfile.ZipFile(source) as archive:
            sums = {}
            for line in archive.read(SUMS).decode("utf-8").splitlines():
                digest, _, name = line.partition("  ")
                sums[name] = digest
            contents = {}
            for name, digest in sums.items():
                tenant, _, key = name.partition("/")
                if not (tenant.isdigit() and len(key) == 64 and key.isalnum()):
                    raise UserError(f"{source} : nom de fichier inattendu ({name}).")
                data = archive.read(name)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise UserError(f"{source} : la somme de contrôle de {name} ne "
                                    "correspond pas. Rien n'a été restauré.")
                contents[(tenant, key)] = data
    except (zipfile.BadZipFile, KeyError) as exc:
        raise UserError(f"{source} n'est pas une sauvegarde de fichiers lisible.") from exc
    return contents


def write_files(contents: dict[tuple[str, str], bytes], files_dir: str | Path) -> int:
    files_dir = Path(files_dir)
    if files_dir.is_dir():
        for _, path in list(_stored_files(files_dir)):
            path.unlink()
    for (tenant, key), data in contents.items():
        path = files_dir / tenant / key[:2] / key
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return len(contents)


def restore(owner_url: str, backup: str | Path, files_dir: str | Path | None = None) -> None:
    """Replace the content of the database at ``owner_url`` by the backup ``backup`` (and
    the stored files of ``files_dir`` by its :func:`files_archive`, when both exist).

    Everything written since the backup is lost. Stop the application (or accept that
    its requests fail during the restore) and restart it afterwards.
    """
    backup = Path(backup)
    if not backup.is_file():
        raise UserError(f"Fichier de sauvegarde introuvable : {backup}.")
    head = backup.read_bytes()[:16] if backup.stat().st_size else b""
    files = None
    if files_dir is not None and files_archive(backup).is_file():
        files = read_files(files_archive(backup))  # every checksum before any change
    if dialect_of(owner_url) == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise UserError(f"{backup} n'est pas une sauvegarde SQLite.")
        _sqlite_copy(backup, _sqlite_path(owner_url))
    else:
        if not head.startswith(PGDUMP_MAGIC):
            raise UserError(f"{backup} n'est pas une sauvegarde PostgreSQL (pg_dump -Fc).")
        # A session still using the tables would block the DROPs: give up after a while
        # (nothing is changed: single transaction) instead of waiting forever.
        _run(["pg_restore", "--clean", "--if-exists", "--single-transaction",
              "--exit-on-error", "--no-password", str(backup)], owner_url, database_arg=True,
             options=f"-c lock_timeout={LOCK_TIMEOUT}")
    if files is not None:
        write_files(files, files_dir)


# -- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise UserError("Une base SQLite en mémoire ne se sauvegarde pas.")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not Path(source).exists():
        raise UserError(f"Base SQLite introuvable : {source}.")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)  # online backup API: consistent even while others write
    finally:
        dst.close()
        src.close()


# -- PostgreSQL -----------------------------------------------------------------------------


def _libpq_env(url: str, cross: bool = False, options: str = "") -> dict[str, str]:
    u = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[key] = str(value)
    if cross:
        # Lift the tenant policies for this session only (see core.rawsql.enable_rls).
        options = f"{options} -c ccas.cross=on"
    if options:
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {options}".strip()
    return env


def _run(command: list[str], url: str, cross: bool = False, database_arg: bool = False,
         options: str = "") -> None:
    program = command[0]
    if shutil.which(program) is None:
        raise UserError(f"{program} est introuvable : installez les outils clients "
                        "PostgreSQL (paquet postgresql-client).")
    if database_arg:
        command = [*command[:-1], f"--dbname={make_url(url).database}", command[-1]]
    result = subprocess.run(  # noqa: S603 - fixed program, arguments we built
        command, env=_libpq_env(url, cross, options), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise UserError(f"{program} a échoué : " + (message[-1] if message else
                                                     f"code {result.returncode}"))
