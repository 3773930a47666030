"""The running platform: database, queue, sandboxed runtime, egress, ingestion, the async
dispatcher, sync actions and deploys, started and stopped as one. The HTTP API and
``appfn serve`` sit on top of it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from appfn import store
from appfn.catalog import load_catalog
from appfn.config import Settings
from appfn.demo.demo_apps import DemoSetup
from appfn.demo.inspector import Inspector
from appfn.dispatch.actions import ActionRunner
from appfn.dispatch.directory import Directory
from appfn.dispatch.ingest import Ingestor
from appfn.dispatch.invoker import Invoker
from appfn.dispatch.jobs import JOBS_QUEUE
from appfn.dispatch.outbound import AdminApi
from appfn.dispatch.retry import RetryPolicy
from appfn.dispatch.worker import Dispatcher
from appfn.errors import HandlerLoadError, SandboxError
from appfn.queue import open_broker
from appfn.runtime.checks import check_function
from appfn.runtime.egress import EgressClient, EgressPolicy
from appfn.runtime.limits import FunctionCode, Limits
from appfn.runtime.pool import Runtime

log = logging.getLogger(__name__)


@dataclass
class FirstStart:
    operator_key: str | None  # the plaintext key created on the first start, else None


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = store.Database.open(settings.resolved_database_url)
        self.broker = open_broker(settings.resolved_queue_url)
        self.runtime = Runtime(
            sandbox=settings.sandbox,
            max_workers=settings.max_workers or None,
            max_workers_per_function=settings.max_workers_per_function,
            idle_ttl_s=settings.idle_ttl_s,
            prefetch=settings.prefetch,
        )
        self.egress = EgressClient(EgressPolicy(allow=settings.allow_egress))
        self.directory = Directory(self.db)
        self.retry = RetryPolicy(settings.max_attempts, settings.retry_base_s, settings.retry_max_s)
        self.invoker = Invoker(self.runtime, self.egress, self.directory, memory_mb=settings.memory_mb)
        self.dispatcher = Dispatcher(
            self.db, self.broker, self.invoker, concurrency=settings.dispatch_concurrency, retry=self.retry,
            timeout_s=settings.async_timeout_s, lease_timeout_s=settings.lease_timeout_s,
        )  # fmt: skip
        self.ingestor = Ingestor(self.db, self.broker, self.directory, settings.max_attempts, settings.max_backlog)
        self.actions = ActionRunner(self.db, self.invoker, timeout_s=settings.sync_timeout_s)
        self.admin_api = AdminApi(self.db, settings.admin_api_base)  # attached to the Admin API app by create_app
        self.inspector = Inspector(self.db, settings.resolved_public_url, keep=settings.inspector_max_requests)
        self.admin_api.inspector = self.inspector  # functions' requests to <public_url>/inspect/ stay in-process
        self.invoker.admin = self.admin_api
        self.demo_setup: DemoSetup | None = None  # set by seed_demo
        self._deploys: set[asyncio.Task[None]] = set()
        self.accepting = False

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.ingestor.on_enqueued = lambda _n: loop.call_soon_threadsafe(self.dispatcher.wake)
        await self.runtime.start()
        self.dispatcher.start()
        for job in await asyncio.to_thread(self._pending_deploys):
            self.deploy(job.id)  # deploys interrupted by a stop resume here
        self.accepting = True

    async def stop(self) -> None:
        """Stop taking work, let in-flight invocations finish within the grace period."""
        self.accepting = False
        await self.dispatcher.stop(self.settings.shutdown_grace_s)
        for task in list(self._deploys):
            task.cancel()
        await self.runtime.close()
        await self.egress.aclose()
        await self.admin_api.aclose()
        self.broker.close()
        self.db.engine.dispose()

    def seed_demo(self) -> str:
        """Register the demo store and fill it with sample records once (no events emitted); create
        the demo partner, its key and its apps with their functions once (``appfn.demo.demo_apps``).

        Call it before ``start()``: the functions' deploy jobs are run by ``start()`` like any
        deploy interrupted by a stop. ``self.demo_setup`` holds the partner, key and apps."""
        from appfn.demo.demo_apps import seed_demo_apps
        from appfn.demo.seed import seed_demo_store

        store_id = self.settings.demo_store_id
        with self.db.session() as session:
            store.upsert_store(session, store_id, "Demo store", is_demo=True)
        summary = seed_demo_store(self.db, store_id)
        self.demo_setup = seed_demo_apps(self.db, store_id, self.settings.data_dir, self.settings.resolved_public_url)
        if not summary.created:
            return f"demo store {store_id}: already seeded"
        return (
            f"demo store {store_id}: {len(summary.customers)} customers, {len(summary.products)} products, "
            f"{len(summary.orders)} orders"
        )

    @property
    def demo_partner_key(self) -> str | None:
        """The demo partner's API key (plaintext, from ``<data_dir>/demo.json``) when the platform
        runs with ``--demo``, else None: what the console uses to sign straight in as that partner."""
        if not self.settings.demo:
            return None
        if self.demo_setup is not None:
            return self.demo_setup.partner_key
        from appfn.demo.demo_apps import demo_partner_key

        return demo_partner_key(self.settings.data_dir)

    def ensure_operator_key(self) -> FirstStart:
        """On the very first start (no key at all), create an operator key for serve to print.

        Never later: revoking every key must not make a restart hand out a new one
        (``appfn keys create --operator`` on the server does that deliberately)."""
        with self.db.session() as session:
            if store.list_keys(session, partner_id=None):
                return FirstStart(None)
            _, key = store.create_key(session, "operator", None, name="first operator key")
            return FirstStart(key)

    # --- deploys ---------------------------------------------------------------------------------

    def deploy(self, job_id: str) -> None:
        """Check and load the saved version in the sandbox, then complete or fail its job."""
        task = asyncio.get_running_loop().create_task(self._deploy(job_id))
        self._deploys.add(task)
        task.add_done_callback(self._deploys.discard)

    async def _deploy(self, job_id: str) -> None:
        version = await asyncio.to_thread(self._version_of, job_id)
        if version is None:
            return
        try:
            await asyncio.to_thread(
                check_function, version.source, version.filename, language=version.language, trigger=version.trigger
            )
            trigger = load_catalog().get(version.trigger)
            code = FunctionCode(
                version.source, version.filename, trigger.return_type, key=version.id, language=version.language
            )
            await self.runtime.warm(code, Limits(timeout_s=trigger.timeout_s, memory_mb=self.settings.memory_mb))
        except HandlerLoadError as exc:
            await asyncio.to_thread(self._finish_deploy, job_id, str(exc), exc.line)
            return
        except SandboxError as exc:
            await asyncio.to_thread(self._finish_deploy, job_id, f"the sandbox could not load it: {exc}", None)
            return
        await asyncio.to_thread(self._finish_deploy, job_id, None, None)

    def _version_of(self, job_id: str) -> _DeployTarget | None:
        with self.db.read_session() as session:
            job = store.get_deploy_job(session, job_id, partner_id=None)
            if job.status != "PENDING":
                return None
            version = store.get_version(session, job.function_version_id, partner_id=None)
            function = store.get_function_by_id(session, job.function_id, partner_id=None)
            return _DeployTarget(version.id, function.trigger, version.source, version.filename, version.language)

    def _finish_deploy(self, job_id: str, failure: str | None, line: int | None) -> None:
        with self.db.session() as session:
            if failure is None:
                store.complete_deploy(session, job_id)
            else:
                store.fail_deploy(session, job_id, failure, line)
        self.directory.invalidate()

    def _pending_deploys(self) -> list[store.DeployJob]:
        with self.db.read_session() as session:
            return store.list_pending_deploys(session)

    async def queue_depth(self) -> dict[str, int]:
        depth = await asyncio.to_thread(self.broker.depth, JOBS_QUEUE)
        return {"ready": depth.ready, "delayed": depth.delayed, "leased": depth.leased, "dead": depth.dead}


@dataclass(frozen=True)
class _DeployTarget:
    id: str
    trigger: str
    source: str
    filename: str
    language: str
