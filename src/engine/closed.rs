//! An optional closed-loop user population for the engine, as a load generator such as Locust
//! runs it: each user sends a request, waits until it ends (served or failed), thinks, and sends
//! the next. Users are interchangeable, so the engine needs no user identity: whenever any
//! request ends, one user starts thinking. The population follows a schedule of user counts;
//! when it shrinks, users retire as their requests end.
//!
//! Costs nothing when unused: the engine holds [`Clients::Open`] and checks it once per event.
//!
//! [`Clients`] is the seam of the client model (ARCHITECTURE.md, "Seams"): who sends requests
//! besides the scenario's open-loop traffic, and what a client does when its request ends —
//! today nothing (open loop) or think and send again (closed loop). Clients that time out and
//! retry (with back-off, budgets) are a further variant here, fed by the same `ended` calls.

use crate::dist::Dist;
use crate::rng::{SimRng, Stream, stream};
use crate::time::{Time, from_secs_f64};
use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A closed-loop user population: how many users at which time, and how long they think.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedLoop {
    /// `(time, users)` changes in increasing time order; no users before the first change. A
    /// user added at `t` sends its first request at `t + U·z` (U uniform on [0, 1), z a think
    /// time), which spreads the new users' first requests over one think time.
    pub users: Vec<(Time, u32)>,
    /// Think time between a request's end and the user's next request, seconds.
    pub think: Dist,
}

/// The clients of a run beyond the scenario's open-loop arrivals.
#[derive(Debug)]
pub(super) enum Clients {
    /// Open loop only: a request's end changes nothing upstream.
    Open,
    /// A closed-loop population: a request's end sets a user thinking.
    Closed(Users),
}

impl Clients {
    /// The clients of a run: a closed loop when `closed` asks for one.
    pub fn new(closed: Option<ClosedLoop>, seed: u64) -> Self {
        match closed {
            Some(c) => Clients::Closed(Users::new(c, seed)),
            None => Clients::Open,
        }
    }

    /// When a client next sends a request; `Time::MAX` when none will.
    #[inline]
    pub fn next_time(&self) -> Time {
        match self {
            Clients::Open => Time::MAX,
            Clients::Closed(u) => u.next_time(),
        }
    }

    /// Whether only the open-loop traffic sends requests.
    #[inline]
    pub fn is_open(&self) -> bool {
        matches!(self, Clients::Open)
    }

    /// `n` requests ended at `at` (noticed at `now`).
    #[inline]
    pub fn ended(&mut self, at: Time, now: Time, n: u64) {
        if let Clients::Closed(u) = self {
            u.ended(at, now, n);
        }
    }

    /// The client due at `t` acts; returns whether it sends a request.
    pub fn step(&mut self, t: Time) -> bool {
        match self {
            Clients::Open => false,
            Clients::Closed(u) => u.step(t),
        }
    }
}

/// Run-time state of the population.
#[derive(Debug)]
pub(super) struct Users {
    spec: ClosedLoop,
    next_change: usize,
    /// Users wanted now.
    target: u32,
    /// Users alive: thinking or with a request in the system.
    live: u32,
    /// When thinking users send their next request.
    wakeups: BinaryHeap<Reverse<Time>>,
    rng: SimRng,
}

impl Users {
    pub fn new(spec: ClosedLoop, seed: u64) -> Users {
        Users {
            spec,
            next_change: 0,
            target: 0,
            live: 0,
            wakeups: BinaryHeap::new(),
            rng: stream(seed, Stream::Users),
        }
    }

    /// Time of the next population event (a count change or a request to send).
    #[inline]
    pub fn next_time(&self) -> Time {
        let w = self.wakeups.peek().map_or(Time::MAX, |r| r.0);
        let c = self.spec.users.get(self.next_change).map_or(Time::MAX, |c| c.0);
        w.min(c)
    }

    /// Handles the event due at `now`: applies a count change (returns `false`) or takes a
    /// waking user's request (returns `true`: the caller sends a request arriving at `now`).
    pub fn step(&mut self, now: Time) -> bool {
        if let Some(&(t, n)) = self.spec.users.get(self.next_change)
            && t <= now
        {
            self.next_change += 1;
            self.target = n;
            while self.live < n {
                let z = self.spec.think.sample(&mut self.rng) * self.rng.random::<f64>();
                self.wakeups.push(Reverse(now + from_secs_f64(z)));
                self.live += 1;
            }
            return false;
        }
        self.wakeups.pop().is_some()
    }

    /// `n` requests ended for their users at `at` (noticed at `now`: a late-noticed queue timeout
    /// has `at < now`, a response still travelling back through `service.overhead` has
    /// `at > now`): their users think, or retire when there are more users than wanted.
    pub fn ended(&mut self, at: Time, now: Time, n: u64) {
        for _ in 0..n {
            if self.live > self.target {
                self.live -= 1;
                continue;
            }
            let z = from_secs_f64(self.spec.think.sample(&mut self.rng));
            // A queue timeout noticed late (queues are purged lazily) must not send in the past,
            // and a request failed on arrival with no think time must not retry at the same
            // instant forever: the next request is at least 1 µs after `now`.
            self.wakeups.push(Reverse((at + z).max(now + 1)));
        }
    }

    /// Users alive (thinking or waiting for a response).
    #[cfg(test)]
    pub fn live(&self) -> u32 {
        self.live
    }
}
