"""Making a pack file, audited: the one path the API and the CLI both take, so every pack
generated leaves an audit row (who, which month and format, why) in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gmirs_metrics.adapters import pack_csv, pack_json, pack_xlsx
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import FiguresSource
from gmirs_metrics.domain.pack import Pack, build_pack
from gmirs_runtime import audit

Format = Literal["xlsx", "csv", "json"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv", "json")
WRITERS: dict[Format, tuple[Callable[[Pack], bytes], str]] = {
    "xlsx": (pack_xlsx.pack_xlsx, pack_xlsx.MEDIA_TYPE),
    "csv": (pack_csv.pack_csv, pack_csv.MEDIA_TYPE),
    "json": (pack_json.pack_json, pack_json.MEDIA_TYPE),
}


@dataclass(frozen=True)
class PackFile:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Packs:
    figures: FiguresSource
    unit_of_work: Callable[[], MetricsUnitOfWork]
    threshold: int = 5

    async def make(
        self, month: date, formats: tuple[Format, ...], *, actor: str, reason: str
    ) -> list[PackFile]:
        """The month's pack in each format (one figures read), audited once per file."""
        pack = build_pack(await self.figures.figures_for(month), self.threshold)
        files = [self._render(pack, fmt) for fmt in formats]
        async with self.unit_of_work() as uow:
            for file in files:
                await audit.record(
                    uow.session,
                    actor=actor,
                    action="generate",
                    resource_type="pack",
                    resource_id=file.filename,
                    reason=reason,
                )
            await uow.commit()
        return files

    @staticmethod
    def _render(pack: Pack, fmt: Format) -> PackFile:
        write, media_type = WRITERS[fmt]
        return PackFile(f"{pack.stem}.{fmt}", media_type, write(pack))
