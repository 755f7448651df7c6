//! Random-number streams.
//!
//! One seed fixes a whole run. Each purpose (arrivals, service demand, startup times, load
//! balancer, …) draws from its own independent stream, derived from the seed with SplitMix64 and
//! fed to Xoshiro256++ (`rand_xoshiro`, whose output is specified and stable across versions).
//! Because streams are separate, request k gets the same service demand under every policy
//! (common random numbers) even though policies consume other streams differently.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every stream uses.
pub type SimRng = Xoshiro256PlusPlus;

/// What a random stream is for. Adding a purpose never changes the others' numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Arrival times (and the random parts of traffic: noise, modulation).
    Arrivals = 1,
    /// Per-request service demand, drawn once per request in arrival order.
    Demand = 2,
    /// Replica startup (cold-start) times, drawn once per replica in creation order.
    Startup = 3,
    /// Load-balancer choices.
    Balancer = 4,
    /// Traffic-shape noise (random walk).
    Noise = 5,
    /// Anything a policy draws (jitter).
    Policy = 6,
    /// Closed-loop users' think times (see `engine::ClosedLoop`).
    Users = 7,
    /// Per-request overhead outside the replica (`service.overhead`), drawn once per request in
    /// arrival order.
    Overhead = 8,
    /// Per-request prompt and output tokens of synthetic traffic (`[traffic.tokens]`), drawn
    /// once per request in arrival order.
    Tokens = 9,
}

/// The largest base seed: 2^63 − 1, the largest integer a TOML file holds, so that every seed
/// a command accepts can be written into the scenario files it writes (scenario.toml,
/// best.toml) and read back, and a run of those files reproduces the run that wrote them.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// Checks a base seed is within 0..=[`MAX_SEED`]: the one check of every entry point (`--seed`
/// of run, tune and explain decision, `--set simulation.seed=`, `[simulation] seed`, the
/// settings a shard recorded). The error says what was found and what to do.
pub fn check_seed(seed: u64) -> Result<u64, String> {
    if seed <= MAX_SEED {
        Ok(seed)
    } else {
        Err(format!(
            "found the seed {seed}, above {MAX_SEED} (2^63 − 1, the largest integer a scenario file \
             can hold, so the scenario.toml a run writes could not be run again); expected a seed \
             from 0 to {MAX_SEED}"
        ))
    }
}

/// SplitMix64 step: a good, cheap mixer for deriving seeds.
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `purpose` under `seed`.
pub fn stream(seed: u64, purpose: Stream) -> SimRng {
    let s = splitmix64(splitmix64(seed) ^ splitmix64(0xA5A5_0000 + purpose as u64));
    SimRng::seed_from_u64(s)
}

/// The seed of replication `index` (0-based) of a scenario whose base seed is `seed`.
pub fn replication_seed(seed: u64, index: u32) -> u64 {
    if index == 0 { seed } else { splitmix64(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_distinct_and_reproducible() {
        let a: u64 = stream(7, Stream::Arrivals).random();
        let b: u64 = stream(7, Stream::Demand).random();
        let a2: u64 = stream(7, Stream::Arrivals).random();
        let c: u64 = stream(8, Stream::Arrivals).random();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
