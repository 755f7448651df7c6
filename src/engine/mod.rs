//! The discrete-event simulation of one policy over one traffic stream.
//!
//! Exact events, no time step for requests: one pending arrival from the traffic source, a
//! 4-ary heap of service completions ([`heap`]), a small heap of replica events (ready, drain deadline),
//! and three periodic ticks (metric snapshots every second, policy decisions, recording
//! intervals). At equal times the order is fixed — recording, snapshot, replica events,
//! completions, policy, arrival — so a run is a pure function of its inputs.
//!
//! The per-request path allocates nothing and does no hashing or formatting: per-replica FIFO
//! queues (`VecDeque`, reused), integer microsecond times, HDR histograms with fixed buckets.
//! Timeouts: a queued request whose deadline passes leaves the queue (purged lazily but dated
//! exactly); a request in service that would overrun its deadline is abandoned at the deadline
//! (the client gives up and the worker is freed).
//!
//! Overhead (`service.overhead`): each request's latency outside the replica (network, client,
//! framework), drawn once per request in arrival order from its own stream (only when the
//! scenario has one, so scenarios without it draw exactly as before). It occupies no worker and
//! is not in flight at the replica: it is added to the latency of a served request, and a
//! closed-loop user receives the response that much after the replica finished it. It does not
//! count toward the timeout, which bounds the time at the replica (queue and service), as a
//! load balancer's or the server's own timeout does: a request served in time whose overhead
//! takes its latency past `timeout` is served, with that latency.
//!
//! [`simulate_with`] adds optional features that cost nothing when unused ([`Extras`]): a
//! closed-loop user population ([`ClosedLoop`]) whose users send their next request a think time
//! after the previous one ends, explicit recording-interval boundaries, and per-interval latency
//! histograms. The step test of `capacity` uses them.
//!
//! Seams for what comes next (ARCHITECTURE.md, "Seams"), each one type the event loop reaches
//! through: what a replica is (`replica::ReplicaWork`), where replicas run
//! (`placement::Placement`), what happens to a replica at a scheduled time (`Lifecycle`, where
//! faults enter), and who sends requests besides the open-loop traffic (`closed::Clients`).

mod closed;
mod cluster;
mod heap;
mod llm;
mod placement;
mod replica;

pub use closed::ClosedLoop;

use crate::balancer::Balancer;
use crate::metrics::{MetricsHistory, MetricsView, Snapshot};
use crate::policy::Explanation;
use crate::policy::{
    ActivatorBuffer, Decision, Observation, PodPhase, PodView, Policy, PolicySpec, Start, SteadyState,
};
use crate::record::DecisionRow;
use crate::record::llm::LlmLevels;
use crate::record::requests::{NONE_COUNT, NONE_TIME, Outcome, RequestRow};
use crate::record::{FailReason, Gauges, LatencyHistogram, Recorder, RunResult};
use crate::rng::{SimRng, Stream, stream};
use crate::scenario::Scenario;
use crate::service::llm::LlmModel;
use crate::time::{SECOND, Time, from_secs_f64};
use crate::traffic::Arrival;
use closed::Clients;
use cluster::{Cluster, Integral, RState, Waiting};
use heap::Heap4;
use llm::LlmReplica;
use llm::{Emitted, LlmReq};
use placement::Placement;
use replica::{Dropped, Work, WorkerQueue};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

/// How much metric history policies can look back on.
pub const METRICS_HISTORY: Time = 3600 * SECOND;

/// A request in service: when it ends, on which replica, and its [`Ticket`]. Ordered by time,
/// then by scheduling order (`seq`, unique). 24 bytes, so the heap's sifts move little.
#[derive(Debug, Clone, Copy)]
struct Completion {
    time: Time,
    seq: u64,
    replica: u32,
    ticket: u32,
}

const _: () = assert!(std::mem::size_of::<Completion>() == 24);

/// What a completion needs besides its time, held in [`Tickets`] beside the heap: 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    arrival: Time,
    /// The request's index in arrival order.
    id: u64,
    /// Latency outside the replica (added when served), and in the top bit whether the request
    /// timed out (a time never reaches it: `time::MAX_SPAN` is 2^62).
    overhead_timed_out: Time,
}

const _: () = assert!(std::mem::size_of::<Ticket>() == 24);

impl Ticket {
    const TIMED_OUT: Time = 1 << 63;

    #[inline(always)]
    fn new(arrival: Time, id: u64, overhead: Time, timed_out: bool) -> Self {
        Ticket { arrival, id, overhead_timed_out: overhead | if timed_out { Self::TIMED_OUT } else { 0 } }
    }

    /// Latency outside the replica.
    #[inline(always)]
    fn overhead(&self) -> Time {
        self.overhead_timed_out & !Self::TIMED_OUT
    }

    /// Whether the request's service was cut at its deadline.
    #[inline(always)]
    fn timed_out(&self) -> bool {
        self.overhead_timed_out & Self::TIMED_OUT != 0
    }
}

/// The tickets of the requests in service: slots reused last-freed first, so the live ones
/// stay few and close together.
#[derive(Debug, Default)]
struct Tickets {
    slots: Vec<Ticket>,
    free: Vec<u32>,
}

impl Tickets {
    #[inline]
    fn issue(&mut self, t: Ticket) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = t;
                i
            }
            None => {
                self.slots.push(t);
                (self.slots.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn redeem(&mut self, i: u32) -> Ticket {
        self.free.push(i);
        self.slots[i as usize]
    }
}

/// Marks the `seq` of an LLM replica's step start: at equal times it sorts after every other
/// entry (step ends, completions), and the event loop runs it after the instant's arrivals too
/// (§1: steps that end, then arrivals, then steps that start).
const STEP_START: u64 = 1 << 63;

impl Completion {
    /// (time, seq) as one number, so that comparing two is one wide comparison, no branch.
    #[inline(always)]
    fn key(&self) -> u128 {
        (self.time as u128) << 64 | self.seq as u128
    }

    /// Whether it is an LLM replica's step start (which waits for the instant's arrivals).
    #[inline(always)]
    fn is_step_start(&self) -> bool {
        self.seq & STEP_START != 0
    }
}

impl PartialEq for Completion {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Completion {}

impl PartialOrd for Completion {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }

    #[inline]
    fn lt(&self, other: &Self) -> bool {
        self.key() < other.key()
    }

    #[inline]
    fn le(&self, other: &Self) -> bool {
        self.key() <= other.key()
    }

    #[inline]
    fn gt(&self, other: &Self) -> bool {
        self.key() > other.key()
    }

    #[inline]
    fn ge(&self, other: &Self) -> bool {
        self.key() >= other.key()
    }
}

impl Ord for Completion {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// What happens to a replica at a scheduled time, apart from its requests' completions: the
/// seam where faults enter the event loop (ARCHITECTURE.md, "Seams"). A crash, a hang, a
/// restart after back-off, a zone or a node lost are further variants, scheduled on the same
/// heap and handled in [`Sim::on_lifecycle`] at the place replica events hold among events at
/// one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lifecycle {
    /// The replica's start-up ends: it takes traffic.
    Ready,
    /// A draining replica's grace period ends: what it still holds fails as `terminated`.
    DrainDeadline,
}

/// A [`Lifecycle`] event of one replica, ordered by time, then by scheduling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LifecycleEvent {
    time: Time,
    seq: u64,
    kind: Lifecycle,
    replica: u32,
}

/// One simulation run.
struct Sim<'a, W: Work> {
    sc: &'a Scenario,
    timeout: Option<Time>,
    queue_limit: usize,
    workers: u32,
    cluster: Cluster<W>,
    balancer: Balancer,
    lb_rng: SimRng,
    demand_rng: SimRng,
    /// Draws each request's overhead (only when the service has one).
    overhead_rng: SimRng,
    startup_rng: SimRng,
    completions: Heap4<Completion>,
    tickets: Tickets,
    lifecycle: BinaryHeap<Reverse<LifecycleEvent>>,
    seq: u64,
    rec: Recorder,
    arrivals_total: u64,
    served_total: u64,
    inflight: Integral,
    ready: Integral,
    busy_ready: Integral,
    billed: Integral,
    cpu_request_starts: u64,
    desired: u32,
    peak: u32,
    /// Requests held while no replica is ready.
    held: VecDeque<Waiting>,
    activator: Option<ActivatorBuffer>,
    /// A request was held while the policy wanted zero replicas.
    poke: bool,
    pods: Vec<PodView>,
    /// Who sends requests besides the open-loop traffic.
    clients: Clients,
    /// Where replicas run.
    placement: Placement,
    /// Whether each replica's CPU is integrated (the policy reads its pods' CPU).
    pod_cpu: bool,
    /// The LLM engine of each replica (`[service.llm]`); `None`: replicas have workers.
    llm: Option<&'a LlmModel>,
    /// Requests an LLM replica handed back (finished, timed out), reused between steps.
    llm_out: Vec<LlmReq>,
    /// One row per request ended, when [`Extras::requests`] asks for them.
    requests: Option<Vec<RequestRow>>,
    /// LLM replicas: ∫ Σ KV usage (fraction) of ready replicas, ∫ running requests, ∫ waiting
    /// requests (all replicas), updated at every change ([`Sim::llm_levels`]).
    kv_ready: Integral,
    llm_running: Integral,
    llm_waiting: Integral,
}

impl<'a, W: Work> Sim<'a, W> {
    /// The state of a run at time 0: `initial` replicas ready (and billed), every random
    /// stream seeded from `seed`, nothing in flight.
    fn new(sc: &'a Scenario, policy: &PolicySpec, seed: u64, initial: u32, extras: &Extras) -> Self {
        let svc = &sc.service;
        let mut sim = Sim {
            sc,
            timeout: svc.timeout,
            queue_limit: svc.queue_limit.map_or(usize::MAX, |q| q as usize),
            workers: svc.workers.max(1),
            cluster: Cluster::new(svc.llm.as_ref().map_or(0, |m| m.kv_blocks)),
            balancer: Balancer::new(sc.balancer),
            lb_rng: stream(seed, Stream::Balancer),
            demand_rng: stream(seed, Stream::Demand),
            overhead_rng: stream(seed, Stream::Overhead),
            startup_rng: stream(seed, Stream::Startup),
            completions: Heap4::with_capacity(1024),
            tickets: Tickets::default(),
            lifecycle: BinaryHeap::new(),
            seq: 0,
            rec: {
                let rec = Recorder::new(sc.slo.clone(), &sc.cost)
                    .with_limits(policy.min, policy.max)
                    .with_warmup(sc.warmup);
                if svc.llm.is_some() { rec.with_llm() } else { rec }
            },
            arrivals_total: 0,
            served_total: 0,
            inflight: Integral::default(),
            ready: Integral::default(),
            busy_ready: Integral::default(),
            billed: Integral::default(),
            cpu_request_starts: 0,
            desired: initial,
            peak: 0,
            held: VecDeque::new(),
            activator: policy.activator,
            poke: false,
            pods: Vec::new(),
            clients: Clients::new(extras.closed_loop.clone(), seed),
            placement: Placement::Unbounded,
            pod_cpu: true,
            llm: svc.llm.as_ref(),
            llm_out: Vec::new(),
            requests: extras.requests.then(Vec::new),
            kv_ready: Integral::default(),
            llm_running: Integral::default(),
            llm_waiting: Integral::default(),
        };

        for _ in 0..initial {
            sim.cluster.add(0, RState::Ready, svc.cpu.idle_cores);
            sim.ready.add(0, 1.0);
            sim.billed.add(0, 1.0);
        }
        sim.peak = initial;
        sim.rec.on_ready(0, sim.cluster.ready_count());
        sim.rec.on_desired(0, initial);
        sim
    }

    /// A policy tick at `t`: the observation (replica counts, metrics, pods, held requests) goes
    /// to the controller; a decision is logged, clamped to the policy's bounds and applied.
    /// Returns the decision [`Extras::explain_at`] asked for, which ends the run.
    fn on_policy_tick(
        &mut self,
        t: Time,
        controller: &mut dyn Policy,
        history: &MetricsHistory,
        policy: &PolicySpec,
        extras: &Extras,
    ) -> Option<ExplainedDecision> {
        let (ready, starting, draining) =
            (self.cluster.ready_count(), self.cluster.starting, self.cluster.draining);
        let current = ready + starting;
        self.fill_pods(t);
        let view = MetricsView {
            history,
            now: self.snapshot(t),
            cpu_request_cores: self.sc.service.cpu.request_cores,
        };
        let seen = Observation {
            now: t,
            clock: &self.sc.clock,
            current,
            ready,
            starting,
            draining,
            metrics: view,
            pods: &self.pods,
            buffered: self.held.len() as u32,
        };
        let mut explanation = None;
        let decided = if extras.explain_at.is_some_and(|a| t >= a) {
            controller.explain(&seen).map(|(d, e)| {
                explanation = Some(e);
                d
            })
        } else {
            controller.decide(&seen)
        };
        let Decision { desired, reason, metrics, proposal, stabilized, limited } = decided?;
        let desired = desired.clamp(policy.min, policy.max);
        let row = DecisionRow {
            time_s: 0.0,
            current: self.desired,
            ready,
            metrics,
            proposal,
            stabilized,
            limited,
            desired,
            reason,
        };
        if let Some(explanation) = explanation {
            let mut row = row;
            row.time_s = crate::time::to_secs_f64(t);
            return Some(ExplainedDecision { row, explanation });
        }
        self.rec.on_decision(t, row);
        self.rec.on_desired(t, desired);
        self.desired = desired;
        if desired != current {
            self.scale_to(t, desired);
        }
        None
    }

    /// A closed-loop user's think time ends at `t`: it sends a request (or has retired).
    fn on_user(&mut self, t: Time) {
        if self.clients.step(t) {
            self.on_arrival(Arrival { time: t, ..Arrival::default() });
        }
    }

    #[inline(always)]
    fn push_completion(&mut self, time: Time, replica: u32, w: Waiting, timed_out: bool) {
        self.seq += 1;
        let ticket = self.tickets.issue(Ticket::new(w.arrival, w.id, w.overhead, timed_out));
        self.completions.push(Completion { time, seq: self.seq, replica, ticket });
    }

    /// Schedules an LLM replica's step start at `time` (after the instant's arrivals) or the end
    /// of its step.
    fn push_step(&mut self, time: Time, replica: u32, start: bool) {
        self.seq += 1;
        let seq = if start { self.seq | STEP_START } else { self.seq };
        self.completions.push(Completion { time, seq, replica, ticket: 0 });
    }

    /// Keeps `row` when requests are recorded.
    #[inline(always)]
    fn log(&mut self, row: impl FnOnce() -> RequestRow) {
        if let Some(v) = &mut self.requests {
            v.push(row());
        }
    }

    fn push_lifecycle(&mut self, time: Time, kind: Lifecycle, replica: u32) {
        self.seq += 1;
        self.lifecycle.push(Reverse(LifecycleEvent { time, seq: self.seq, kind, replica }));
    }

    /// `n` requests ended at `at` (noticed at `now`): closed-loop users start thinking.
    #[inline]
    fn ended(&mut self, at: Time, now: Time, n: u64) {
        self.clients.ended(at, now, n);
    }

    fn snapshot(&self, now: Time) -> Snapshot {
        let cpu = &self.sc.service.cpu;
        Snapshot {
            t: now,
            arrivals: self.arrivals_total,
            served: self.served_total,
            inflight_integral: self.inflight.at(now),
            cpu_seconds: cpu.idle_cores * self.ready.at(now)
                + cpu.per_request_cpu_s * self.cpu_request_starts as f64
                + cpu.busy_worker_cores * self.busy_ready.at(now),
            ready_replica_seconds: self.ready.at(now),
        }
    }

    fn gauges(&self) -> Gauges {
        let c = &self.cluster;
        Gauges { desired: self.desired, starting: c.starting, ready: c.ready_count(), draining: c.draining }
    }

    /// Starts service of a request on replica `r` at `now`.
    #[inline(always)]
    fn start_service(&mut self, r: u32, now: Time, w: Waiting) {
        let cpu = &self.sc.service.cpu;
        let rep = &mut self.cluster.replicas[r as usize];
        let busy = rep.work.start();
        if self.pod_cpu {
            rep.cpu.add(now, cpu.busy_worker_cores);
            rep.cpu.value += cpu.per_request_cpu_s;
        }
        if rep.state == RState::Ready {
            self.busy_ready.add(now, 1.0);
            self.cpu_request_starts += 1;
        }
        let st = self.sc.service.service_time(w.demand(), busy);
        let mut end = now + from_secs_f64(st);
        let mut timed_out = false;
        if let Some(to) = self.timeout {
            let deadline = w.arrival + to;
            if end > deadline {
                end = deadline;
                timed_out = true;
            }
        }
        self.push_completion(end, r, w, timed_out);
    }

    /// Drops queued requests of replica `r` whose deadline has passed by `now`.
    fn purge_expired(&mut self, r: u32, now: Time) {
        let Some(to) = self.timeout else { return };
        while let Some(front) = self.cluster.replicas[r as usize].work.oldest_waiting() {
            let deadline = front.arrival + to;
            if deadline > now {
                break;
            }
            let w = self.cluster.replicas[r as usize].work.take_oldest().expect("front exists");
            self.log(|| {
                RequestRow::plain(w.id, w.arrival, r, deadline, Outcome::Failed(FailReason::Timeout))
            });
            self.rec.on_failed(FailReason::Timeout, 1);
            // It left at its deadline, not now.
            self.inflight.add(now, -1.0);
            self.inflight.value -= (now - deadline) as f64 * 1e-6;
            self.ended(deadline, now, 1);
        }
    }

    #[inline(always)]
    fn on_arrival(&mut self, a: Arrival) {
        let now = a.time;
        let id = self.arrivals_total;
        self.arrivals_total += 1;
        self.rec.on_arrival();
        // Drawn for every request, whatever happens to it: request k has the same demand under
        // every policy.
        let demand = self.sc.service.demand.sample(&a, &mut self.demand_rng);
        let overhead = match &self.sc.service.overhead {
            Some(d) => from_secs_f64(d.sample(&mut self.overhead_rng).max(0.0)),
            None => 0,
        };
        let w = if W::LLM {
            let m = self.llm.expect("an LLM service");
            match self.llm_arrival(&a, id, overhead, m) {
                Some(w) => w,
                None => return,
            }
        } else {
            Waiting::work(id, now, demand, overhead)
        };
        if self.cluster.active.is_empty() {
            if self.activator.is_some() {
                // Requests whose wait is over leave first, freeing their places.
                self.purge_held(now);
            }
            match self.activator {
                Some(b) if (self.held.len() as u64) < b.capacity as u64 => {
                    self.held.push_back(w);
                    self.inflight.add(now, 1.0);
                    self.poke |= self.desired == 0;
                }
                _ => {
                    self.rec.on_failed(FailReason::NoReplica, 1);
                    self.ended(now, now, 1);
                    self.log(|| {
                        waiting_row(&w, NONE_COUNT, now, Outcome::Failed(FailReason::NoReplica), W::LLM)
                    });
                }
            }
            return;
        }
        self.dispatch(now, w);
    }

    /// Sends a request (arrived at `arrival`) to a ready replica chosen by the balancer; the
    /// request is not yet counted in flight.
    #[inline(always)]
    fn dispatch(&mut self, now: Time, w: Waiting) {
        let n = self.cluster.active.len();
        let cl = &self.cluster;
        let idx =
            self.balancer.pick(n, |i| cl.replicas[cl.active[i] as usize].outstanding(), &mut self.lb_rng);
        let r = self.cluster.active[idx];
        if W::LLM {
            self.llm_route(r, now, w);
            return;
        }
        if self.cluster.replicas[r as usize].work.can_start(self.workers) {
            self.inflight.add(now, 1.0);
            self.start_service(r, now, w);
            return;
        }
        if self.timeout.is_some() {
            self.purge_expired(r, now);
        }
        if self.cluster.replicas[r as usize].work.enqueue(w, self.queue_limit) {
            self.inflight.add(now, 1.0);
        } else {
            self.rec.on_failed(FailReason::QueueFull, 1);
            self.ended(now, now, 1);
            self.log(|| waiting_row(&w, r, now, Outcome::Failed(FailReason::QueueFull), false));
        }
    }

    /// When a held request gives up: the activator's wait limit (`no_replica`) or the client
    /// timeout (`timeout`), whichever comes first.
    fn held_deadline(&self, arrival: Time) -> (Time, FailReason) {
        let wait = self.activator.map_or(Time::MAX, |b| arrival.saturating_add(b.max_wait));
        match self.timeout {
            Some(to) if arrival.saturating_add(to) < wait => (arrival + to, FailReason::Timeout),
            _ => (wait, FailReason::NoReplica),
        }
    }

    /// Fails held requests whose deadline has passed by `now` (dated at their deadline).
    fn purge_held(&mut self, now: Time) {
        while let Some(front) = self.held.front() {
            let (deadline, reason) = self.held_deadline(front.arrival);
            if deadline > now {
                break;
            }
            let w = self.held.pop_front().expect("front exists");
            self.log(|| waiting_row(&w, NONE_COUNT, deadline, Outcome::Failed(reason), W::LLM));
            self.rec.on_failed(reason, 1);
            self.inflight.add(now, -1.0);
            self.inflight.value -= (now - deadline) as f64 * 1e-6;
            self.ended(deadline, now, 1);
        }
    }

    /// Sends every held request to the ready replicas, oldest first.
    fn release_held(&mut self, now: Time) {
        self.purge_held(now);
        while !self.cluster.active.is_empty() {
            let Some(w) = self.held.pop_front() else { break };
            // It stops being counted as held and is counted again by `dispatch`.
            self.inflight.add(now, -1.0);
            self.dispatch(now, w);
        }
    }

    #[inline(always)]
    fn on_completion(&mut self, c: Completion) {
        if W::LLM {
            self.on_llm_step(c, self.llm.expect("an LLM service"));
            return;
        }
        let now = c.time;
        let r = c.replica;
        let t = self.tickets.redeem(c.ticket);
        let rep = &mut self.cluster.replicas[r as usize];
        if rep.state == RState::Gone {
            // Already failed as `terminated` at the drain deadline.
            let gone = rep.gone_at;
            self.log(|| RequestRow::plain(t.id, t.arrival, r, gone, Outcome::Failed(FailReason::Terminated)));
            return;
        }
        rep.work.finish();
        if self.pod_cpu {
            rep.cpu.add(now, -self.sc.service.cpu.busy_worker_cores);
        }
        if rep.state == RState::Ready {
            self.busy_ready.add(now, -1.0);
        }
        self.inflight.add(now, -1.0);
        if t.timed_out() {
            self.rec.on_failed(FailReason::Timeout, 1);
            self.ended(now, now, 1);
            self.log(|| RequestRow::plain(t.id, t.arrival, r, now, Outcome::Failed(FailReason::Timeout)));
        } else {
            self.served_total += 1;
            self.rec.on_served(now - t.arrival + t.overhead());
            // The client has the response `overhead` after the replica finished it.
            self.ended(now + t.overhead(), now, 1);
            self.log(|| RequestRow::plain(t.id, t.arrival, r, now + t.overhead(), Outcome::Served));
        }
        if self.timeout.is_some() {
            self.purge_expired(r, now);
        }
        if let Some(w) = self.cluster.replicas[r as usize].work.take_oldest() {
            self.start_service(r, now, w);
        } else {
            let rep = &self.cluster.replicas[r as usize];
            if rep.state == RState::Draining && rep.work.in_service() == 0 {
                self.remove(r, now);
            }
        }
    }

    /// A request for an LLM service arrives: refused at once (`too_long`, before the load
    /// balancer sees it) when its prompt is at least `max_model_len`, otherwise its output is
    /// capped at what the model length leaves (vLLM clamps `max_tokens`). Kept out of line, so
    /// the arrival path of worker replicas stays as short as it was.
    #[inline(never)]
    fn llm_arrival(&mut self, a: &Arrival, id: u64, overhead: Time, m: &LlmModel) -> Option<Waiting> {
        let now = a.time;
        // Token counts were checked whole and positive when the scenario was read; a request
        // without sizes (a closed-loop user's) asks for one token of each.
        let (p, o) = ((a.sizes[0] as u32).max(1), (a.sizes[1] as u32).max(1));
        if p >= m.max_model_len {
            self.rec.on_failed(FailReason::TooLong, 1);
            self.ended(now, now, 1);
            self.log(|| RequestRow {
                prompt_tokens: p,
                output_tokens: 0,
                ..RequestRow::plain(id, now, NONE_COUNT, now, Outcome::Failed(FailReason::TooLong))
            });
            return None;
        }
        Some(Waiting::tokens(id, now, p, o.min(m.max_model_len - p), overhead))
    }

    /// An LLM replica `r` takes a routed request: it joins the waiting list (§1, "Arrival"),
    /// unless `queue_limit` requests already wait there, and wakes the replica if it is idle.
    #[inline(never)]
    fn llm_route(&mut self, r: u32, now: Time, w: Waiting) {
        let limit = self.queue_limit;
        let l = self.cluster.replicas[r as usize].work.llm().expect("an LLM replica");
        if l.waiting() as usize >= limit && self.timeout.is_some() {
            // Requests whose deadline is now left before this arrival (§1's order).
            self.llm_purge(r, now, true, false);
        }
        let l = self.cluster.replicas[r as usize].work.llm().expect("an LLM replica");
        if l.waiting() as usize >= limit {
            self.rec.on_failed(FailReason::QueueFull, 1);
            self.ended(now, now, 1);
            self.log(|| waiting_row(&w, r, now, Outcome::Failed(FailReason::QueueFull), true));
            return;
        }
        let (p, o) = w.prompt_output();
        let deadline = self.timeout.map_or(Time::MAX, |to| w.arrival + to);
        l.push(LlmReq::new(w.id, w.arrival, deadline, w.overhead, p, o));
        let wake = !l.in_step && !l.start_pending;
        if wake {
            l.start_pending = true;
        }
        self.inflight.add(now, 1.0);
        self.llm_levels(r, now);
        if wake {
            self.push_step(now, r, true);
        }
    }

    /// Brings the LLM integrals up to date with replica `r`'s levels at `now` (after any change
    /// of its lists or blocks); a ready replica's KV usage counts toward the mean.
    fn llm_levels(&mut self, r: u32, now: Time) {
        let Some(m) = self.llm else { return };
        let rep = &mut self.cluster.replicas[r as usize];
        let ready = rep.state == RState::Ready;
        let l = rep.work.llm().expect("an LLM replica");
        let (was, is) = (l.seen, l.levels(m.kv_blocks));
        l.seen = is;
        if is.running != was.running {
            self.llm_running.add(now, is.running as f64 - was.running as f64);
        }
        if is.waiting != was.waiting {
            self.llm_waiting.add(now, is.waiting as f64 - was.waiting as f64);
        }
        if ready && is.used != was.used {
            self.kv_ready.add(now, (is.used as f64 - was.used as f64) / m.kv_blocks as f64);
        }
    }

    /// Fails the requests of LLM replica `r` whose deadline has passed by `now` (`strict`: is
    /// before `now`), dated at their deadlines; `only_waiting` leaves the running list alone.
    fn llm_purge(&mut self, r: u32, now: Time, only_waiting: bool, strict: bool) {
        if self.timeout.is_none() {
            return;
        }
        let mut out = std::mem::take(&mut self.llm_out);
        let l = self.cluster.replicas[r as usize].work.llm().expect("an LLM replica");
        let cut = if strict { now.saturating_sub(1) } else { now };
        l.purge(cut, only_waiting, |q| out.push(*q));
        for q in out.drain(..) {
            self.rec.on_failed(FailReason::Timeout, 1);
            // It left at its deadline, not now.
            self.inflight.add(now, -1.0);
            self.inflight.value -= (now - q.deadline) as f64 * 1e-6;
            self.ended(q.deadline, now, 1);
            self.log(|| llm_row(&q, r, q.deadline, Outcome::Failed(FailReason::Timeout)));
        }
        self.llm_out = out;
        self.llm_levels(r, now);
    }

    /// An LLM replica's step starts or ends (§1).
    #[inline(never)]
    fn on_llm_step(&mut self, c: Completion, m: &LlmModel) {
        let (now, r) = (c.time, c.replica);
        if self.cluster.replicas[r as usize].state == RState::Gone {
            return; // its requests failed as `terminated` at the drain deadline
        }
        let cores = self.sc.service.cpu.busy_worker_cores;
        if c.is_step_start() {
            self.cluster.replicas[r as usize].work.llm().expect("an LLM replica").start_pending = false;
            self.llm_purge(r, now, false, false);
            let rep = &mut self.cluster.replicas[r as usize];
            let l = rep.work.llm().expect("an LLM replica");
            let s = l.schedule(m);
            if s.is_empty() {
                if rep.state == RState::Draining && l.is_idle() {
                    self.remove(r, now);
                }
                return;
            }
            l.in_step = true;
            let usage = l.levels(m.kv_blocks).used as f64 / m.kv_blocks as f64;
            if self.pod_cpu {
                rep.cpu.add(now, cores);
            }
            let ready = rep.state == RState::Ready;
            if ready {
                self.busy_ready.add(now, 1.0);
            }
            if let Some(lr) = self.rec.llm() {
                lr.on_preempted(s.preempted as u64);
                if ready {
                    lr.on_kv(usage);
                }
            }
            self.llm_levels(r, now);
            self.push_step(now + m.step.duration(s.prefill, s.decoding, s.context), r, false);
            return;
        }
        let mut out = std::mem::take(&mut self.llm_out);
        let rep = &mut self.cluster.replicas[r as usize];
        let l = rep.work.llm().expect("an LLM replica");
        let lr = self.rec.llm().expect("an LLM recorder");
        l.end_step(now, |e| match e {
            Emitted::Token { req, previous } => {
                lr.on_tokens(1);
                if previous == Time::MAX {
                    // As the client sees it: the overhead outside the replica included.
                    lr.on_first_token(now - req.arrival + req.overhead);
                } else {
                    lr.on_itl(now - previous);
                }
            }
            Emitted::Finished(q) => {
                lr.on_served(q.first, now, q.g);
                out.push(*q);
            }
        });
        if self.pod_cpu {
            rep.cpu.add(now, -cores);
        }
        if rep.state == RState::Ready {
            self.busy_ready.add(now, -1.0);
        }
        for q in out.drain(..) {
            self.served_total += 1;
            self.inflight.add(now, -1.0);
            self.rec.on_served(now - q.arrival + q.overhead);
            // The client has the response `overhead` after the replica finished it.
            self.ended(now + q.overhead, now, 1);
            self.log(|| llm_row(&q, r, now + q.overhead, Outcome::Served));
        }
        self.llm_out = out;
        self.llm_purge(r, now, false, false);
        self.llm_levels(r, now);
        let rep = &mut self.cluster.replicas[r as usize];
        let l = rep.work.llm().expect("an LLM replica");
        if !l.is_idle() {
            l.start_pending = true;
            self.push_step(now, r, true);
        } else if rep.state == RState::Draining {
            self.remove(r, now);
        }
    }

    /// The replica is gone: billing stops.
    fn remove(&mut self, r: u32, now: Time) {
        let was = self.cluster.replicas[r as usize].state;
        self.cluster.set_state(r, RState::Gone);
        self.cluster.replicas[r as usize].gone_at = now;
        match was {
            RState::Starting | RState::Draining => {}
            RState::Ready => {
                // Only via cancellation paths that first drain; kept for completeness.
                self.ready.add(now, -1.0);
                self.rec.on_ready(now, self.cluster.ready_count());
            }
            RState::Gone => return,
        }
        self.billed.add(now, -1.0);
    }

    fn on_lifecycle(&mut self, c: LifecycleEvent) {
        let now = c.time;
        let r = c.replica;
        match c.kind {
            Lifecycle::Ready => {
                if self.cluster.replicas[r as usize].state == RState::Starting {
                    self.cluster.set_state(r, RState::Ready);
                    self.cluster.replicas[r as usize].ready_at = Some(now);
                    self.ready.add(now, 1.0);
                    self.rec.on_ready(now, self.cluster.ready_count());
                    if !self.held.is_empty() {
                        self.release_held(now);
                    }
                }
            }
            Lifecycle::DrainDeadline => {
                let rep = &mut self.cluster.replicas[r as usize];
                if rep.state == RState::Draining {
                    let kv = self.llm.map_or(0, |m| m.kv_blocks);
                    let log = &mut self.requests;
                    let n = rep.work.drop_all(kv, |d| {
                        if let Some(v) = log {
                            v.push(match d {
                                Dropped::Queued(w) => {
                                    waiting_row(w, r, now, Outcome::Failed(FailReason::Terminated), false)
                                }
                                Dropped::Llm(q) => {
                                    llm_row(q, r, now, Outcome::Failed(FailReason::Terminated))
                                }
                            });
                        }
                    });
                    self.rec.on_failed(FailReason::Terminated, n);
                    self.llm_levels(r, now);
                    self.inflight.add(now, -(n as f64));
                    self.ended(now, now, n);
                    self.remove(r, now);
                }
            }
        }
    }

    /// The rows of every request, in arrival order, once the run is over: what is still held
    /// (queued, in service, on a step, waiting for a replica) is in flight, or terminated if its
    /// replica is gone (it failed at the drain deadline, its completion still pending).
    fn take_requests(&mut self) -> Vec<RequestRow> {
        let Some(mut rows) = self.requests.take() else { return Vec::new() };
        let llm = self.llm.is_some();
        let in_flight = |w: &Waiting, r: u32| waiting_row(w, r, NONE_TIME, Outcome::InFlight, llm);
        rows.extend(self.held.iter().map(|w| in_flight(w, NONE_COUNT)));
        for &r in &self.cluster.alive {
            let work = &self.cluster.replicas[r as usize].work;
            if let Some(l) = work.llm_ref() {
                rows.extend(l.requests().map(|q| llm_row(q, r, NONE_TIME, Outcome::InFlight)));
            } else {
                let mut i = 0;
                while let Some(w) = work.queued(i) {
                    rows.push(in_flight(w, r));
                    i += 1;
                }
            }
        }
        if !llm {
            for c in self.completions.iter() {
                let t = self.tickets.slots[c.ticket as usize];
                let rep = &self.cluster.replicas[c.replica as usize];
                let (end, outcome) = if rep.state == RState::Gone {
                    (rep.gone_at, Outcome::Failed(FailReason::Terminated))
                } else {
                    (NONE_TIME, Outcome::InFlight)
                };
                rows.push(RequestRow::plain(t.id, t.arrival, c.replica, end, outcome));
            }
        }
        rows.sort_unstable_by_key(|r| r.id);
        rows
    }

    /// Fills `self.pods` with what the Kubernetes API would show at `now`.
    fn fill_pods(&mut self, now: Time) {
        self.pods.clear();
        let request = self.sc.service.cpu.request_cores;
        for &r in &self.cluster.alive {
            let rep = &self.cluster.replicas[r as usize];
            let running = now >= rep.started;
            self.pods.push(PodView {
                id: r,
                phase: if running { PodPhase::Running } else { PodPhase::Pending },
                ready: rep.state == RState::Ready,
                deleting: rep.state == RState::Draining,
                requested_at: rep.created,
                start_time: running.then_some(rep.started),
                ready_transition: rep.ready_at.unwrap_or(rep.started),
                cpu_request: request,
                cpu_seconds: if self.pod_cpu { rep.cpu.at(now) } else { f64::NAN },
                in_flight: rep.outstanding(),
                memory_bytes: self.sc.service.memory.usage(rep.outstanding()),
                memory_request: self.sc.service.memory.request_bytes,
            });
        }
    }

    /// Brings the number of non-draining replicas to `desired`.
    fn scale_to(&mut self, now: Time, desired: u32) {
        let current = self.cluster.current();
        if desired > current {
            for _ in current..desired {
                let startup = from_secs_f64(self.sc.service.startup.sample(&mut self.startup_rng));
                let pending = match &self.sc.service.pending {
                    Some(d) => from_secs_f64(d.sample(&mut self.startup_rng)).min(startup),
                    None => 0,
                };
                let placed = self.placement.place(now, pending, startup);
                let r = self.cluster.add(now, RState::Starting, self.sc.service.cpu.idle_cores);
                self.cluster.replicas[r as usize].started = placed.running;
                self.billed.add(now, 1.0);
                self.push_lifecycle(placed.ready, Lifecycle::Ready, r);
            }
        } else {
            for _ in desired..current {
                // Not-ready replicas go first (newest first), then the newest ready ones drain.
                if let Some(r) = self.cluster.newest(RState::Starting) {
                    self.remove(r, now);
                } else if let Some(r) = self.cluster.newest(RState::Ready) {
                    let busy = self.cluster.replicas[r as usize].work.in_service();
                    if let (Some(m), Some(l)) = (self.llm, self.cluster.replicas[r as usize].work.llm_ref()) {
                        // Its KV usage leaves the ready replicas' mean.
                        self.kv_ready.add(now, -(l.seen.used as f64) / m.kv_blocks as f64);
                    }
                    self.cluster.set_state(r, RState::Draining);
                    self.ready.add(now, -1.0);
                    self.rec.on_ready(now, self.cluster.ready_count());
                    self.busy_ready.add(now, -(busy as f64));
                    if self.cluster.replicas[r as usize].work.is_idle() {
                        self.remove(r, now);
                    } else {
                        self.push_lifecycle(now + self.sc.service.grace, Lifecycle::DrainDeadline, r);
                    }
                }
            }
        }
        self.peak = self.peak.max(self.cluster.billed());
    }
}

/// The row of a request that ended (`outcome`) at `end` while waiting for a worker, a replica or
/// an LLM step (`llm`: the service is an LLM one, so its prompt is known).
fn waiting_row(w: &Waiting, replica: u32, end: Time, outcome: Outcome, llm: bool) -> RequestRow {
    let row = RequestRow::plain(w.id, w.arrival, replica, end, outcome);
    if llm { RequestRow { prompt_tokens: w.prompt_output().0, output_tokens: 0, ..row } } else { row }
}

/// The row of a request of an LLM replica `replica` that ended at `end` (`NONE_TIME`: in flight).
fn llm_row(q: &LlmReq, replica: u32, end: Time, outcome: Outcome) -> RequestRow {
    RequestRow {
        id: q.id,
        arrival: q.arrival,
        replica,
        first_token: if q.first == Time::MAX { NONE_TIME } else { q.first + q.overhead },
        end,
        prompt_tokens: q.p,
        output_tokens: q.g,
        outcome,
        preemptions: q.preemptions,
    }
}

/// How many replicas `policy` starts with on `sc` (all ready at time 0): its `initial`, or its
/// steady state ([`Start::Steady`]: the policy's own decision on the rate at time 0, clamped to
/// [min, max]; the metric history is then pre-filled with that steady state).
pub fn start_count(
    sc: &Scenario,
    policy: &PolicySpec,
    controller: &mut dyn crate::policy::Policy,
    history: &mut MetricsHistory,
) -> u32 {
    if policy.start != Start::Steady {
        return policy.initial;
    }
    let steady = SteadyState::of(sc);
    match controller.start_steady(&steady, policy.min, policy.max) {
        Some(n) => {
            let n = n.clamp(policy.min, policy.max);
            history.set_prior(steady.prior(n));
            n
        }
        None => policy.initial,
    }
}

/// The replicas each policy of `sc` starts with, and the steady state they start from
/// (`validate`): the same computation as a run's ([`start_count`]).
pub fn start_counts(sc: &Scenario) -> (SteadyState, Vec<u32>) {
    let run = crate::policy::RunContext {
        clock: &sc.clock,
        horizon: sc.duration,
        seed: sc.seed,
        traffic: &sc.traffic,
        demand: &sc.service.demand,
    };
    let counts = sc
        .policies
        .iter()
        .map(|p| {
            if p.start != Start::Steady {
                return p.initial;
            }
            let mut c = p.build(&run);
            start_count(sc, p, c.as_mut(), &mut MetricsHistory::new(SECOND))
        })
        .collect();
    (SteadyState::of(sc), counts)
}

/// Runs `policy` on `scenario` with `seed`; `progress` (if any) receives simulated microseconds
/// as recording intervals close.
pub fn simulate(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
) -> RunResult {
    simulate_detailed(scenario, policy, seed, replication, progress).0
}

/// Raw measurements of a run beyond its [`RunResult`], for validation against queueing theory
/// and for the step test.
#[derive(Debug, Clone)]
pub struct RunDetail {
    /// Latencies of served requests, microseconds.
    pub latency_us: LatencyHistogram,
    /// ∫ requests in the system dt over the run, request-seconds (L = this / duration).
    pub in_flight_integral: f64,
    /// The cumulative counters at the end of each recording interval, in order (one per
    /// `RunResult::intervals` row).
    pub interval_ends: Vec<Snapshot>,
    /// Latencies (µs) of the requests served in each recording interval, when
    /// [`Extras::interval_histograms`] asked for them; empty otherwise.
    pub interval_histograms: Vec<LatencyHistogram>,
    /// The decision [`Extras::explain_at`] asked for (the run stopped after it), if one was
    /// made before the horizon.
    pub explained: Option<ExplainedDecision>,
}

/// One decision of a run with its full account (`scalesim explain decision`).
#[derive(Debug, Clone)]
pub struct ExplainedDecision {
    /// The row the run logs for it (as in `decisions.csv`).
    pub row: DecisionRow,
    /// The policy's account.
    pub explanation: Explanation,
}

/// Optional engine features, all off by default (and then free).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// A closed-loop user population sending requests in addition to the scenario's traffic.
    pub closed_loop: Option<ClosedLoop>,
    /// Explicit recording-interval ends (increasing; the horizon always ends the last one)
    /// instead of every `record_interval`.
    pub record_marks: Option<Vec<Time>>,
    /// Keep each recording interval's latency histogram in [`RunDetail::interval_histograms`].
    pub interval_histograms: bool,
    /// A warm-up: the run's summary (requests, latencies, failures, cost, scaling actions,
    /// peak replicas, SLO-violation minutes) counts only what happens from the first
    /// recording-interval boundary at or after this time; the interval rows, the decisions and
    /// the ready-replica curve keep the whole run. 0 (the default) measures everything.
    pub measure_from: Time,
    /// Explain the first decision at or after this time and stop the run there (the policy's
    /// [`Policy::explain`] replaces `decide` from then on).
    pub explain_at: Option<Time>,
    /// Stop the run at the end of the first recording interval that violates the SLO (after
    /// the warm-up), to answer "does it meet the SLO?" (the oracle's capacity search) without
    /// simulating the rest. The result is then only good for that answer: its rows end there,
    /// and its summary mixes the part simulated with whole-horizon figures (billing).
    pub stop_at_slo_violation: bool,
    /// Keep one [`RequestRow`] per request in [`RunResult::requests`] (`run --requests`).
    pub requests: bool,
}

/// [`simulate`], also returning the raw [`RunDetail`].
pub fn simulate_detailed(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
) -> (RunResult, RunDetail) {
    simulate_with(scenario, policy, seed, replication, progress, &Extras::default())
}

/// [`simulate_detailed`] with optional [`Extras`]: the event loop. Each turn takes the earliest
/// event — at equal times in the fixed order record, snapshot, replica event, completion,
/// policy, closed-loop user, arrival — and hands it to its handler.
pub fn simulate_with(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
    extras: &Extras,
) -> (RunResult, RunDetail) {
    // One event loop per kind of replica, each compiled for it (see `replica::Work`).
    if scenario.service.llm.is_some() {
        run::<LlmReplica>(scenario, policy, seed, replication, progress, extras)
    } else {
        run::<WorkerQueue>(scenario, policy, seed, replication, progress, extras)
    }
}

/// The event loop of [`simulate_with`] for replicas of kind `W`.
fn run<W: Work>(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
    extras: &Extras,
) -> (RunResult, RunDetail) {
    let sc = scenario;
    let horizon = sc.duration;
    let run = crate::policy::RunContext {
        clock: &sc.clock,
        horizon,
        seed,
        traffic: &sc.traffic,
        demand: &sc.service.demand,
    };
    let mut controller = policy.build(&run);
    if extras.explain_at.is_some() {
        controller.prepare_explain();
    }
    let mut history = MetricsHistory::new(METRICS_HISTORY);
    let initial = start_count(sc, policy, controller.as_mut(), &mut history);
    let mut sim = Sim::<W>::new(sc, policy, seed, initial, extras);
    sim.pod_cpu = controller.reads_pod_cpu();
    let mut source = sc.traffic.source(seed, &sc.clock, horizon);
    let mut pending = source.next_arrival();
    history.push(sim.snapshot(0));
    let mut ticks = Ticks::new(sc, extras, controller.next_tick(None), sim.snapshot(0));
    let mut explained = None;
    let open_loop = sim.clients.is_open();
    loop {
        if open_loop {
            // The hot path: requests' arrivals and completions strictly before the next other
            // event (tick, replica event), in the loop's order (a completion before an arrival
            // at the same instant). Neither handler schedules another kind of event, except a
            // poke, which ends the stretch.
            let t_other = sim.lifecycle.peek().map_or(Time::MAX, |c| c.0.time).min(ticks.next());
            loop {
                let t_arrival = pending.map_or(Time::MAX, |a| a.time);
                let t_completion = sim.completions.peek().map_or(Time::MAX, |c| c.time);
                // (An LLM step start waits for the arrivals of its instant.)
                if t_completion < t_arrival
                    || (t_completion == t_arrival
                        && !(W::LLM && sim.completions.peek().is_some_and(Completion::is_step_start)))
                {
                    if t_completion >= t_other {
                        break;
                    }
                    let c = sim.completions.pop().expect("peeked");
                    sim.on_completion(c);
                } else {
                    if t_arrival >= t_other {
                        break;
                    }
                    let a = pending.take().expect("arrival is the next event");
                    sim.on_arrival(a);
                    pending = source.next_arrival();
                    if sim.poke {
                        // As below (the same lines, kept inline: moving them into a shared
                        // function made the whole loop 5-10 % slower, measured).
                        sim.poke = false;
                        if controller.poke_on_demand() {
                            ticks.next_policy = ticks.next_policy.min(t_arrival);
                        }
                        break;
                    }
                }
            }
        }
        let t_arrival = pending.map_or(Time::MAX, |a| a.time);
        let t_completion = sim.completions.peek().map_or(Time::MAX, |c| c.time);
        let step_start = W::LLM && sim.completions.peek().is_some_and(Completion::is_step_start);
        let t_lifecycle = sim.lifecycle.peek().map_or(Time::MAX, |c| c.0.time);
        let t_tick = ticks.next();
        let t_users = sim.clients.next_time();
        let t = t_arrival.min(t_completion).min(t_lifecycle).min(t_tick).min(t_users);
        if t > horizon {
            break;
        }
        if t == t_tick && t == ticks.next_record {
            if ticks.close_interval(&mut sim, t, progress) {
                break;
            }
        } else if t == t_tick && t == ticks.next_sample {
            history.push(sim.snapshot(t));
            ticks.next_sample += MetricsHistory::RESOLUTION;
        } else if t == t_lifecycle {
            let Reverse(c) = sim.lifecycle.pop().expect("peeked");
            sim.on_lifecycle(c);
        } else if t == t_completion && !step_start {
            let c = sim.completions.pop().expect("peeked");
            sim.on_completion(c);
        } else if t == t_tick && t == ticks.next_policy {
            explained = sim.on_policy_tick(t, controller.as_mut(), &history, policy, extras);
            if explained.is_some() {
                break;
            }
            ticks.next_policy = controller.next_tick(Some(t)).max(t + 1);
        } else if t == t_users {
            sim.on_user(t);
        } else if t != t_arrival {
            // The last thing at an instant: an LLM replica's step starts.
            let c = sim.completions.pop().expect("a step start is the next event");
            sim.on_completion(c);
        } else {
            let a = pending.take().expect("arrival is the next event");
            sim.on_arrival(a);
            pending = source.next_arrival();
            if sim.poke {
                // A request is held while the policy wants no replica: it may decide right away.
                sim.poke = false;
                if controller.poke_on_demand() {
                    ticks.next_policy = ticks.next_policy.min(t);
                }
            }
        }
    }
    let requests = sim.take_requests();
    let detail = RunDetail {
        latency_us: sim.rec.latency_histogram().clone(),
        in_flight_integral: sim.inflight.at(horizon),
        interval_ends: ticks.interval_ends,
        interval_histograms: ticks.interval_histograms,
        explained,
    };
    let in_flight = sim.cluster.in_flight() + sim.held.len() as u64;
    let billed = sim.billed.at(horizon);
    let mut result = sim.rec.finish(
        &policy.name,
        replication,
        seed,
        in_flight,
        billed - ticks.billed_at_measure,
        sim.peak,
    );
    result.foresight = controller.foresight();
    result.requests = requests;
    (result, detail)
}

/// The periodic ticks of a run — recording-interval ends, 1 s metric snapshots, policy
/// evaluations — and what closing an interval needs from the one before.
struct Ticks<'e> {
    extras: &'e Extras,
    horizon: Time,
    record: Time,
    warmup: Time,
    next_record: Time,
    next_sample: Time,
    next_policy: Time,
    last_record: Time,
    billed_at_last_record: f64,
    snap_at_last_record: Snapshot,
    /// Whether the summary measures yet (the warm-up of [`Extras::measure_from`] is over).
    measuring: bool,
    billed_at_measure: f64,
    interval_ends: Vec<Snapshot>,
    interval_histograms: Vec<LatencyHistogram>,
    /// The LLM integrals at the last interval end (KV usage, ready replicas, running, waiting).
    llm_at_last_record: [f64; 4],
}

impl<'e> Ticks<'e> {
    /// The ticks of a run starting at 0, the policy's first at `first_policy`.
    fn new(sc: &Scenario, extras: &'e Extras, first_policy: Time, snap0: Snapshot) -> Self {
        let mut ticks = Ticks {
            extras,
            horizon: sc.duration,
            record: sc.record_interval.max(1),
            warmup: sc.warmup,
            next_record: 0,
            next_sample: MetricsHistory::RESOLUTION,
            next_policy: first_policy,
            last_record: 0,
            billed_at_last_record: 0.0,
            snap_at_last_record: snap0,
            measuring: extras.measure_from == 0,
            billed_at_measure: 0.0,
            interval_ends: Vec::new(),
            interval_histograms: Vec::new(),
            llm_at_last_record: [0.0; 4],
        };
        ticks.next_record = ticks.boundary_after(0);
        ticks
    }

    /// The earliest tick.
    #[inline]
    fn next(&self) -> Time {
        self.next_record.min(self.next_sample).min(self.next_policy)
    }

    /// The recording-interval boundary after `t`: the next multiple of the interval, the
    /// warm-up's end (so every interval is either in it or out), or the next explicit mark.
    fn boundary_after(&self, t: Time) -> Time {
        let (record, warmup, horizon) = (self.record, self.warmup, self.horizon);
        match &self.extras.record_marks {
            // (The next multiple of the interval: the same as t + record on the grid.)
            None if t < warmup => ((t / record + 1) * record).min(warmup).min(horizon),
            None => ((t / record + 1) * record).min(horizon),
            Some(marks) => marks.iter().copied().find(|&m| m > t).unwrap_or(horizon).min(horizon),
        }
    }

    /// Closes the recording interval [last boundary, t): purges expired queue heads so timeouts
    /// are dated inside it, records the interval's row, and starts measuring at the end of the
    /// warm-up. Returns whether the run stops here (the horizon, or the first SLO-violating
    /// interval when [`Extras::stop_at_slo_violation`] asks for it).
    fn close_interval<W: Work>(
        &mut self,
        sim: &mut Sim<'_, W>,
        t: Time,
        progress: Option<&AtomicU64>,
    ) -> bool {
        if sim.timeout.is_some() {
            for i in 0..sim.cluster.alive.len() {
                let r = sim.cluster.alive[i];
                if W::LLM {
                    // Strictly before: a request whose deadline is the end of a step ending now
                    // is served if that step finishes it (steps end after this tick).
                    sim.llm_purge(r, t, false, true);
                } else {
                    sim.purge_expired(r, t);
                }
            }
        }
        sim.purge_held(t);
        let snap = sim.snapshot(t);
        let svc = &sim.sc.service;
        let rs = snap.ready_replica_seconds - self.snap_at_last_record.ready_replica_seconds;
        let cpu = (rs > 1e-9 && svc.cpu.request_cores > 0.0).then(|| {
            (snap.cpu_seconds - self.snap_at_last_record.cpu_seconds) / (rs * svc.cpu.request_cores)
        });
        let billed = sim.billed.at(t);
        let g = sim.gauges();
        if W::LLM {
            let now = [
                sim.kv_ready.at(t),
                snap.ready_replica_seconds,
                sim.llm_running.at(t),
                sim.llm_waiting.at(t),
            ];
            let d = |i: usize| now[i] - self.llm_at_last_record[i];
            sim.rec.set_llm_levels(LlmLevels { kv: d(0), ready: d(1), running: d(2), waiting: d(3) });
            self.llm_at_last_record = now;
        }
        if self.extras.interval_histograms {
            self.interval_histograms.push(sim.rec.interval_histogram().clone());
        }
        self.interval_ends.push(snap);
        sim.rec.close_interval(t, g, cpu, billed - self.billed_at_last_record, billed);
        if let Some(p) = progress {
            p.fetch_add(t - self.last_record, Ordering::Relaxed);
        }
        if t == self.warmup {
            // Peak replicas count from the end of the warm-up.
            sim.peak = sim.cluster.billed();
        }
        self.last_record = t;
        self.billed_at_last_record = billed;
        self.snap_at_last_record = snap;
        if !self.measuring && t >= self.extras.measure_from {
            // The warm-up ends: the summary starts here.
            self.measuring = true;
            sim.rec.start_measuring();
            self.billed_at_measure = billed;
            sim.peak = sim.cluster.billed();
        }
        self.next_record = if t >= self.horizon { Time::MAX } else { self.boundary_after(t) };
        t >= self.horizon || (self.extras.stop_at_slo_violation && sim.rec.slo_violated())
    }
}

#[cfg(test)]
mod tests;
