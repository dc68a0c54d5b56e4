"""The RQ worker of `flask cme worker`, made to come back after Redis trouble (issue 12 item 2).

RQ retries a lost connection while it waits for a job; but a Redis that comes back empty (restarted
without its append-only file, or flushed) no longer lists the worker, so monitoring (/healthz) sees
none although it runs. The heartbeat notices that its registration is gone and ends the worker;
`flask cme worker` then exits with status 1 and systemd (Restart=always) starts a fresh, registered one.
"""
from __future__ import annotations

from rq import Worker


class RegistrationLost(Exception):
    """Redis no longer knows this worker (not a Redis error, so RQ's retry loop lets it through)."""


class CmeWorker(Worker):
    def subscribe(self):
        """RQ's command channel, read 1 s at a time instead of 60: redis-py 8 waits for the read
        in progress when the worker stops, so a stop (or the end of --burst) took up to a minute."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)

    def run_maintenance_tasks(self):
        """RQ's registry cleaning (every maintenance_interval), then the jobs of dead workers end as
        failed (app/jobs/reaper.py) — another worker's, or this one's predecessor's."""
        super().run_maintenance_tasks()
        from app.jobs.reaper import reap_from_worker

        reap_from_worker(self.log)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if pipeline is None and self.birth_date is not None and not self.connection.hexists(self.key, "birth"):
            raise RegistrationLost(f"Redis 已不再登记 worker {self.name} (worker registration lost)")
        return super().heartbeat(timeout, pipeline)
