"""A batch of certificates in one PDF, drawn in the background with its progress shown (the page of
results/export_jobs.py). The job (kind `certificates.print`) keeps what it needs to be drawn again by any
instance: the item and group chosen and the address the QR codes carry, fixed when the organiser pressed print."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from certificates import store
from certificates.render import render
from contestday.web.jobs import JobHandle, Jobs
from registration.events.service import event_or_404

__all__ = ["KIND", "run_print", "start_print"]

KIND = "certificates.print"
PDF = "application/pdf"


async def run_print(state: Any, job: JobHandle, params: dict[str, Any]) -> None:
    """The runner: the certificates read in one short session, drawn on a worker thread (its progress
    callback sets `job.done` from there)."""
    assert job.event_id is not None
    settings = state.settings
    async with state.read_session() as session:
        event = await event_or_404(session, job.event_id)
        certs = await store.printable(session, job.event_id, params["base"], settings.secret_key,
                                      params.get("item"), params.get("group"))
    job.total = len(certs)

    def progress(done: int, _total: int) -> None:
        job.done = done

    template = store.load_template(settings.data_dir, job.event_id)
    data = await asyncio.to_thread(render, certs, template, progress=progress, title=f"{event.name} 荣誉证书")
    await job.save(data)


async def start_print(state: Any, session: AsyncSession, event_id: int, owner: str, base: str, item: str | None,
                      group: str | None) -> str:
    """Store the job (committing `session`); its id."""
    jobs: Jobs = state.jobs
    return await jobs.submit(session, KIND, event_id=event_id, params={"base": base, "item": item, "group": group},
                             owner=owner, filename=f"荣誉证书-{item or '全部'}.pdf", media_type=PDF,
                             title="打印荣誉证书")
