"""Large reads in slices (`app.db.read_in_slices`): every row once, in id order, whether the last
slice is full or not."""

import pytest

from app.db import read_in_slices
from app.settings_register.services import name_key
from app.tables.register import Setting


@pytest.mark.parametrize("count", [0, 4, 5])
async def test_every_row_is_read_once_in_order(db, count):
    names = [f"School {n}" for n in range(count)]
    if names:
        await Setting.insert(*[Setting(name=n, name_key=name_key(n)) for n in names])
    queries = []

    async def select_after(after: int, size: int):
        queries.append(after)
        return await Setting.select(Setting.id, Setting.name).where(Setting.id > after).order_by(Setting.id).limit(size)

    rows = await read_in_slices(select_after, size=2)
    assert [r["name"] for r in rows] == names
    assert len(queries) == count // 2 + 1  # a full last slice needs one more (empty) query to know it was the last
