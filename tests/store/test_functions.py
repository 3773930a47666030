"""Functions: immutable versions, deploy jobs, which version is active, rollback, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from appfn import store
from appfn.errors import ConflictError, NotFoundError, ValidationError
from appfn.store.models import DeployJobRow, FunctionVersionRow

from .conftest import HANDLER, World

V2 = "def handler(context):\n    return {'success': True, 'data': {'v': 2}}\n"
V3 = "def handler(context):\n    return {'success': True, 'data': {'v': 3}}\n"
BROKEN = "def handler(context):\n    return {\n"
TRIGGER = "customer.created"


def save(db: store.Database, app: store.App, source: str, **kwargs: object) -> store.SaveResult:
    with db.session() as s:
        return store.save_function(
            s, app_id=app.id, trigger=TRIGGER, source=source, partner_id=app.partner_id, **kwargs
        )


def complete(db: store.Database, job_id: str) -> store.DeployJob:
    with db.session() as s:
        return store.complete_deploy(s, job_id)


def function(db: store.Database, app: store.App) -> store.Function:
    with db.read_session() as s:
        return store.get_function(s, app_id=app.id, trigger=TRIGGER, partner_id=app.partner_id)


def test_first_save_makes_version_1_and_a_pending_job(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    saved = save(db, app, HANDLER)
    assert saved.created
    assert saved.function.name == "customer-created" and saved.function.trigger == TRIGGER
    assert saved.version.number == 1 and saved.version.language == "python" and saved.version.filename == "handler.py"
    assert saved.version.source == HANDLER and len(saved.version.sha256) == 64
    assert saved.job.status == "PENDING" and saved.job.function_version_id == saved.version.id
    assert saved.job.function_id == saved.function.id and saved.job.version_number == 1
    assert saved.function.active_version_id is None  # nothing runs until the deploy completes
    assert saved.function.latest_version_number == 1


def test_completed_deploy_activates_and_failed_deploy_does_not(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    done = complete(db, v1.job.id)
    assert done.status == "COMPLETED" and done.finished_at is not None
    assert function(db, app).active_version_id == v1.version.id

    v2 = save(db, app, V2)
    assert v2.created and v2.version.number == 2
    assert function(db, app).active_version_id == v1.version.id  # still v1 while v2 deploys
    with db.session() as s:
        failed = store.fail_deploy(s, v2.job.id, "SyntaxError: '{' was never closed", 2)
    assert failed.status == "FAILED" and failed.failure_line == 2 and "never closed" in failed.failure_reason
    fn = function(db, app)
    assert fn.active_version_id == v1.version.id and fn.active_version_number == 1
    assert fn.latest_version_id == v2.version.id and fn.latest_version_number == 2


def test_versions_are_immutable(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    save(db, app, V2)
    save(db, app, V3, language="python", filename="main.py")
    with db.read_session() as s:
        versions = store.list_versions(s, app_id=app.id, trigger=TRIGGER, partner_id=app.partner_id)
        first = store.get_version(s, v1.version.id, partner_id=app.partner_id)
    assert [v.number for v in versions] == [3, 2, 1]
    assert [v.source for v in versions] == [V3, V2, HANDLER]
    assert versions[0].filename == "main.py"
    assert first.source == HANDLER and first.sha256 == v1.version.sha256 and first.created_at == v1.version.created_at


def test_identical_save_returns_the_existing_version(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    again = save(db, app, HANDLER)  # while v1's deploy is pending: same version, same job
    assert not again.created and again.version.id == v1.version.id and again.job.id == v1.job.id
    complete(db, v1.job.id)
    again = save(db, app, HANDLER)  # identical to the active version
    assert not again.created and again.version.id == v1.version.id and again.job.status == "COMPLETED"
    other_name = save(db, app, HANDLER, filename="other.py")  # filename is part of the code
    assert other_name.created and other_name.version.number == 2
    with db.read_session() as s:
        count = s.execute(select(func.count()).select_from(FunctionVersionRow)).scalar_one()
        jobs = s.execute(select(func.count()).select_from(DeployJobRow)).scalar_one()
    assert (count, jobs) == (2, 2)


def test_saving_after_a_failed_deploy_makes_a_new_version(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, BROKEN)
    with db.session() as s:
        store.fail_deploy(s, v1.job.id, "syntax error", 2)
    again = save(db, app, BROKEN)
    assert again.created and again.version.number == 2


def test_run_deploy_checks_python_code(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    good = save(db, app, HANDLER)
    with db.session() as s:
        assert store.run_deploy(s, good.job.id).status == "COMPLETED"
    bad = save(db, app, BROKEN)
    with db.session() as s:
        job = store.run_deploy(s, bad.job.id)
        assert store.run_deploy(s, bad.job.id) == job  # not pending any more: unchanged
    assert job.status == "FAILED" and job.failure_line == 2 and job.failure_reason
    assert function(db, app).active_version_id == good.version.id
    with db.read_session() as s:
        assert store.get_deploy_job(s, bad.job.id, partner_id=app.partner_id) == job


def test_run_deploy_with_a_custom_check_for_other_languages(db: store.Database, world: World) -> None:
    from appfn.errors import HandlerLoadError

    def refuse(source: str, filename: str, language: str) -> None:
        raise HandlerLoadError(f"{language} not supported here", 1)

    app = world.app(world.partner())
    saved = save(db, app, "export default async (ctx) => Resp.success();\n", language="javascript")
    assert saved.version.filename == "handler.js"
    with db.session() as s:
        job = store.run_deploy(s, saved.job.id, check=refuse)
    assert (job.status, job.failure_reason, job.failure_line) == ("FAILED", "javascript not supported here", 1)


def test_deploys_finishing_out_of_order_keep_the_newest(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1, v2 = save(db, app, HANDLER), save(db, app, V2)
    complete(db, v2.job.id)
    complete(db, v1.job.id)
    assert function(db, app).active_version_number == 2


def test_deploy_state_changes(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    first = complete(db, v1.job.id)
    assert complete(db, v1.job.id) == first  # idempotent
    with pytest.raises(ConflictError, match="already COMPLETED"), db.session() as s:
        store.fail_deploy(s, v1.job.id, "late failure")
    v2 = save(db, app, V2)
    with db.session() as s:
        store.fail_deploy(s, v2.job.id, "bad")
        store.fail_deploy(s, v2.job.id, "bad again")  # idempotent, first reason kept
    with pytest.raises(ConflictError, match="already FAILED"), db.session() as s:
        store.complete_deploy(s, v2.job.id)
    with db.read_session() as s:
        assert store.get_deploy_job(s, v2.job.id, partner_id=None).failure_reason == "bad"
    with db.session() as s:
        with pytest.raises(NotFoundError):
            store.complete_deploy(s, "dep_missing")
        with pytest.raises(ValidationError) as exc:
            store.fail_deploy(s, v2.job.id, "  ")
        assert exc.value.field == "reason"
        with pytest.raises(ValidationError) as exc:
            store.fail_deploy(s, v2.job.id, "x", 0)
        assert exc.value.field == "line"


def test_pending_deploys_list(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    v2 = save(db, app, V2)
    with db.read_session() as s:
        assert [j.id for j in store.list_pending_deploys(s)] == [v1.job.id, v2.job.id]
    complete(db, v1.job.id)
    with db.read_session() as s:
        assert [j.id for j in store.list_pending_deploys(s)] == [v2.job.id]


def test_rollback_moves_only_the_active_version(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    complete(db, v1.job.id)
    v2 = save(db, app, V2)
    with db.session() as s:
        store.fail_deploy(s, v2.job.id, "bad")
    v3 = save(db, app, V3)
    complete(db, v3.job.id)
    assert function(db, app).active_version_number == 3

    with db.session() as s:
        fn = store.rollback(s, app_id=app.id, trigger=TRIGGER, to_version=1, partner_id=app.partner_id)
    assert fn.active_version_id == v1.version.id and fn.latest_version_number == 3
    with db.read_session() as s:
        assert s.execute(select(func.count()).select_from(FunctionVersionRow)).scalar_one() == 3  # nothing copied
    with pytest.raises(ConflictError, match="never deployed"), db.session() as s:
        store.rollback(s, app_id=app.id, trigger=TRIGGER, to_version=2, partner_id=app.partner_id)
    with pytest.raises(NotFoundError), db.session() as s:
        store.rollback(s, app_id=app.id, trigger=TRIGGER, to_version=9, partner_id=app.partner_id)
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.rollback(s, app_id=app.id, trigger=TRIGGER, to_version=0, partner_id=app.partner_id)
    assert exc.value.field == "to_version"
    with db.session() as s:  # forward again
        fn = store.rollback(s, app_id=app.id, trigger=TRIGGER, to_version=3, partner_id=None)
    assert fn.active_version_id == v3.version.id


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"trigger": "customer.creatd"}, "trigger", "did you mean customer.created"),
        ({"trigger": "nope"}, "trigger", "unknown trigger"),
        ({"language": "ruby"}, "language", "one of"),
        ({"filename": "../x.py"}, "filename", "plain file name"),
        ({"filename": "handler.js"}, "filename", "a python file ends with .py"),
        ({"source": "   \n"}, "source", "must not be empty"),
        ({"source": b"x"}, "source", "expected a string"),
        ({"source": "x" * (512 * 1024 + 1)}, "source", "bytes"),
        ({"name": ""}, "name", "must not be empty"),
    ],
)
def test_save_errors_name_the_field(
    db: store.Database, world: World, kwargs: dict[str, object], field: str, message: str
) -> None:
    app = world.app(world.partner())
    args: dict[str, object] = {"trigger": TRIGGER, "source": HANDLER, **kwargs}
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.save_function(s, app_id=app.id, partner_id=app.partner_id, **args)  # type: ignore[arg-type]
    assert exc.value.field == field
    assert message in str(exc.value)


def test_save_names_and_renames_the_function(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    first = save(db, app, HANDLER, name="welcome-customer")
    assert first.function.name == "welcome-customer"
    renamed = save(db, app, HANDLER, name="greet")
    assert renamed.function.name == "greet" and not renamed.created


def test_one_function_per_trigger(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    a = save(db, app, HANDLER)
    with db.session() as s:
        b = store.save_function(s, app_id=app.id, trigger="order.created", source=HANDLER, partner_id=app.partner_id)
    assert a.function.id != b.function.id
    with db.read_session() as s:
        listed = store.list_functions(s, app_id=app.id, partner_id=app.partner_id)
    assert [f.trigger for f in listed] == ["customer.created", "order.created"]


def test_delete_function_deletes_its_versions(db: store.Database, world: World) -> None:
    app = world.app(world.partner())
    v1 = save(db, app, HANDLER)
    complete(db, v1.job.id)
    save(db, app, V2)
    with db.session() as s:
        store.delete_function(s, app_id=app.id, trigger=TRIGGER, partner_id=app.partner_id)
    with db.read_session() as s:
        assert s.execute(select(func.count()).select_from(FunctionVersionRow)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(DeployJobRow)).scalar_one() == 0
        with pytest.raises(NotFoundError):
            store.get_function(s, app_id=app.id, trigger=TRIGGER, partner_id=None)
        with pytest.raises(NotFoundError):
            store.get_version(s, v1.version.id, partner_id=None)
    again = save(db, app, HANDLER)  # a new function, numbered from 1 again
    assert again.created and again.version.number == 1 and again.function.id != v1.function.id
