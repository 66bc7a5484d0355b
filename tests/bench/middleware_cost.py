"""What the request log and the Prometheus middleware cost a request, in-process (best of five,
an app of one route): `PYTHONPATH=. .venv/bin/python -m tests.bench.middleware_cost`."""
import asyncio
import os
import sys
import time

from litestar import Litestar, get

from app.web.operations import prometheus_config, request_log

sys.stderr = open(os.devnull, "w")
from app.logs import configure

configure("json","INFO")
@get("/api/events", sync_to_thread=False)
def events() -> dict: return {"a": 1}
def make(mw): return Litestar([events], middleware=mw, logging_config=None)
async def bench(app, n=3000):
    scope = {"type":"http","asgi":{"version":"3.0"},"http_version":"1.1","method":"GET","scheme":"http","path":"/api/events","raw_path":b"/api/events","query_string":b"","root_path":"","headers":[(b"host",b"x")],"client":("127.0.0.1",1),"server":("127.0.0.1",80),"state":{}}
    async def receive(): return {"type":"http.request","body":b"","more_body":False}
    async def send(m): pass
    for _ in range(200): await app(dict(scope), receive, send)
    t=time.perf_counter()
    for _ in range(n): await app(dict(scope), receive, send)
    return (time.perf_counter()-t)/n*1e6
async def main():
    apps = {name: make(mw) for name, mw in [("none", []), ("request_log", [request_log]), ("prometheus", [prometheus_config().middleware]), ("both", [request_log, prometheus_config().middleware])]}
    res = {k: [] for k in apps}
    for _ in range(5):
        for k, a in apps.items(): res[k].append(await bench(a))
    for k, v in res.items(): print(k, round(min(v),1), "us/request (best of 5)")
asyncio.run(main())
