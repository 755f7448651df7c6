//! The LLM replica's step loop (the second kind of [`super::replica::ReplicaWork`]): a running
//! and a waiting list, KV cache blocks, one batch step at a time, exactly as
//! ../shared/reference/llm-serving.md §1 states it (scheduling passes, preempting the last
//! running request, recompute, chunked prefill) with the decisions docs/llm.md adds (client
//! timeouts leave at their deadline; a request that finishes in the step ending at its deadline
//! is served).
//!
//! This file owns the lists and the arithmetic; the engine owns the clock, the events (a step's
//! start and end on its completions heap) and the recording. It is tested on its own with
//! hand-computed cases, and through the binary against the independent twin `tools/llm_twin.py`.

use crate::service::llm::LlmModel;
use crate::time::Time;
use std::collections::VecDeque;

/// One request on an LLM replica.
#[derive(Debug, Clone, Copy)]
pub(super) struct LlmReq {
    /// Index of the request in arrival order.
    pub id: u64,
    /// When it arrived.
    pub arrival: Time,
    /// When its client gives up (`Time::MAX`: never).
    pub deadline: Time,
    /// Latency outside the replica, added when served.
    pub overhead: Time,
    /// Prompt tokens.
    pub p: u32,
    /// Output tokens to generate (already capped at `max_model_len − p`).
    pub o: u32,
    /// Tokens computed (their KV is cached).
    pub c: u32,
    /// Tokens generated.
    pub g: u32,
    /// KV blocks held.
    pub b: u32,
    /// Tokens scheduled in the step in progress (0: not in it).
    pub n: u32,
    /// Times it was preempted.
    pub preemptions: u32,
    /// When its first token was emitted (`Time::MAX`: not yet).
    pub first: Time,
    /// When its latest token was emitted (`Time::MAX`: none yet).
    pub last: Time,
}

impl LlmReq {
    /// A request that arrived at `arrival` with `p` prompt and `o` output tokens.
    pub fn new(id: u64, arrival: Time, deadline: Time, overhead: Time, p: u32, o: u32) -> Self {
        LlmReq {
            id,
            arrival,
            deadline,
            overhead,
            p,
            o,
            c: 0,
            g: 0,
            b: 0,
            n: 0,
            preemptions: 0,
            first: Time::MAX,
            last: Time::MAX,
        }
    }

    /// `num_tokens`: prompt plus generated.
    #[inline]
    fn tokens(&self) -> u32 {
        self.p + self.g
    }

    /// Whether it feeds its last sampled token (a decode rather than a prefill).
    #[inline]
    fn decoding(&self) -> bool {
        self.g >= 1 && self.c == self.p + self.g - 1
    }
}

/// What a step start scheduled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Scheduled {
    /// Prefill tokens (prompt, chunk, or recompute).
    pub prefill: u64,
    /// Decoding requests.
    pub decoding: u64,
    /// Tokens cached for the decoding requests.
    pub context: u64,
    /// Requests preempted to make room.
    pub preempted: u32,
}

impl Scheduled {
    /// Whether anything runs.
    pub fn is_empty(&self) -> bool {
        self.prefill == 0 && self.decoding == 0
    }
}

/// What a step end hands back, request by request.
#[derive(Debug, Clone, Copy)]
pub(super) enum Emitted<'a> {
    /// The request emitted a token; `previous` is when it emitted its previous one
    /// (`Time::MAX`: this is its first).
    Token { req: &'a LlmReq, previous: Time },
    /// The request generated its last token: it leaves the replica.
    Finished(&'a LlmReq),
}

/// The levels an LLM replica last reported to the engine's integrals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Levels {
    /// KV blocks in use.
    pub used: u32,
    /// Requests running.
    pub running: u32,
    /// Requests waiting.
    pub waiting: u32,
}

/// One LLM replica's requests and KV cache.
#[derive(Debug)]
pub(super) struct LlmReplica {
    running: Vec<LlmReq>,
    waiting: VecDeque<LlmReq>,
    /// Free KV blocks.
    free: u32,
    /// A step runs.
    pub in_step: bool,
    /// A step start is scheduled (after the arrivals of this instant).
    pub start_pending: bool,
    /// What the engine's integrals last counted for it.
    pub seen: Levels,
}

impl LlmReplica {
    /// An empty replica with `kv_blocks` free blocks.
    pub fn new(kv_blocks: u32) -> Self {
        LlmReplica {
            running: Vec::new(),
            waiting: VecDeque::new(),
            free: kv_blocks,
            in_step: false,
            start_pending: false,
            seen: Levels::default(),
        }
    }

    /// Requests held: running and waiting.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        (self.running.len() + self.waiting.len()) as u32
    }

    /// Requests in the waiting list.
    #[inline]
    pub fn waiting(&self) -> u32 {
        self.waiting.len() as u32
    }

    /// Its levels now, with `kv_blocks` blocks in all.
    #[inline]
    pub fn levels(&self, kv_blocks: u32) -> Levels {
        Levels {
            used: kv_blocks - self.free,
            running: self.running.len() as u32,
            waiting: self.waiting.len() as u32,
        }
    }

    /// Whether it holds nothing.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }

    /// Queues a request at the tail of the waiting list.
    #[inline]
    pub fn push(&mut self, r: LlmReq) {
        self.waiting.push_back(r);
    }

    /// Removes every request, running or waiting, whose deadline is at or before `now`,
    /// handing each to `gone`; `only_waiting` leaves the running list alone.
    pub fn purge(&mut self, now: Time, only_waiting: bool, mut gone: impl FnMut(&LlmReq)) {
        let mut freed = 0;
        if !only_waiting {
            self.running.retain(|r| {
                if r.deadline <= now {
                    freed += r.b;
                    gone(r);
                    false
                } else {
                    true
                }
            });
        }
        self.waiting.retain(|r| {
            if r.deadline <= now {
                gone(r);
                false
            } else {
                true
            }
        });
        self.free += freed;
    }

    /// Schedules a step (§1, "Scheduling a step"): the running pass, preempting the last running
    /// request while blocks are short, then — if nothing was preempted — the waiting pass.
    /// Marks each scheduled request's tokens in `n`.
    pub fn schedule(&mut self, m: &LlmModel) -> Scheduled {
        let mut s = Scheduled::default();
        let mut budget = m.max_num_batched_tokens;
        let mut i = 0;
        'running: while i < self.running.len() && budget > 0 {
            let r = self.running[i];
            let n = (r.tokens() - r.c).min(budget);
            let need = m.blocks(r.c + n) - r.b;
            while need > self.free {
                // Preempt the last running request: it frees its blocks, forgets its computed
                // tokens (recompute), keeps what it emitted, and goes to the head of waiting.
                let mut v = self.running.pop().expect("r is running");
                self.free += v.b;
                v.b = 0;
                v.c = 0;
                v.n = 0;
                v.preemptions += 1;
                s.preempted += 1;
                self.waiting.push_front(v);
                if self.running.len() == i {
                    break 'running; // r itself was preempted
                }
            }
            self.free -= need;
            let r = &mut self.running[i];
            r.b += need;
            r.n = n;
            budget -= n;
            s.add(r, n);
            i += 1;
        }
        if s.preempted == 0 {
            while budget > 0 && self.running.len() < m.max_num_seqs as usize {
                let Some(h) = self.waiting.front() else { break };
                // The whole sequence so far must fit (vLLM's scheduler_reserve_full_isl).
                if m.blocks(h.tokens()) - h.b > self.free {
                    break;
                }
                let mut r = self.waiting.pop_front().expect("front exists");
                let n = (r.tokens() - r.c).min(budget);
                let need = m.blocks(r.c + n) - r.b;
                self.free -= need;
                r.b += need;
                r.n = n;
                budget -= n;
                s.add(&r, n);
                self.running.push(r);
            }
        }
        s
    }

    /// Ends the step at `now` (§1, "End of a step"): each scheduled request still here computes
    /// its tokens and, when its whole sequence is computed, samples one (handed to `emitted`);
    /// a request that generated its last token finishes (handed to `emitted` again, its blocks
    /// freed). A request whose deadline passed during the step left at its deadline: its tokens
    /// are not applied (the caller purges it).
    pub fn end_step(&mut self, now: Time, mut emitted: impl FnMut(Emitted<'_>)) {
        let mut freed = 0;
        self.running.retain_mut(|r| {
            let n = std::mem::take(&mut r.n);
            if n == 0 || r.deadline < now {
                return true;
            }
            r.c += n;
            if r.c == r.p + r.g {
                r.g += 1;
                let previous = r.last;
                r.last = now;
                if r.first == Time::MAX {
                    r.first = now;
                }
                emitted(Emitted::Token { req: r, previous });
                if r.g == r.o {
                    freed += r.b;
                    emitted(Emitted::Finished(r));
                    return false;
                }
            }
            true
        });
        self.free += freed;
        self.in_step = false;
    }

    /// Empties the replica (a drain's grace period ran out), handing each request to `gone`;
    /// returns how many there were.
    pub fn drop_all(&mut self, kv_blocks: u32, mut gone: impl FnMut(&LlmReq)) -> u64 {
        let n = self.outstanding() as u64;
        self.running.iter().chain(self.waiting.iter()).for_each(&mut gone);
        self.running.clear();
        self.waiting.clear();
        self.free = kv_blocks;
        n
    }

    /// Every request held (running first, then waiting).
    pub fn requests(&self) -> impl Iterator<Item = &LlmReq> {
        self.running.iter().chain(self.waiting.iter())
    }

    /// Frees what the lists kept allocated (the replica is gone).
    pub fn release(&mut self) {
        self.running = Vec::new();
        self.waiting = VecDeque::new();
    }
}

impl Scheduled {
    #[inline]
    fn add(&mut self, r: &LlmReq, n: u32) {
        if r.decoding() {
            self.decoding += 1;
            self.context += r.c as u64;
        } else {
            self.prefill += n as u64;
        }
    }
}

#[cfg(test)]
mod tests;
