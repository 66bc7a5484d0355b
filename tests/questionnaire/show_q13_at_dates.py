"""Q13 for a South and a West setting at a date in each term and between two quadrants' forums, on
the tests' 2023/24 forums (a new SQLite database): `PYTHONPATH=. .venv/bin/python -m tests.questionnaire.show_q13_at_dates`."""
import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile

d = tempfile.mkdtemp()
os.environ["DATABASE_URL"] = f"sqlite:///{d}/q13.sqlite"
subprocess.run([sys.executable, "-m", "app", "migrate"], check=True, capture_output=True)

async def main():
    from app.questionnaire.evidence import q13_evidence
    from tests.questionnaire.test_evidence import at, person, setting, went, year_of_forums
    south, west = await setting("Seaside Nursery", "south"), await setting("Oak Primary", "west")
    sam, jo = await person("Sam Patel"), await person("Jo Barclay")
    forums = await year_of_forums()
    await went(forums["autumn online"], sam, south)
    await went(forums["spring west"], jo, west)
    for label, moment in [("autumn term, 20 Sep 2023", at(dt.date(2023, 9, 20))),
                          ("end of autumn term, 20 Dec 2023", at(dt.date(2023, 12, 20))),
                          ("spring, between West (12 Mar) and South (13 Mar) forums, 12 Mar 2024 15:00", at(dt.date(2024, 3, 12), 15)),
                          ("spring, after the online forum, 15 Mar 2024", at(dt.date(2024, 3, 15))),
                          ("summer term, 1 Jun 2024", at(dt.date(2024, 6, 1))),
                          ("end of the year, 31 Aug 2024", at(dt.date(2024, 8, 31)))]:
        e = (await q13_evidence([south, west], "2023/24", moment))
        print(f"== {label}")
        for sid, name in ((south, "Seaside Nursery (South)"), (west, "Oak Primary (West)")):
            print(f"   {name}: answer {e[sid].answer or 'not judged'}; " + " | ".join(f"{t.term.value} {t.state.value}" for t in e[sid].terms))
        print("   South facts:", *e[south].facts[:3], sep="\n     ")
asyncio.run(main())
