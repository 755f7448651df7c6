//! What a replica is, for the engine: the work it holds and how it takes more — the seam where
//! a second kind of replica plugs in (ARCHITECTURE.md, "Seams").
//!
//! Two kinds implement [`Work`]: [`WorkerQueue`] (`workers` requests in service at once, each for
//! its own service time, the rest waiting in one FIFO queue of at most `queue_limit`) and the LLM
//! step loop ([`LlmReplica`]: one batch step at a time for every running request, a KV cache
//! that preempts; `[service.llm]`). The event loop is generic over the kind (`Sim<W: Work>`), so
//! each scenario runs a loop compiled for its kind: a worker scenario's loop holds none of the
//! LLM code and pays nothing for it, and the compiler lists every place a new kind must answer.
//! The worker-queue methods answer "nothing" for an LLM replica, which the engine drives
//! through [`Work::llm`] instead.

use super::cluster::Waiting;
use super::llm::{LlmReplica, LlmReq};
use std::collections::VecDeque;

/// A request dropped by [`Work::drop_all`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Dropped<'a> {
    /// Queued for a worker.
    Queued(&'a Waiting),
    /// On an LLM replica.
    Llm(&'a LlmReq),
}

/// The work one replica holds.
pub(super) trait Work: std::fmt::Debug + Sized {
    /// Whether this is an LLM replica (known when the loop is compiled).
    const LLM: bool;

    /// A replica with nothing to do (an LLM replica with `kv_blocks` free blocks).
    fn idle(kv_blocks: u32) -> Self;

    /// Requests it holds: in service (or running) and waiting.
    fn outstanding(&self) -> u32;

    /// Requests in service (an LLM replica: 1 while a batch step runs, its engine busy).
    fn in_service(&self) -> u32;

    /// Whether a request routed here now starts at once (a worker of `workers` is free).
    fn can_start(&self, workers: u32) -> bool;

    /// A request starts service; returns the requests in service, itself included.
    fn start(&mut self) -> u32;

    /// A request in service ends.
    fn finish(&mut self);

    /// Queues a request unless `limit` requests already wait; returns whether it was queued.
    fn enqueue(&mut self, w: Waiting, limit: usize) -> bool;

    /// The oldest waiting request.
    fn oldest_waiting(&self) -> Option<&Waiting>;

    /// Takes the oldest waiting request (to start it, or to fail it at its deadline).
    fn take_oldest(&mut self) -> Option<Waiting>;

    /// The `i`-th waiting request, oldest first (workers).
    fn queued(&self, i: usize) -> Option<&Waiting>;

    /// Drops everything it holds (the end of a drain's grace period), handing each request it
    /// can name to `gone` (queued ones, every request of an LLM replica; a worker's requests in
    /// service are named when their completion comes); returns how many it held.
    fn drop_all(&mut self, kv_blocks: u32, gone: impl FnMut(Dropped<'_>)) -> u64;

    /// The replica is gone: frees what it kept allocated.
    fn release(&mut self);

    /// The LLM step loop, for an LLM replica.
    fn llm(&mut self) -> Option<&mut LlmReplica>;

    /// The LLM step loop, for an LLM replica (read only).
    fn llm_ref(&self) -> Option<&LlmReplica>;

    /// Whether it holds nothing.
    #[inline]
    fn is_idle(&self) -> bool {
        self.outstanding() == 0
    }
}

/// `busy` requests in service on the replica's workers, the others waiting, oldest first.
#[derive(Debug, Default)]
pub(super) struct WorkerQueue {
    busy: u32,
    queue: VecDeque<Waiting>,
}

impl Work for WorkerQueue {
    const LLM: bool = false;

    fn idle(_kv_blocks: u32) -> Self {
        WorkerQueue::default()
    }

    #[inline]
    fn outstanding(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }

    #[inline]
    fn in_service(&self) -> u32 {
        self.busy
    }

    #[inline]
    fn can_start(&self, workers: u32) -> bool {
        self.busy < workers
    }

    #[inline]
    fn start(&mut self) -> u32 {
        self.busy += 1;
        self.busy
    }

    #[inline]
    fn finish(&mut self) {
        self.busy -= 1;
    }

    #[inline]
    fn enqueue(&mut self, w: Waiting, limit: usize) -> bool {
        if self.queue.len() < limit {
            self.queue.push_back(w);
            true
        } else {
            false
        }
    }

    #[inline]
    fn oldest_waiting(&self) -> Option<&Waiting> {
        self.queue.front()
    }

    #[inline]
    fn take_oldest(&mut self) -> Option<Waiting> {
        self.queue.pop_front()
    }

    fn queued(&self, i: usize) -> Option<&Waiting> {
        self.queue.get(i)
    }

    fn drop_all(&mut self, _kv_blocks: u32, mut gone: impl FnMut(Dropped<'_>)) -> u64 {
        let n = self.queue.len() as u64 + self.busy as u64;
        self.queue.iter().for_each(|w| gone(Dropped::Queued(w)));
        self.queue.clear();
        self.busy = 0;
        n
    }

    fn release(&mut self) {
        self.queue = VecDeque::new();
    }

    #[inline]
    fn llm(&mut self) -> Option<&mut LlmReplica> {
        None
    }

    #[inline]
    fn llm_ref(&self) -> Option<&LlmReplica> {
        None
    }
}

impl Work for LlmReplica {
    const LLM: bool = true;

    fn idle(kv_blocks: u32) -> Self {
        LlmReplica::new(kv_blocks)
    }

    #[inline]
    fn outstanding(&self) -> u32 {
        LlmReplica::outstanding(self)
    }

    #[inline]
    fn in_service(&self) -> u32 {
        self.in_step as u32
    }

    fn can_start(&self, _workers: u32) -> bool {
        false
    }

    fn start(&mut self) -> u32 {
        0
    }

    fn finish(&mut self) {}

    fn enqueue(&mut self, _w: Waiting, _limit: usize) -> bool {
        false
    }

    fn oldest_waiting(&self) -> Option<&Waiting> {
        None
    }

    fn take_oldest(&mut self) -> Option<Waiting> {
        None
    }

    fn queued(&self, _i: usize) -> Option<&Waiting> {
        None
    }

    fn drop_all(&mut self, kv_blocks: u32, mut gone: impl FnMut(Dropped<'_>)) -> u64 {
        LlmReplica::drop_all(self, kv_blocks, |r| gone(Dropped::Llm(r)))
    }

    fn release(&mut self) {
        LlmReplica::release(self)
    }

    #[inline]
    fn llm(&mut self) -> Option<&mut LlmReplica> {
        Some(self)
    }

    #[inline]
    fn llm_ref(&self) -> Option<&LlmReplica> {
        Some(self)
    }
}
