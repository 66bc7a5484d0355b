"""Spreadsheet downloads: a table as CSV or Excel, built in the builder process (off the event loop)."""

from __future__ import annotations

from litestar import Response
from litestar.exceptions import NotFoundException

from app.spreadsheets import Table, built_apart, table_file

MEDIA_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def table_download(name: str, fmt: str, table: Table) -> Response[bytes]:
    """`table` as `name`.csv or `name`.xlsx (`fmt`), never cached."""
    if fmt not in MEDIA_TYPES:
        raise NotFoundException()
    return Response(await built_apart(table_file, fmt, table), media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})
