//! `[traffic.tokens]`: prompt and output tokens for synthetic traffic (an LLM service needs
//! both for every request). Each arrival's two counts are drawn from their own random stream
//! (`rng::Stream::Tokens`) in arrival order, so request k has the same tokens under every
//! policy, and filled into its first two sizes — where a trace with two size columns puts them.

use super::{Arrival, ArrivalSource};
use crate::dist::Dist;
use crate::rng::SimRng;

/// One token count's distribution: a draw rounded to the nearest whole number, at least 1 and
/// at most `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenDist {
    /// The distribution drawn from.
    pub dist: Dist,
    /// The largest count (a draw above is capped).
    pub max: u32,
}

impl TokenDist {
    /// One count.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        let x = self.dist.sample(rng).round();
        if x >= self.max as f64 {
            self.max
        } else if x >= 1.0 {
            x as u32
        } else {
            1
        }
    }
}

/// Prompt and output token distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMix {
    /// Prompt tokens.
    pub prompt: TokenDist,
    /// Output tokens.
    pub output: TokenDist,
}

/// The names of the two sizes the token mix fills.
pub const TOKEN_COLUMNS: [&str; 2] = ["prompt_tokens", "output_tokens"];

/// Wraps an arrival source: each arrival gets its prompt and output tokens.
pub(super) struct TokenSource {
    pub inner: Box<dyn ArrivalSource>,
    pub mix: std::sync::Arc<TokenMix>,
    pub rng: SimRng,
}

impl ArrivalSource for TokenSource {
    fn next_arrival(&mut self) -> Option<Arrival> {
        let mut a = self.inner.next_arrival()?;
        a.sizes[0] = self.mix.prompt.sample(&mut self.rng) as f64;
        a.sizes[1] = self.mix.output.sample(&mut self.rng) as f64;
        Some(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_and_within_one_and_max() {
        let d = TokenDist { dist: Dist::lognormal_mean_sigma(200.0, 1.5), max: 1000 };
        let mut r = crate::rng::stream(3, crate::rng::Stream::Tokens);
        let xs: Vec<u32> = (0..20_000).map(|_| d.sample(&mut r)).collect();
        assert!(xs.iter().all(|&x| (1..=1000).contains(&x)));
        assert!(xs.contains(&1000) && xs.contains(&1));
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64;
        // Capping at 1000 lowers the mean of 200 (σ 1.5: about 8 % of the mass is above).
        assert!((100.0..200.0).contains(&mean), "{mean}");
    }
}
