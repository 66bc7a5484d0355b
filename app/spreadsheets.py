"""Spreadsheets, for every export: CSV and Excel, safe against formula injection, built in a
separate process so that no export holds up a request.

A cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel and
LibreOffice; such values are prefixed with an apostrophe (OWASP's advice) so they show as typed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


R = TypeVar("R")
_BUILDER: ProcessPoolExecutor | None = None


async def built_apart(build: Callable[..., R], *args: object) -> R:
    """Run a workbook builder in a separate process (one per app process, started when first
    needed). A worker thread is not enough: openpyxl holds the interpreter lock for long stretches,
    and a small API call made while a county-wide workbook was built waited for most of it."""
    global _BUILDER
    if _BUILDER is None:
        _BUILDER = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_yield_to_requests)
    return await asyncio.get_running_loop().run_in_executor(_BUILDER, build, *args)


@dataclass(frozen=True)
class Table:
    """A spreadsheet's content: its rows, or a function and what it makes them from (`make(*args)`,
    run where the file is built, off the event loop: a county's questionnaire answers are 262,500
    cells, and handing the builder the rows read, a few large texts, costs far less than handing
    it a quarter of a million small ones)."""

    header: list[str]
    rows: list[list[str]] | None = None
    make: Callable[..., list[list[str]]] | None = None
    args: tuple[object, ...] = ()

    def all_rows(self) -> list[list[str]]:
        return self.make(*self.args) if self.make is not None else (self.rows or [])


def table_file(fmt: str, table: Table) -> bytes:
    """The table as CSV or Excel (`fmt` "csv" or "xlsx"). CPU work: call it through `built_apart`."""
    if fmt == "csv":
        return table_csv(table.header, table.all_rows())
    return table_xlsx(table.header, table.all_rows())


def _yield_to_requests() -> None:
    """The builder runs at a lower priority than the web processes and the database: on a busy
    machine a spreadsheet takes a little longer, and the requests made meanwhile do not."""
    os.nice(10)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Every cell made safe (`safe_cell`, which leaves a safe cell as it is) here, off the loop."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8 names correctly


def table_xlsx(header: list[str], rows: Iterable[list[str]], *, title: str | None = None,
               sheet_name: str = "Sheet1") -> bytes:
    """A streamed workbook (XlsxWriter's constant_memory: each row written out as it comes), every
    cell text, never a formula, a number or a link, whatever it looks like. CPU work: call it
    through `built_apart`, never on the event loop."""
    out = io.BytesIO()
    import xlsxwriter  # here, in the builder process: no other process loads it (a tenth of a second)

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(sheet_name)
    line = 0

    def write(values: Iterable[object]) -> None:
        nonlocal line
        for column, value in enumerate(values):
            sheet.write_string(line, column, "" if value is None else str(value))
        line += 1

    if title:
        write([safe_cell(title)])
    write(header)
    for row in rows:
        write(safe_cell(v) for v in row)
    book.close()
    return out.getvalue()
