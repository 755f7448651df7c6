//! Load balancing: which ready replica gets the next request.
//!
//! The engine keeps the ready, non-draining replicas in a list in creation order and asks the
//! balancer for an index into it. Strategies: round robin, uniform random, least outstanding
//! requests (ties to the earliest), and power of two random choices.

use crate::rng::SimRng;
use rand::Rng;

/// A load-balancing strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalancerKind {
    /// Each request to the next replica in turn.
    #[default]
    RoundRobin,
    /// A uniformly random replica.
    Random,
    /// The replica with the fewest requests in service or queued.
    LeastOutstanding,
    /// The less loaded of two distinct random replicas.
    PowerOfTwo,
}

impl BalancerKind {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            BalancerKind::RoundRobin => "round_robin",
            BalancerKind::Random => "random",
            BalancerKind::LeastOutstanding => "least_outstanding",
            BalancerKind::PowerOfTwo => "power_of_two",
        }
    }

    /// Every strategy, for docs and error messages.
    pub const ALL: [BalancerKind; 4] = [
        BalancerKind::RoundRobin,
        BalancerKind::Random,
        BalancerKind::LeastOutstanding,
        BalancerKind::PowerOfTwo,
    ];
}

/// A balancer's state during one run.
#[derive(Debug)]
pub struct Balancer {
    kind: BalancerKind,
    /// Round robin: picks made so far (the next pick is `next % n`).
    next: u64,
    /// Round robin: `next % n_seen`, kept so that a pick over an unchanged `n` needs no division.
    at: u64,
    n_seen: u64,
}

impl Balancer {
    /// A fresh balancer.
    pub fn new(kind: BalancerKind) -> Balancer {
        Balancer { kind, next: 0, at: 0, n_seen: 0 }
    }

    /// Picks an index in `0..n` (n > 0); `outstanding(i)` is the load of candidate i.
    #[inline(always)]
    pub fn pick(&mut self, n: usize, outstanding: impl Fn(usize) -> u32, rng: &mut SimRng) -> usize {
        debug_assert!(n > 0);
        match self.kind {
            BalancerKind::RoundRobin => {
                let n = n as u64;
                if n != self.n_seen {
                    (self.at, self.n_seen) = (self.next % n, n);
                }
                let i = self.at as usize;
                self.next = self.next.wrapping_add(1);
                self.at += 1;
                if self.at == n {
                    self.at = 0;
                }
                if self.next == 0 {
                    // Wrapped round: `next % n` starts again from 0.
                    self.n_seen = 0;
                }
                i
            }
            BalancerKind::Random => rng.random_range(0..n),
            BalancerKind::LeastOutstanding => {
                let mut best = 0;
                let mut best_load = outstanding(0);
                for i in 1..n {
                    let l = outstanding(i);
                    if l < best_load {
                        best = i;
                        best_load = l;
                    }
                }
                best
            }
            BalancerKind::PowerOfTwo => {
                if n == 1 {
                    return 0;
                }
                let a = rng.random_range(0..n);
                let mut b = rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                if outstanding(b) < outstanding(a) { b } else { a }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    #[test]
    fn round_robin_cycles() {
        let mut b = Balancer::new(BalancerKind::RoundRobin);
        let mut r = stream(1, Stream::Balancer);
        let picks: Vec<usize> = (0..6).map(|_| b.pick(3, |_| 0, &mut r)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    /// Round robin is `picks % n` whatever `n` does between picks (the cached position is
    /// only a shortcut).
    #[test]
    fn round_robin_is_picks_mod_n_as_n_changes() {
        let mut b = Balancer::new(BalancerKind::RoundRobin);
        let mut r = stream(1, Stream::Balancer);
        let mut z = 7u64;
        for k in 0..10_000u64 {
            z = crate::rng::splitmix64(z);
            let n = if z.is_multiple_of(5) { 1 + (z >> 8) % 9 } else { 4 } as usize;
            assert_eq!(b.pick(n, |_| 0, &mut r), (k % n as u64) as usize, "pick {k} of {n}");
        }
    }

    #[test]
    fn least_outstanding_picks_min() {
        let mut b = Balancer::new(BalancerKind::LeastOutstanding);
        let mut r = stream(1, Stream::Balancer);
        let loads = [3, 1, 1, 5];
        assert_eq!(b.pick(4, |i| loads[i], &mut r), 1);
    }

    #[test]
    fn power_of_two_never_picks_the_worst_of_two() {
        let mut b = Balancer::new(BalancerKind::PowerOfTwo);
        let mut r = stream(1, Stream::Balancer);
        let loads = [100, 0];
        for _ in 0..100 {
            assert_eq!(b.pick(2, |i| loads[i], &mut r), 1);
        }
    }
}
