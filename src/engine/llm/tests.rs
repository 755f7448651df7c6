//! Hand-computed cases of llm-serving.md §1, through the whole engine (one fixed replica, a
//! replayed trace), with the arithmetic in the comments. Step model for all of them:
//! `base` 10 ms, 1 ms per prefill token, 2 ms per decoding request, 0.1 ms per token of context;
//! blocks of 4 tokens; at most 4 running requests and 8 tokens a step.

use crate::balancer::BalancerKind;
use crate::dist::Dist;
use crate::engine::{Extras, simulate_with};
use crate::policy::PolicySpec;
use crate::record::FailReason;
use crate::record::requests::{NONE_TIME, Outcome, RequestRow};
use crate::scenario::{CostModel, Scenario};
use crate::service::llm::{LlmModel, StepModel};
use crate::service::{CpuModel, Demand, MemoryModel, ServiceModel};
use crate::time::{Clock, SECOND, Time};
use crate::traffic::TrafficSpec;
use crate::traffic::trace::{ReplayOptions, RequestTrace};
use std::sync::Arc;

const MS: Time = 1000;

fn model(kv_blocks: u32) -> LlmModel {
    LlmModel {
        max_num_seqs: 4,
        max_num_batched_tokens: 8,
        block_size: 4,
        kv_blocks,
        max_model_len: kv_blocks * 4,
        step: StepModel::Linear {
            base: 0.010,
            prefill_token: 0.001,
            decode_token: 0.002,
            context_token: 0.0001,
        },
        gpu: None,
    }
}

/// Runs `requests` (arrival in seconds, prompt, output) on one replica; returns their rows.
fn run(
    m: LlmModel,
    requests: &[(f64, u32, u32)],
    timeout: Option<Time>,
    queue_limit: Option<u32>,
) -> Vec<RequestRow> {
    let mut sizes = Vec::new();
    for &(_, p, o) in requests {
        let mut s = [0.0; crate::traffic::MAX_SIZES];
        s[0] = p as f64;
        s[1] = o as f64;
        sizes.push(s);
    }
    let trace = RequestTrace {
        times: requests.iter().map(|r| r.0).collect(),
        sizes,
        size_columns: vec!["p".into(), "o".into()],
    };
    let service = ServiceModel {
        workers: 1,
        queue_limit,
        timeout,
        demand: Demand::Dist(Dist::Deterministic { value: 0.0 }),
        slowdown: None,
        overhead: None,
        startup: Dist::Deterministic { value: 30.0 },
        pending: None,
        grace: 30 * SECOND,
        cpu: CpuModel::default(),
        memory: MemoryModel::default(),
        llm: Some(m),
    };
    let sc = Scenario {
        name: "llm".into(),
        duration: 60 * SECOND,
        clock: Clock::utc_monday(60 * SECOND),
        seed: 1,
        record_interval: 60 * SECOND,
        warmup: 0,
        slo: None,
        traffic: TrafficSpec::replay(Arc::new(trace), ReplayOptions::default()),
        service,
        balancer: BalancerKind::RoundRobin,
        cost: CostModel { per_replica_hour: 1.0, currency: "USD".into() },
        policies: vec![PolicySpec::fixed("one", 1)],
    };
    let extras = Extras { requests: true, ..Extras::default() };
    let (result, _) = simulate_with(&sc, &sc.policies[0], 1, 0, None, &extras);
    let s = &result.summary;
    assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end, "{s:?}");
    assert_eq!(result.requests.len() as u64, s.requests);
    result.requests
}

/// (first token, end, preemptions) of a served request.
fn served(r: &RequestRow) -> (Time, Time, u32) {
    assert_eq!(r.outcome, Outcome::Served, "{r:?}");
    (r.first_token, r.end, r.preemptions)
}

#[test]
fn one_request_ttft_is_base_plus_prefill() {
    // p = 5, o = 3, arriving at 0, alone.
    // Step 1 at 0: the whole prompt, P = 5: 10 + 5·1 = 15 ms. c = 5 = p + g: first token at 15 ms.
    // Step 2 at 15: decoding, D = 1, C = 5: 10 + 2 + 0.5 = 12.5 ms → 27.5 ms, g = 2.
    // Step 3 at 27.5: D = 1, C = 6: 10 + 2 + 0.6 = 12.6 ms → 40.1 ms, g = 3 = o: served.
    let rows = run(model(100), &[(0.0, 5, 3)], None, None);
    assert_eq!(served(&rows[0]), (15 * MS, 40_100, 0));
    assert_eq!((rows[0].prompt_tokens, rows[0].output_tokens, rows[0].replica), (5, 3, 0));
}

#[test]
fn a_long_prompt_is_chunked_by_the_token_budget() {
    // p = 20, o = 1, budget 8 tokens a step: chunks of 8, 8, 4.
    // 10 + 8 = 18 ms, 18 ms, then 10 + 4 = 14 ms: c = 20 = p at 50 ms, the one token: served.
    let rows = run(model(100), &[(0.0, 20, 1)], None, None);
    assert_eq!(served(&rows[0]), (50 * MS, 50 * MS, 0));
}

#[test]
fn two_requests_share_steps() {
    // A at 0 (p 4, o 3); B at 5 ms (p 4, o 2), while A's first step runs.
    // 0: A's prompt, P = 4: 14 ms → 14. A: c = 4, first token.
    // 14: running pass A decodes (1 token, C = 4); waiting pass admits B (4 tokens, budget 7).
    //     10 + 4·1 + 1·2 + 0.4 = 16.4 ms → 30.4. A: g = 2. B: c = 4, first token (TTFT 25.4).
    // 30.4: both decode, D = 2, C = 5 + 4 = 9: 10 + 4 + 0.9 = 14.9 ms → 45.3: A g = 3 = o, B g = 2 = o.
    let rows = run(model(100), &[(0.0, 4, 3), (0.005, 4, 2)], None, None);
    assert_eq!(served(&rows[0]), (14 * MS, 45_300, 0));
    assert_eq!(served(&rows[1]), (30_400, 45_300, 0));
}

#[test]
fn arrivals_at_one_instant_join_the_same_step() {
    // Two requests at 0 (p 3 and 4, o 1): the step starts after both are routed: P = 7,
    // 10 + 7 = 17 ms, both served at 17 ms.
    let rows = run(model(100), &[(0.0, 3, 1), (0.0, 4, 1)], None, None);
    assert_eq!(served(&rows[0]), (17 * MS, 17 * MS, 0));
    assert_eq!(served(&rows[1]), (17 * MS, 17 * MS, 0));
}

#[test]
fn the_last_running_request_is_preempted_and_recomputed() {
    // K = 3 blocks of 4 tokens. A at 0 (p 4, o 6), B at 1 ms (p 4, o 6).
    // 0: A's prompt (1 block, free 2): 14 ms → 14; A first token, c 4.
    // 14: A decodes (c 4 → 5 needs block 2, free 1); B admitted (4 tokens, 1 block, free 0):
    //     10 + 4 + 2 + 0.4 = 16.4 → 30.4. A g 2 (c 5); B c 4, g 1: first token at 30.4.
    // 30.4: A (c 5 → 6, no block); B (c 4 → 5 needs a block, none free): B is the last running
    //     request: preempted (frees 1 block, c = 0, to the head of waiting), and it was r itself,
    //     so the pass ends and nothing is admitted. A alone: 10 + 2 + 0.5 = 12.5 → 42.9 (c 6, g 3).
    // 42.9: A (c 7); B needs blocks(p + g = 5) = 2 > 1 free: stays. 12.6 → 55.5 (g 4).
    // 55.5: A (c 8): 12.7 → 68.2 (g 5).
    // 68.2: A (c 8 → 9 needs block 3: the free one): 12.8 → 81.0: g 6 = o, A served; 3 free.
    // 81.0: B recomputes p + g = 5 tokens (a prefill: 2 blocks): 10 + 5 = 15 → 96.0, and samples
    //     its second token (c = 5 = p + g).
    // 96.0: B decodes, C 5: 12.5 → 108.5 (g 3); C 6: 12.6 → 121.1 (g 4); C 7: 12.7 → 133.8
    //     (g 5); C 8 (block 3): 12.8 → 146.6: g 6 = o, served.
    let rows = run(model(3), &[(0.0, 4, 6), (0.001, 4, 6)], None, None);
    assert_eq!(served(&rows[0]), (14 * MS, 81 * MS, 0));
    assert_eq!(served(&rows[1]), (30_400, 146_600, 1));
}

#[test]
fn too_long_prompts_are_refused_and_outputs_capped() {
    // max_model_len = 3 · 4 = 12. p = 12 ≥ 12: too_long at its arrival, never routed.
    // p = 10, o = 5: o capped at 12 − 10 = 2. Step 1: P = 10 but the budget is 8:
    // 18 ms → 18; then 2 tokens: 12 ms → 30: first token. Decode C = 10: 10 + 2 + 1 = 13 → 43.
    let rows = run(model(3), &[(0.0, 12, 4), (0.0, 10, 5)], None, None);
    assert_eq!(rows[0].outcome, Outcome::Failed(FailReason::TooLong));
    assert_eq!((rows[0].replica, rows[0].end, rows[0].output_tokens), (u32::MAX, 0, 0));
    assert_eq!(served(&rows[1]), (30 * MS, 43 * MS, 0));
    assert_eq!(rows[1].output_tokens, 2);
}

#[test]
fn queue_limit_counts_waiting_requests_only() {
    // queue_limit 1. A at 0 is admitted into the first step at once (running, not waiting);
    // B at 1 ms waits (1 waiting); C at 2 ms finds 1 waiting: queue_full.
    let rows = run(model(100), &[(0.0, 4, 2), (0.001, 4, 1), (0.002, 4, 1)], None, Some(1));
    assert_eq!(rows[0].outcome, Outcome::Served);
    assert_eq!(rows[1].outcome, Outcome::Served);
    assert_eq!(rows[2].outcome, Outcome::Failed(FailReason::QueueFull));
    assert_eq!((rows[2].replica, rows[2].end), (0, 2 * MS));
}

#[test]
fn timeouts_leave_at_their_deadline_unless_the_step_ending_then_finishes_them() {
    // One request p 5, o 3 (steps end at 15, 27.5, 40.1 ms, as in the first case).
    // Timeout 40.1 ms: its last step ends exactly at its deadline: served.
    let rows = run(model(100), &[(0.0, 5, 3)], Some(40_100), None);
    assert_eq!(served(&rows[0]), (15 * MS, 40_100, 0));
    // Timeout 30 ms: mid-step (27.5 → 40.1): it leaves at 30 ms with 2 tokens emitted.
    let rows = run(model(100), &[(0.0, 5, 3)], Some(30 * MS), None);
    let r = &rows[0];
    assert_eq!(r.outcome, Outcome::Failed(FailReason::Timeout));
    assert_eq!((r.first_token, r.end, r.output_tokens), (15 * MS, 30 * MS, 2));
}

#[test]
fn unfinished_requests_are_in_flight_at_the_horizon() {
    // 60 s run; a request arriving at 59.99 s with a 30-token prompt needs 4 steps (18 + 18 +
    // 18 + 16 = 70 ms): still running at the end.
    let rows = run(model(100), &[(59.99, 30, 2)], None, None);
    assert_eq!(rows[0].outcome, Outcome::InFlight);
    assert_eq!((rows[0].end, rows[0].first_token), (NONE_TIME, NONE_TIME));
}
