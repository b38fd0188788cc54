//! Uniform draws from the OS CSPRNG (`ring`), for everything a session must
//! make unpredictable: challenge actions and their timing, flash colours and
//! durations. Never seeded from time; rejection sampling, so no modulo bias.

use ring::rand::SecureRandom;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the OS random generator is unavailable")]
pub struct RandomnessUnavailable;

/// A uniform integer in 0..n (n > 0).
pub fn uniform(rng: &dyn SecureRandom, n: u32) -> Result<u32, RandomnessUnavailable> {
    assert!(n > 0, "uniform(0)");
    let limit = u32::MAX - u32::MAX % n;
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b).map_err(|_| RandomnessUnavailable)?;
        let v = u32::from_le_bytes(b);
        if v < limit {
            return Ok(v % n);
        }
    }
}

/// A uniform duration in min..=max ms on a 10 ms grid, from `uniform(n)`, a
/// uniform integer in 0..n (`uniform` above in the SDK).
pub fn duration_ms<E>(min: u32, max: u32, uniform: impl FnOnce(u32) -> Result<u32, E>) -> Result<u32, E> {
    Ok(min + 10 * uniform(max.saturating_sub(min) / 10 + 1)?)
}
