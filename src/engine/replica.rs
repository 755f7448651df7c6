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
use super::llm::LlmReplica;
use std::collections::VecDeque;

/// The work one replica holds.
#[derive(Debug)]
pub(super) enum ReplicaWork {
    /// Worker slots in front of a FIFO queue.
    Workers(WorkerQueue),
    /// An LLM engine's step loop (`[service.llm]`). The worker-queue methods below answer
    /// "nothing" for it; the engine drives it through [`LlmReplica`]'s own methods.
    Llm(Box<LlmReplica>),
}

/// A request dropped by [`ReplicaWork::drop_all`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Dropped<'a> {
    /// Queued for a worker.
    Queued(&'a Waiting),
    /// On an LLM replica.
    Llm(&'a super::llm::LlmReq),
}

/// `busy` requests in service on the replica's workers, the others waiting, oldest first.
#[derive(Debug, Default)]
pub(super) struct WorkerQueue {
    busy: u32,
    queue: VecDeque<Waiting>,
}

impl ReplicaWork {
    /// A replica with nothing to do: an LLM replica with `kv_blocks` free blocks, or workers.
    pub fn idle(kv_blocks: Option<u32>) -> Self {
        match kv_blocks {
            None => ReplicaWork::Workers(WorkerQueue::default()),
            Some(k) => ReplicaWork::Llm(Box::new(LlmReplica::new(k))),
        }
    }

    /// The LLM step loop, for an LLM replica.
    #[inline]
    pub fn llm(&mut self) -> Option<&mut LlmReplica> {
        match self {
            ReplicaWork::Llm(l) => Some(l),
            ReplicaWork::Workers(_) => None,
        }
    }

    /// The LLM step loop, for an LLM replica (read only).
    #[inline]
    pub fn llm_ref(&self) -> Option<&LlmReplica> {
        match self {
            ReplicaWork::Llm(l) => Some(l),
            ReplicaWork::Workers(_) => None,
        }
    }

    /// Requests it holds: in service and waiting.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        match self {
            ReplicaWork::Workers(q) => q.busy + q.queue.len() as u32,
            ReplicaWork::Llm(l) => l.outstanding(),
        }
    }

    /// Requests in service (an LLM replica: 1 while a batch step runs, its engine busy).
    #[inline]
    pub fn in_service(&self) -> u32 {
        match self {
            ReplicaWork::Workers(q) => q.busy,
            ReplicaWork::Llm(l) => l.in_step as u32,
        }
    }

    /// Whether a request routed here now starts at once (a worker of `workers` is free).
    #[inline]
    pub fn can_start(&self, workers: u32) -> bool {
        match self {
            ReplicaWork::Workers(q) => q.busy < workers,
            ReplicaWork::Llm(_) => false,
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
            ReplicaWork::Llm(_) => 0,
        }
    }

    /// A request in service ends.
    #[inline]
    pub fn finish(&mut self) {
        match self {
            ReplicaWork::Workers(q) => q.busy -= 1,
            ReplicaWork::Llm(_) => {}
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
            ReplicaWork::Workers(_) | ReplicaWork::Llm(_) => false,
        }
    }

    /// The oldest waiting request.
    #[inline]
    pub fn oldest_waiting(&self) -> Option<&Waiting> {
        match self {
            ReplicaWork::Workers(q) => q.queue.front(),
            ReplicaWork::Llm(_) => None,
        }
    }

    /// The `i`-th waiting request, oldest first (workers).
    pub fn queued(&self, i: usize) -> Option<&Waiting> {
        match self {
            ReplicaWork::Workers(q) => q.queue.get(i),
            ReplicaWork::Llm(_) => None,
        }
    }

    /// Takes the oldest waiting request (to start it, or to fail it at its deadline).
    #[inline]
    pub fn take_oldest(&mut self) -> Option<Waiting> {
        match self {
            ReplicaWork::Workers(q) => q.queue.pop_front(),
            ReplicaWork::Llm(_) => None,
        }
    }

    /// Whether it holds nothing.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.outstanding() == 0
    }

    /// Drops everything it holds (the end of a drain's grace period), handing each request it
    /// can name to `gone` (queued ones, every request of an LLM replica; a worker's requests in
    /// service are named when their completion comes); returns how many it held.
    pub fn drop_all(&mut self, kv_blocks: u32, mut gone: impl FnMut(Dropped<'_>)) -> u64 {
        match self {
            ReplicaWork::Workers(q) => {
                let n = q.queue.len() as u64 + q.busy as u64;
                q.queue.iter().for_each(|w| gone(Dropped::Queued(w)));
                q.queue.clear();
                q.busy = 0;
                n
            }
            ReplicaWork::Llm(l) => l.drop_all(kv_blocks, |r| gone(Dropped::Llm(r))),
        }
    }

    /// The replica is gone: frees what it kept allocated.
    pub fn release(&mut self) {
        match self {
            ReplicaWork::Workers(q) => q.queue = VecDeque::new(),
            ReplicaWork::Llm(l) => l.release(),
        }
    }
}
