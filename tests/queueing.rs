//! Golden tests against queueing theory (../shared/reference/queueing.md): one replica with c
//! workers, Poisson arrivals and exponential service is an M/M/c queue (M/M/c/K with a bounded
//! queue). Runs have ≥ 500 k customers so the ±2 % tolerances hold with a wide margin.

mod common;

use common::{mmc_service, scenario};
use scalesim::dist::Dist;
use scalesim::engine::simulate_detailed;
use scalesim::policy::PolicySpec;
use scalesim::record::FailReason;
use scalesim::service::Demand;

/// Fraction of served requests slower than `t_s` seconds.
fn tail(h: &scalesim::record::LatencyHistogram, t_s: f64) -> f64 {
    let t_us = (t_s * 1e6) as u64;
    let above: u64 = h.recorded().filter(|&(v, _)| v > t_us).map(|(_, n)| n).sum();
    above as f64 / h.len() as f64
}

/// Relative difference, printed so `cargo test --test queueing -- --nocapture` shows the figures.
fn rel(a: f64, b: f64) -> f64 {
    let d = (a / b - 1.0).abs();
    eprintln!("measured {a:.6} expected {b:.6} ({:+.2} %)", (a / b - 1.0) * 100.0);
    d
}

/// Runs M/M/c with rate `lambda`, mean service `mean_s`, `c` workers, for `secs`.
fn mmc(
    lambda: f64,
    mean_s: f64,
    c: u32,
    secs: u64,
    seed: u64,
) -> (scalesim::record::RunResult, scalesim::engine::RunDetail) {
    let sc = scenario(lambda, secs, mmc_service(c, mean_s), vec![PolicySpec::fixed("one", 1)]);
    simulate_detailed(&sc, &sc.policies[0], seed, 0, None)
}

#[test]
fn mmc_rho_08_mean_and_tail() {
    // λ = 100/s, μ = 12.5/s (80 ms), c = 10: the λ=8, μ=1 row scaled by 1/12.5.
    let (r, d) = mmc(100.0, 0.08, 10, 6000, 11);
    assert!(r.summary.served > 590_000);
    let w = r.summary.latency_mean_s.unwrap();
    assert!(rel(w, 0.0963672060) < 0.02, "W = {w}");
    for (t, p) in [(0.04, 0.7041820013), (0.08, 0.4630318948), (0.16, 0.1832173990)] {
        let got = tail(&d.latency_us, t);
        assert!(rel(got, p) < 0.02, "P(W > {t}) = {got}, expected {p}");
    }
    // p95 / p99 of W.
    assert!(rel(r.summary.latency_p95_s.unwrap(), 0.2662619743) < 0.03);
    assert!(rel(r.summary.latency_p99_s.unwrap(), 0.3956889062) < 0.03);
}

#[test]
fn mmc_rho_089_mean_and_tail() {
    // λ = 80/s, μ = 10/s, c = 9: the λ=8, μ=1, c=9 row scaled by 1/10.
    let (r, d) = mmc(80.0, 0.1, 9, 12_500, 5);
    assert!(r.summary.served > 990_000);
    let w = r.summary.latency_mean_s.unwrap();
    assert!(rel(w, 0.16533269283) < 0.02, "W = {w}");
    for (t, p) in [(0.05, 0.8046620661), (0.1, 0.6082249864), (0.2, 0.3121716530)] {
        let got = tail(&d.latency_us, t);
        assert!(rel(got, p) < 0.02, "P(W > {t}) = {got}, expected {p}");
    }
}

#[test]
fn mmc_d_zero_special_case() {
    // λ = 90/s, μ = 10/s, c = 10: d = c − 1 − a = 0.
    let (r, d) = mmc(90.0, 0.1, 10, 12_000, 3);
    let w = r.summary.latency_mean_s.unwrap();
    assert!(rel(w, 0.16687315241) < 0.02, "W = {w}");
    let got = tail(&d.latency_us, 0.1);
    assert!(rel(got, 0.6138920206) < 0.02, "P(W > 0.1) = {got}");
}

#[test]
fn littles_law_holds() {
    let secs = 6000;
    let (r, d) = mmc(100.0, 0.08, 10, secs, 2);
    let l = d.in_flight_integral / secs as f64;
    let lambda = r.summary.requests as f64 / secs as f64;
    let w = r.summary.latency_mean_s.unwrap();
    // Measured L against measured λW (exact up to end effects) and against the closed form.
    assert!(rel(l, lambda * w) < 0.005, "L = {l}, λW = {}", lambda * w);
    assert!(rel(l, 9.6367206032) < 0.02, "L = {l}");
}

fn mmck_loss(lambda: f64, c: u32, k: u32, secs: u64) -> f64 {
    let mut svc = mmc_service(c, 0.1);
    svc.queue_limit = Some(k - c);
    let sc = scenario(lambda, secs, svc, vec![PolicySpec::fixed("one", 1)]);
    let (r, _) = simulate_detailed(&sc, &sc.policies[0], 9, 0, None);
    let s = &r.summary;
    assert_eq!(s.failed, s.failed_by_reason[FailReason::QueueFull as usize]);
    assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end);
    s.failed as f64 / s.requests as f64
}

#[test]
fn mmck_loss_probability() {
    // μ = 10/s: λ = 80 is the λ=8 rows, λ = 120 the overloaded λ=12 row.
    for (lambda, k, p) in [(80.0, 10, 0.1216610643), (80.0, 12, 0.0662556294), (120.0, 15, 0.2032608989)] {
        let got = mmck_loss(lambda, 10, k, 8000);
        assert!(rel(got, p) < 0.05, "λ={lambda} K={k}: loss {got}, expected {p}");
    }
}

#[test]
fn md1_pollaczek_khinchine() {
    // M/D/1, λ = 8/s, S = 100 ms: W = 0.3 s.
    let mut svc = mmc_service(1, 0.1);
    svc.demand = Demand::Dist(Dist::Deterministic { value: 0.1 });
    let sc = scenario(8.0, 80_000, svc, vec![PolicySpec::fixed("one", 1)]);
    let (r, _) = simulate_detailed(&sc, &sc.policies[0], 4, 0, None);
    let w = r.summary.latency_mean_s.unwrap();
    assert!(rel(w, 0.3) < 0.03, "W = {w}");
}
