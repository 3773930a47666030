"""Functions, their immutable versions, and deploy jobs.

One function per (app, trigger). Saving never edits code in place: it adds a version
(numbered 1, 2, 3… per function) and a PENDING deploy job, in the caller's transaction.

Which version runs
------------------
``active_version_id`` is the version that runs. It moves in two ways only:

* ``complete_deploy(job)``: the job's version becomes active, unless a newer version
  (higher number) is active already: deploys may finish out of order;
* ``rollback(..., to_version=n)``: back (or forward) to a version whose deploy completed.

A FAILED deploy never moves it, so a broken save never replaces working code: the function
keeps running its last good version, and ``Function.latest_version_*`` shows what was saved.

Saving the same code again (same source, language and filename) as the active version, or
as the newest version while its deploy is still pending, returns that version and its job
(``SaveResult.created`` is False) instead of making a new one.

Deleting a function deletes its versions and deploy jobs; executions that name them stay.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from appfn.errors import ConflictError, HandlerLoadError, NotFoundError, ValidationError
from appfn.store._common import check_choice, check_name, new_id, one_or_404, owned, utcnow
from appfn.store.apps import get_app_row
from appfn.store.models import LANGUAGES, AppRow, DeployJobRow, FunctionRow, FunctionVersionRow

MAX_SOURCE_BYTES = 512 * 1024
MAX_FAILURE_REASON = 10_000
DEFAULT_FILENAMES = {"python": "handler.py", "typescript": "handler.ts", "javascript": "handler.js"}
EXTENSIONS = {"python": (".py",), "typescript": (".ts",), "javascript": (".js", ".mjs")}
_FILENAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# A deploy check: raise HandlerLoadError (with .line) when the version must not go live.
DeployCheck = Callable[[str, str, str], None]  # (source, filename, language)


@dataclass(frozen=True)
class Function:
    id: str
    app_id: str
    trigger: str
    name: str
    active_version_id: str | None  # the version that runs (None until a deploy completes)
    active_version_number: int | None
    latest_version_id: str | None  # the version saved last, whatever its deploy became
    latest_version_number: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FunctionVersion:
    id: str
    function_id: str
    number: int
    language: str
    filename: str
    source: str = field(repr=False)
    sha256: str
    created_at: datetime
    deploy_status: str | None = None  # of the version's newest deploy job (not part of the version)


@dataclass(frozen=True)
class DeployJob:
    id: str
    function_version_id: str
    function_id: str
    version_number: int
    status: str
    failure_reason: str | None
    failure_line: int | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SaveResult:
    function: Function
    version: FunctionVersion
    job: DeployJob
    created: bool  # False when an identical save returned the existing version


# --- reading ------------------------------------------------------------------------------------


def _function_select(partner_id: str | None) -> Select[Any]:
    active = aliased(FunctionVersionRow)
    newest = aliased(FunctionVersionRow)
    # Correlated look-ups of the newest version, each served by the (function_id, number) index.
    latest = select(newest.id).where(newest.function_id == FunctionRow.id).order_by(newest.number.desc()).limit(1)
    stmt = (
        select(
            FunctionRow,
            active.number,
            latest.scalar_subquery(),
            select(func.max(newest.number)).where(newest.function_id == FunctionRow.id).scalar_subquery(),
        )
        .join(AppRow, AppRow.id == FunctionRow.app_id)
        .outerjoin(active, active.id == FunctionRow.active_version_id)
    )
    return owned(stmt, AppRow.partner_id, partner_id)


def _to_function(row: Any) -> Function:
    fn, active_number, latest_id, latest_number = row
    return Function(
        id=fn.id,
        app_id=fn.app_id,
        trigger=fn.trigger,
        name=fn.name,
        active_version_id=fn.active_version_id,
        active_version_number=active_number,
        latest_version_id=latest_id,
        latest_version_number=latest_number,
        created_at=fn.created_at,
        updated_at=fn.updated_at,
    )


def _to_version(row: FunctionVersionRow, deploy_status: str | None = None) -> FunctionVersion:
    return FunctionVersion(
        id=row.id,
        function_id=row.function_id,
        number=row.number,
        language=row.language,
        filename=row.filename,
        source=row.source,
        sha256=row.sha256,
        created_at=row.created_at,
        deploy_status=deploy_status,
    )


def _to_job(job: DeployJobRow, version: FunctionVersionRow) -> DeployJob:
    return DeployJob(
        id=job.id,
        function_version_id=job.function_version_id,
        function_id=version.function_id,
        version_number=version.number,
        status=job.status,
        failure_reason=job.failure_reason,
        failure_line=job.failure_line,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def _one_function(session: Session, stmt: Select[Any], ident: object) -> Function:
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFoundError("function", ident)
    return _to_function(row)


def get_function(session: Session, *, app_id: str, trigger: str, partner_id: str | None) -> Function:
    """The app's function for ``trigger`` (NotFoundError if none, or not the caller's)."""
    stmt = _function_select(partner_id).where(FunctionRow.app_id == app_id, FunctionRow.trigger == trigger)
    return _one_function(session, stmt, f"{app_id}/{trigger}")


def get_function_by_id(session: Session, function_id: str, *, partner_id: str | None) -> Function:
    return _one_function(session, _function_select(partner_id).where(FunctionRow.id == function_id), function_id)


def list_functions(session: Session, *, app_id: str, partner_id: str | None) -> list[Function]:
    """The app's functions, by trigger name."""
    get_app_row(session, app_id, partner_id=partner_id)
    stmt = _function_select(partner_id).where(FunctionRow.app_id == app_id).order_by(FunctionRow.trigger)
    return [_to_function(r) for r in session.execute(stmt)]


def _newest_job_status() -> Any:
    newest = (
        select(DeployJobRow.status)
        .where(DeployJobRow.function_version_id == FunctionVersionRow.id)
        .order_by(DeployJobRow.created_at.desc(), DeployJobRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return newest


def list_versions(session: Session, *, app_id: str, trigger: str, partner_id: str | None) -> list[FunctionVersion]:
    """Every version of the function, newest first, each with its deploy status."""
    fn = get_function(session, app_id=app_id, trigger=trigger, partner_id=partner_id)
    stmt = (
        select(FunctionVersionRow, _newest_job_status())
        .where(FunctionVersionRow.function_id == fn.id)
        .order_by(FunctionVersionRow.number.desc())
    )
    return [_to_version(v, status) for v, status in session.execute(stmt)]


def get_version(session: Session, version_id: str, *, partner_id: str | None) -> FunctionVersion:
    stmt = (
        select(FunctionVersionRow, _newest_job_status())
        .join(FunctionRow, FunctionRow.id == FunctionVersionRow.function_id)
        .join(AppRow, AppRow.id == FunctionRow.app_id)
        .where(FunctionVersionRow.id == version_id)
    )
    row = session.execute(owned(stmt, AppRow.partner_id, partner_id)).one_or_none()
    if row is None:
        raise NotFoundError("function version", version_id)
    return _to_version(row[0], row[1])


def get_deploy_job(session: Session, job_id: str, *, partner_id: str | None) -> DeployJob:
    stmt = (
        select(DeployJobRow, FunctionVersionRow)
        .join(FunctionVersionRow, FunctionVersionRow.id == DeployJobRow.function_version_id)
        .join(FunctionRow, FunctionRow.id == FunctionVersionRow.function_id)
        .join(AppRow, AppRow.id == FunctionRow.app_id)
        .where(DeployJobRow.id == job_id)
    )
    row = session.execute(owned(stmt, AppRow.partner_id, partner_id)).one_or_none()
    if row is None:
        raise NotFoundError("deploy job", job_id)
    return _to_job(*row)


def latest_deploy(session: Session, function_version_id: str) -> DeployJob | None:
    """The newest deploy job of a version (None when it has none); no owner check."""
    stmt = (
        select(DeployJobRow, FunctionVersionRow)
        .join(FunctionVersionRow, FunctionVersionRow.id == DeployJobRow.function_version_id)
        .where(DeployJobRow.function_version_id == function_version_id)
        .order_by(DeployJobRow.created_at.desc(), DeployJobRow.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).one_or_none()
    return _to_job(*row) if row else None


def list_pending_deploys(session: Session, limit: int = 100) -> list[DeployJob]:
    """PENDING jobs, oldest first: the deployer's work list (platform-internal, no owner check)."""
    stmt = (
        select(DeployJobRow, FunctionVersionRow)
        .join(FunctionVersionRow, FunctionVersionRow.id == DeployJobRow.function_version_id)
        .where(DeployJobRow.status == "PENDING")
        .order_by(DeployJobRow.created_at, DeployJobRow.id)
        .limit(limit)
    )
    return [_to_job(*row) for row in session.execute(stmt)]


# --- saving -------------------------------------------------------------------------------------


def check_trigger(trigger: Any, field: str = "trigger") -> str:
    """A trigger name from the catalog (ValidationError naming close matches otherwise)."""
    from appfn.catalog import load_catalog

    catalog = load_catalog()
    if isinstance(trigger, str) and trigger in catalog:
        return trigger
    close = catalog.suggest(str(trigger))
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ValidationError(field, f"unknown trigger {trigger!r}{hint}")


def _check_code(source: Any, language: Any, filename: Any) -> tuple[str, str, str]:
    check_choice(language, LANGUAGES, "language")
    filename = DEFAULT_FILENAMES[language] if filename is None else filename
    if not isinstance(filename, str) or len(filename) > 200 or not _FILENAME_RE.match(filename):
        raise ValidationError("filename", f"must be a plain file name like 'handler.py', got {filename!r}")
    if not filename.endswith(EXTENSIONS[language]):
        raise ValidationError("filename", f"a {language} file ends with {' or '.join(EXTENSIONS[language])}")
    if not isinstance(source, str):
        raise ValidationError("source", f"expected a string, got {type(source).__name__}")
    if not source.strip():
        raise ValidationError("source", "must not be empty")
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise ValidationError("source", f"is {size} bytes, at most {MAX_SOURCE_BYTES} allowed")
    if "\x00" in source:
        raise ValidationError("source", "contains a NUL character")
    return source, language, filename


def _lock_or_create_function(session: Session, app_id: str, trigger: str, name: str | None) -> FunctionRow:
    stmt = select(FunctionRow).where(FunctionRow.app_id == app_id, FunctionRow.trigger == trigger).with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is not None:
        return row
    now = utcnow()
    row = FunctionRow(
        id=new_id("fn"),
        app_id=app_id,
        trigger=trigger,
        name=name or trigger.replace(".", "-"),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # created meanwhile by a concurrent save: use that one
        row = session.execute(stmt).scalar_one_or_none()
        if row is None:
            raise ConflictError(f"function {app_id}/{trigger} is being changed concurrently", "function") from None
    return row


def _job_of(session: Session, version: FunctionVersionRow) -> DeployJobRow | None:
    stmt = (
        select(DeployJobRow)
        .where(DeployJobRow.function_version_id == version.id)
        .order_by(DeployJobRow.created_at.desc(), DeployJobRow.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def _same_code(version: FunctionVersionRow, sha: str, language: str, filename: str) -> bool:
    return version.sha256 == sha and version.language == language and version.filename == filename


def _existing_save(
    session: Session, fn: FunctionRow, sha: str, language: str, filename: str
) -> tuple[FunctionVersionRow, DeployJobRow] | None:
    """The version an identical save should return: the active one, or a newest one still deploying."""
    if fn.active_version_id is not None:
        active = session.get(FunctionVersionRow, fn.active_version_id)
        if active is not None and _same_code(active, sha, language, filename):
            job = _job_of(session, active)
            if job is not None:
                return active, job
    newest = session.execute(
        select(FunctionVersionRow)
        .where(FunctionVersionRow.function_id == fn.id)
        .order_by(FunctionVersionRow.number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if newest is not None and _same_code(newest, sha, language, filename):
        job = _job_of(session, newest)
        if job is not None and job.status == "PENDING":
            return newest, job
    return None


def save_function(
    session: Session,
    *,
    app_id: str,
    trigger: str,
    source: str,
    partner_id: str | None,
    name: str | None = None,
    language: str = "python",
    filename: str | None = None,
) -> SaveResult:
    """Save code for the app's ``trigger``: a new version plus a PENDING deploy job.

    Creates the function on its first save (``name`` defaults to the trigger with dashes,
    e.g. ``customer-created``); a given ``name`` renames it. The active version does not
    change here: see ``complete_deploy``.
    """
    trigger = check_trigger(trigger)
    source, language, filename = _check_code(source, language, filename)
    name = check_name(name) if name is not None else None
    get_app_row(session, app_id, partner_id=partner_id)
    fn = _lock_or_create_function(session, app_id, trigger, name)
    now = utcnow()
    if name is not None and fn.name != name:
        fn.name = name
        fn.updated_at = now
    sha = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    existing = _existing_save(session, fn, sha, language, filename)
    if existing is not None:
        version, job = existing
        created = False
    else:
        number = session.execute(
            select(func.coalesce(func.max(FunctionVersionRow.number), 0)).where(FunctionVersionRow.function_id == fn.id)
        ).scalar_one()
        version = FunctionVersionRow(
            id=new_id("ver"),
            function_id=fn.id,
            number=number + 1,
            language=language,
            filename=filename,
            source=source,
            sha256=sha,
            created_at=now,
        )
        job = DeployJobRow(id=new_id("dep"), function_version_id=version.id, status="PENDING", created_at=now)
        fn.updated_at = now
        try:
            with session.begin_nested():
                session.add(version)
        except IntegrityError:
            raise ConflictError(f"function {app_id}/{trigger} was saved concurrently; try again", "function") from None
        session.add(job)  # after the version: the tables' foreign keys form a cycle the flush cannot order
        created = True
    session.flush()
    function = get_function_by_id(session, fn.id, partner_id=None)
    return SaveResult(function, _to_version(version, job.status), _to_job(job, version), created)


# --- deploying ----------------------------------------------------------------------------------


def _lock_job(session: Session, job_id: str) -> tuple[DeployJobRow, FunctionVersionRow]:
    stmt = select(DeployJobRow).where(DeployJobRow.id == job_id).with_for_update()
    job = one_or_404(session, stmt, "deploy job", job_id)
    version = session.get(FunctionVersionRow, job.function_version_id)
    assert version is not None  # foreign key
    return job, version


def complete_deploy(session: Session, job_id: str) -> DeployJob:
    """Mark a PENDING job COMPLETED and make its version active (unless a newer one already is).

    Completing a COMPLETED job again is a no-op; completing a FAILED one is a ConflictError.
    """
    job, version = _lock_job(session, job_id)
    if job.status == "COMPLETED":
        return _to_job(job, version)
    if job.status != "PENDING":
        raise ConflictError(f"deploy job {job_id} already {job.status}", "deploy job")
    now = utcnow()
    job.status, job.finished_at = "COMPLETED", now
    fn = session.execute(
        select(FunctionRow).where(FunctionRow.id == version.function_id).with_for_update()
    ).scalar_one()
    active = session.get(FunctionVersionRow, fn.active_version_id) if fn.active_version_id else None
    if active is None or version.number > active.number:
        fn.active_version_id = version.id
        fn.updated_at = now
    session.flush()
    return _to_job(job, version)


def fail_deploy(session: Session, job_id: str, reason: str, line: int | None = None) -> DeployJob:
    """Mark a PENDING job FAILED with a reason (and the source line, when known).

    The function's active version does not change. Failing a FAILED job again is a no-op;
    failing a COMPLETED one is a ConflictError.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("reason", "a failed deploy needs a reason")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
        raise ValidationError("line", f"must be a positive line number, got {line!r}")
    job, version = _lock_job(session, job_id)
    if job.status == "FAILED":
        return _to_job(job, version)
    if job.status != "PENDING":
        raise ConflictError(f"deploy job {job_id} already {job.status}", "deploy job")
    job.status, job.finished_at = "FAILED", utcnow()
    job.failure_reason = reason.strip()[:MAX_FAILURE_REASON]
    job.failure_line = line
    session.flush()
    return _to_job(job, version)


def python_check(source: str, filename: str, language: str) -> None:
    """The default deploy check: Python code must parse and define ``handler(context)``."""
    if language == "python":
        from appfn.runtime.loader import check_source

        check_source(source, filename)


def run_deploy(session: Session, job_id: str, check: DeployCheck = python_check) -> DeployJob:
    """Check a PENDING job's code and complete or fail it: the whole deploy, for a local deployer.

    ``check`` raises ``HandlerLoadError`` (message, line) to fail the deploy; the default
    checks Python statically and passes other languages (give a check that knows them).
    """
    job, version = _lock_job(session, job_id)
    if job.status != "PENDING":
        return _to_job(job, version)
    try:
        check(version.source, version.filename, version.language)
    except HandlerLoadError as exc:
        return fail_deploy(session, job_id, str(exc), exc.line)
    return complete_deploy(session, job_id)


# --- rollback and delete ------------------------------------------------------------------------


def rollback(session: Session, *, app_id: str, trigger: str, to_version: int, partner_id: str | None) -> Function:
    """Make version ``to_version`` (whose deploy completed) the active one. No code is copied."""
    if isinstance(to_version, bool) or not isinstance(to_version, int) or to_version < 1:
        raise ValidationError("to_version", f"must be a version number (1, 2, …), got {to_version!r}")
    fn = get_function(session, app_id=app_id, trigger=trigger, partner_id=partner_id)
    row = session.execute(select(FunctionRow).where(FunctionRow.id == fn.id).with_for_update()).scalar_one()
    version = session.execute(
        select(FunctionVersionRow).where(
            FunctionVersionRow.function_id == fn.id, FunctionVersionRow.number == to_version
        )
    ).scalar_one_or_none()
    if version is None:
        raise NotFoundError("function version", f"{app_id}/{trigger}@{to_version}")
    completed = session.execute(
        select(func.count()).where(DeployJobRow.function_version_id == version.id, DeployJobRow.status == "COMPLETED")
    ).scalar_one()
    if not completed:
        raise ConflictError(f"version {to_version} never deployed successfully; it cannot be made active", "version")
    if row.active_version_id != version.id:
        row.active_version_id = version.id
        row.updated_at = utcnow()
        session.flush()
    return get_function_by_id(session, fn.id, partner_id=None)


def delete_function(session: Session, *, app_id: str, trigger: str, partner_id: str | None) -> None:
    """Delete the function with its versions and deploy jobs. Its executions are kept."""
    fn = get_function(session, app_id=app_id, trigger=trigger, partner_id=partner_id)
    session.execute(delete(FunctionRow).where(FunctionRow.id == fn.id))
    session.expunge_all()
