"""Locust step test of one replica (tools/locust-bench/service.py).

Users think 0.5–1.5 s between requests (closed loop, as Locust's users are). The load shape
steps the user count up: STEPS steps of STEP_USERS users, STEP_SECONDS each, spawned at once.
With `SCALESIM_CUMULATIVE_CSV=PREFIX` a second history file is written from the same run the
way Locust writes it *without* `--csv-full-history` (percentiles cumulative since the start).
"""

import os

import gevent
from locust import FastHttpUser, LoadTestShape, between, events, task
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter

STEPS = int(os.environ.get("STEPS", "10"))
STEP_USERS = int(os.environ.get("STEP_USERS", "16"))
STEP_SECONDS = int(os.environ.get("STEP_SECONDS", "40"))


class Client(FastHttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def get(self):
        self.client.get("/work")


class Steps(LoadTestShape):
    def tick(self):
        t = self.get_run_time()
        step = int(t // STEP_SECONDS)
        if step >= STEPS:
            return None
        users = (step + 1) * STEP_USERS
        return (users, 1000)


_cumulative = {}


@events.init.add_listener
def _second_writer(environment, **_kw):
    prefix = os.environ.get("SCALESIM_CUMULATIVE_CSV")
    if prefix:
        w = StatsCSVFileWriter(environment, PERCENTILES_TO_REPORT, prefix, full_history=False)
        _cumulative["writer"] = w
        _cumulative["greenlet"] = gevent.spawn(w.stats_writer)


@events.quitting.add_listener
def _close_second_writer(environment, **_kw):
    if "writer" in _cumulative:
        _cumulative["greenlet"].kill()
        _cumulative["writer"].close_files()
