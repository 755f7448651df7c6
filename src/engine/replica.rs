//! What a replica is, for the engine: the work it holds and how it takes more — the seam where
//! a second kind of replica plugs in (ARCHITECTURE.md, "Seams").
//!
//! Today a replica is one kind: `workers` requests in service at once, each for its own service
//! time, the rest waiting in one FIFO queue of at most `queue_limit` ([`WorkerQueue`]). An LLM
//! replica (a vLLM-style step loop: one batch step at a time for every running request, a KV
//! cache that preempts) is a second variant of [`ReplicaWork`] beside it, not a branch in the
//! event loop: the engine reaches a replica's work only through these methods, so the compiler
//! lists every place the new variant must answer.

use super::cluster::Waiting;
use std::collections::VecDeque;

/// The work one replica holds.
#[derive(Debug)]
pub(super) enum ReplicaWork {
    /// Worker slots in front of a FIFO queue.
    Workers(WorkerQueue),
}

/// `busy` requests in service on the replica's workers, the others waiting, oldest first.
#[derive(Debug, Default)]
pub(super) struct WorkerQueue {
    busy: u32,
    queue: VecDeque<Waiting>,
}

impl ReplicaWork {
    /// A replica with nothing to do.
    pub fn idle() -> Self {
        ReplicaWork::Workers(WorkerQueue::default())
    }

    /// Requests it holds: in service and waiting.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        match self {
            ReplicaWork::Workers(q) => q.busy + q.queue.len() as u32,
        }
    }

    /// Requests in service.
    #[inline]
    pub fn in_service(&self) -> u32 {
        match self {
            ReplicaWork::Workers(q) => q.busy,
        }
    }

    /// Whether a request routed here now starts at once (a worker of `workers` is free).
    #[inline]
    pub fn can_start(&self, workers: u32) -> bool {
        match self {
            ReplicaWork::Workers(q) => q.busy < workers,
        }
    }

    /// A request starts service; returns the requests in service, itself included.
    #[inline]
    pub fn start(&mut self) -> u32 {
        match self {
            ReplicaWork::Workers(q) => {
                q.busy += 1;
                q.busy
            }
        }
    }

    /// A request in service ends.
    #[inline]
    pub fn finish(&mut self) {
        match self {
            ReplicaWork::Workers(q) => q.busy -= 1,
        }
    }

    /// Queues a request unless `limit` requests already wait; returns whether it was queued.
    #[inline]
    pub fn enqueue(&mut self, w: Waiting, limit: usize) -> bool {
        match self {
            ReplicaWork::Workers(q) if q.queue.len() < limit => {
                q.queue.push_back(w);
                true
            }
            ReplicaWork::Workers(_) => false,
        }
    }

    /// The oldest waiting request.
    #[inline]
    pub fn oldest_waiting(&self) -> Option<&Waiting> {
        match self {
            ReplicaWork::Workers(q) => q.queue.front(),
        }
    }

    /// Takes the oldest waiting request (to start it, or to fail it at its deadline).
    #[inline]
    pub fn take_oldest(&mut self) -> Option<Waiting> {
        match self {
            ReplicaWork::Workers(q) => q.queue.pop_front(),
        }
    }

    /// Whether it holds nothing.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.outstanding() == 0
    }

    /// Drops everything it holds (the end of a drain's grace period); returns how many.
    pub fn drop_all(&mut self) -> u64 {
        match self {
            ReplicaWork::Workers(q) => {
                let n = q.queue.len() as u64 + q.busy as u64;
                q.queue.clear();
                q.busy = 0;
                n
            }
        }
    }

    /// The replica is gone: frees what it kept allocated.
    pub fn release(&mut self) {
        match self {
            ReplicaWork::Workers(q) => q.queue = VecDeque::new(),
        }
    }
}
