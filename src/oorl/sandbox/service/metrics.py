"""The service's Prometheus metrics, in a registry of its own (two apps in one process don't collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Judged runs take ~10 ms (a cached Python run) to minutes (a compile plus many tests at their limit).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self, workers: int):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "oorl_sandbox_requests",
            "HTTP requests by endpoint and status code",
            ["endpoint", "code"],
            registry=r,
        )
        self.verdicts = Counter(
            "oorl_sandbox_verdicts",
            "judged programs by language and verdict",
            ["language", "verdict"],
            registry=r,
        )
        self.latency = Histogram(
            "oorl_sandbox_request_seconds",
            "time from a request's arrival to its answer, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "oorl_sandbox_queue_depth", "programs admitted and waiting for a slot", registry=r
        )
        self.in_flight = Gauge("oorl_sandbox_in_flight", "programs admitted and not yet answered", registry=r)
        self.slot_restarts = Counter(
            "oorl_sandbox_slot_restarts", "worker slots found crashed and restarted", registry=r
        )
        self.workers = Gauge("oorl_sandbox_workers", "worker slots (programs judged at once)", registry=r)
        self.workers.set(workers)
