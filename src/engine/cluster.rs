//! Replica lifecycle bookkeeping for the engine: states (starting, ready, draining, gone), the
//! per-replica FIFO queue, and the list of ready replicas the balancer chooses from.

use super::replica::Work;
use crate::time::Time;

/// Where a replica is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RState {
    /// Requested, not ready (cold start); billed.
    Starting,
    /// Taking traffic.
    Ready,
    /// Taking no new traffic, finishing its work within the grace period.
    Draining,
    /// No longer exists.
    Gone,
}

/// A level integrated over time: ∫ level dt, updated only when the level changes.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Integral {
    pub value: f64,
    pub level: f64,
    pub last: Time,
}

impl Integral {
    #[inline]
    pub fn add(&mut self, now: Time, delta: f64) {
        self.value += self.level * (now - self.last) as i64 as f64 * 1e-6;
        self.last = now;
        self.level += delta;
    }

    #[inline]
    pub fn at(&self, now: Time) -> f64 {
        self.value + self.level * (now - self.last) as i64 as f64 * 1e-6
    }
}

/// A request waiting for a worker (queued on a replica, or held while no replica is ready).
#[derive(Debug, Clone, Copy)]
pub(super) struct Waiting {
    /// When it arrived.
    pub arrival: Time,
    /// What it asks of a replica: its demand in seconds (as `f64` bits) for workers, its prompt
    /// and output tokens (high and low 32 bits) for an LLM replica.
    need: u64,
    /// Its latency outside the replica (`service.overhead`), added when it is served.
    pub overhead: Time,
    /// Its index in arrival order.
    pub id: u64,
}

impl Waiting {
    /// A request for workers, with `demand` seconds of work.
    #[inline]
    pub fn work(id: u64, arrival: Time, demand: f64, overhead: Time) -> Self {
        Waiting { arrival, need: demand.to_bits(), overhead, id }
    }

    /// A request for an LLM replica, with `prompt` and `output` tokens.
    #[inline]
    pub fn tokens(id: u64, arrival: Time, prompt: u32, output: u32, overhead: Time) -> Self {
        Waiting { arrival, need: (prompt as u64) << 32 | output as u64, overhead, id }
    }

    /// Its demand, seconds (a request for workers).
    #[inline]
    pub fn demand(&self) -> f64 {
        f64::from_bits(self.need)
    }

    /// Its prompt and output tokens (a request for an LLM replica).
    #[inline]
    pub fn prompt_output(&self) -> (u32, u32) {
        ((self.need >> 32) as u32, self.need as u32)
    }
}

#[derive(Debug)]
pub(super) struct Replica<W> {
    pub state: RState,
    /// When it was requested (and started running: pods are not held pending).
    pub created: Time,
    /// When it last became ready, if it has.
    pub ready_at: Option<Time>,
    /// When its pod started running (`status.startTime`); `Pending` before.
    pub started: Time,
    /// The requests it holds and how it takes more.
    pub work: W,
    /// CPU-seconds used: level = cores in use now.
    pub cpu: Integral,
    /// When it was gone (`Time::MAX` while it exists).
    pub gone_at: Time,
}

impl<W: Work> Replica<W> {
    #[inline]
    pub fn outstanding(&self) -> u32 {
        self.work.outstanding()
    }
}

/// All replicas of one run. Indices are never reused, so events can name a replica safely.
#[derive(Debug)]
pub(super) struct Cluster<W> {
    pub replicas: Vec<Replica<W>>,
    /// Ready replicas in creation order: the balancer's candidates.
    pub active: Vec<u32>,
    /// Replicas not gone (for sweeps over queues).
    pub alive: Vec<u32>,
    pub starting: u32,
    pub draining: u32,
    /// KV blocks of an LLM replica (`[service.llm]`; 0 for workers).
    pub kv_blocks: u32,
}

impl<W: Work> Cluster<W> {
    /// No replica yet; an LLM replica gets `kv_blocks` KV blocks.
    pub fn new(kv_blocks: u32) -> Self {
        Cluster {
            replicas: Vec::new(),
            active: Vec::new(),
            alive: Vec::new(),
            starting: 0,
            draining: 0,
            kv_blocks,
        }
    }

    /// Adds a replica in `state` (Starting or Ready) and returns its index.
    pub fn add(&mut self, now: Time, state: RState, idle_cores: f64) -> u32 {
        let r = self.replicas.len() as u32;
        let cpu = Integral { value: 0.0, level: idle_cores, last: now };
        let ready_at = (state == RState::Ready).then_some(now);
        self.replicas.push(Replica {
            state: RState::Gone,
            created: now,
            ready_at,
            started: now,
            work: W::idle(self.kv_blocks),
            cpu,
            gone_at: Time::MAX,
        });
        self.alive.push(r);
        self.set_state(r, state);
        r
    }

    pub fn ready_count(&self) -> u32 {
        self.active.len() as u32
    }

    /// Replicas the controller counts: starting + ready.
    pub fn current(&self) -> u32 {
        self.starting + self.ready_count()
    }

    /// Replicas billed: everything not gone.
    pub fn billed(&self) -> u32 {
        self.alive.len() as u32
    }

    /// The newest replica in `state`.
    pub fn newest(&self, state: RState) -> Option<u32> {
        if state == RState::Ready {
            return self.active.last().copied();
        }
        self.alive.iter().rev().copied().find(|&r| self.replicas[r as usize].state == state)
    }

    /// Requests queued or in service on replicas that still exist.
    pub fn in_flight(&self) -> u64 {
        self.alive.iter().map(|&r| self.replicas[r as usize].outstanding() as u64).sum()
    }

    /// Moves replica `r` to `to`, keeping the lists and counters in step.
    pub fn set_state(&mut self, r: u32, to: RState) {
        let from = self.replicas[r as usize].state;
        if from == to {
            return;
        }
        match from {
            RState::Starting => self.starting -= 1,
            RState::Ready => {
                if let Ok(i) = self.active.binary_search(&r) {
                    self.active.remove(i);
                }
            }
            RState::Draining => self.draining -= 1,
            RState::Gone => {}
        }
        match to {
            RState::Starting => self.starting += 1,
            RState::Ready => {
                let i = self.active.partition_point(|&x| x < r);
                self.active.insert(i, r);
            }
            RState::Draining => self.draining += 1,
            RState::Gone => {
                if let Some(i) = self.alive.iter().position(|&x| x == r) {
                    self.alive.remove(i);
                }
                self.replicas[r as usize].work.release();
            }
        }
        self.replicas[r as usize].state = to;
    }
}
