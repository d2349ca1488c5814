"""A manual entry as a hub worker reads it: enough to find the session in R&M and enter it."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel

from gmirs_notify.domain.rm_links import RmPages, rm_progress_url
from gmirs_notify.domain.rm_writeback import Step, WriteBack


class ManualEntryRead(BaseModel):
    report_id: uuid.UUID
    hub_id: str
    status: Literal["waiting", "done"]
    reference_number: str | None
    """R&M's referral reference (search R&M by it, or by the CRN)."""
    crn: str
    rm_referral_id: uuid.UUID
    rm_appointment_id: uuid.UUID | None
    appointment_kind: Literal["initial-assessment", "session"]
    session_number: int | None
    appointment_starts_at: AwareDatetime
    appointment_ends_at: AwareDatetime
    due_at: AwareDatetime
    """Enter it in R&M before this: the 24-hour deadline."""
    attended: Literal["yes", "late", "no"]
    session_happened: bool
    no_session_reason: Literal["pop-acceptable", "pop-unacceptable", "logistics"] | None
    notify_pp_of_concerns: bool
    why: str | None
    """Why the platform could not write it (R&M's answer)."""
    rm_link: str | None
    """The referral's progress page in R&M's service-provider pages (`RM_UI_BASE_URL`)."""
    done_at: AwareDatetime | None
    done_by: str | None

    @classmethod
    def of(cls, w: WriteBack, rm_ui_base_url: str) -> ManualEntryRead:
        link = rm_progress_url(rm_ui_base_url, w.rm_referral_id, RmPages.SERVICE_PROVIDER)
        return cls(
            report_id=w.report_id,
            hub_id=w.hub_id,
            status="done" if w.step is Step.MANUAL_DONE else "waiting",
            reference_number=w.reference_number,
            crn=w.crn,
            rm_referral_id=w.rm_referral_id,
            rm_appointment_id=w.rm_appointment_id,
            appointment_kind="initial-assessment" if w.is_assessment else "session",
            session_number=w.session_number,
            appointment_starts_at=w.appointment_starts_at,
            appointment_ends_at=w.appointment_ends_at,
            due_at=w.due_at,
            attended=w.attended,
            session_happened=w.session_happened,
            no_session_reason=w.no_session_reason,
            notify_pp_of_concerns=w.notify_pp_of_concerns,
            why=w.last_reason,
            rm_link=link,
            done_at=w.manual_done_at,
            done_by=w.manual_done_by,
        )


class ManualEntryPage(BaseModel):
    items: list[ManualEntryRead]
    limit: int
    offset: int
