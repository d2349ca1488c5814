"""Links into Refer and Monitor's web pages, from the one R&M web address (`RM_UI_BASE_URL`).

R&M shows a referral's progress (its sessions) on two pages at the same path under each role's
prefix: the probation practitioner's (the alert's `rm_url`) and the service provider's (the
manual entry's `rm_link`, where a hub worker enters a non-attendance by hand).
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID


class RmPages(StrEnum):
    PROBATION_PRACTITIONER = "probation-practitioner"
    SERVICE_PROVIDER = "service-provider"


def rm_progress_url(base_url: str, rm_referral_id: UUID | None, pages: RmPages) -> str | None:
    """The referral's progress page in R&M for `pages`' role; None for a referral not in R&M."""
    if rm_referral_id is None:
        return None
    return f"{base_url.rstrip('/')}/{pages.value}/referrals/{rm_referral_id}/progress"
