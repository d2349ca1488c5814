"""The exit survey's tables and repository: offers (by token hash), answers, declines."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    SmallInteger,
    Text,
    Uuid,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from gmirs_case.domain.exit_survey import SurveyAnswers, SurveyOffer


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


def _case_fk() -> Column:  # type: ignore[type-arg]
    return Column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False)


class ExitSurveyOfferRow(SQLModel, table=True):
    __tablename__ = "exit_survey_offers"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=_case_fk())
    token_hash: str = Field(unique=True)
    form_nonce: str
    offered_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ExitSurveyResponseRow(SQLModel, table=True):
    __tablename__ = "exit_survey_responses"

    offer_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("exit_survey_offers.id", ondelete="CASCADE"), primary_key=True
        )
    )
    case_id: uuid.UUID = Field(sa_column=_case_fk())
    submitted_at: datetime = Field(sa_column=_ts())
    helpfulness: int = Field(sa_column=Column(SmallInteger, nullable=False))
    helped_most: str
    could_be_better: str
    would_recommend: str
    comments: str = Field(sa_column=Column(Text, nullable=False))


class ExitSurveyDeclineRow(SQLModel, table=True):
    __tablename__ = "exit_survey_declines"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=_case_fk())
    declined_at: datetime = Field(sa_column=_ts())


_OFFERS = ExitSurveyOfferRow.__table__  # type: ignore[attr-defined]
_RESPONSES = ExitSurveyResponseRow.__table__  # type: ignore[attr-defined]
_DECLINES = ExitSurveyDeclineRow.__table__  # type: ignore[attr-defined]


class ExitSurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_offer(self, offer: SurveyOffer) -> None:
        await self._session.execute(
            insert(_OFFERS).values(
                id=offer.id,
                case_id=offer.case_id,
                token_hash=offer.token_hash,
                form_nonce=offer.form_nonce,
                offered_at=offer.offered_at,
                expires_at=offer.expires_at,
                completed_at=offer.completed_at,
            )
        )

    async def offer_by_token_hash(
        self, digest: str, *, for_update: bool = False
    ) -> SurveyOffer | None:
        """The offer whose link token hashes to `digest` (locked for a submission)."""
        query = select(_OFFERS).where(_OFFERS.c.token_hash == digest)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return SurveyOffer(**row) if row is not None else None

    async def complete(self, offer: SurveyOffer, answers: SurveyAnswers, now: datetime) -> None:
        """Mark the offer used and store its answers (the caller holds the offer's row lock)."""
        await self._session.execute(
            update(_OFFERS).where(_OFFERS.c.id == offer.id).values(completed_at=now)
        )
        await self._session.execute(
            insert(_RESPONSES).values(
                offer_id=offer.id,
                case_id=offer.case_id,
                submitted_at=now,
                helpfulness=answers.helpfulness,
                helped_most=answers.helped_most,
                could_be_better=answers.could_be_better,
                would_recommend=answers.would_recommend,
                comments=answers.comments,
            )
        )
        offer.completed_at = now

    async def decline(self, case_id: uuid.UUID, now: datetime) -> None:
        """Record the refusal and end every open link of the case now."""
        await self._session.execute(
            insert(_DECLINES).values(id=uuid.uuid4(), case_id=case_id, declined_at=now)
        )
        await self._session.execute(
            update(_OFFERS)
            .where(
                _OFFERS.c.case_id == case_id,
                _OFFERS.c.completed_at.is_(None),
                _OFFERS.c.expires_at > now,
            )
            .values(expires_at=now)
        )

    async def responses(self, case_id: uuid.UUID) -> list[dict[str, object]]:
        """The stored answers of a case, oldest first."""
        rows = await self._session.execute(
            select(_RESPONSES)
            .where(_RESPONSES.c.case_id == case_id)
            .order_by(_RESPONSES.c.submitted_at)
        )
        return [dict(row) for row in rows.mappings()]
