//! Deterministic pseudo-random numbers for the simulator: xoshiro256** seeded through
//! splitmix64 from `--seed`, plus the few distributions the traffic model needs (uniform,
//! normal, log-normal, Poisson).
//!
//! No `rand` crate and no clock: the same seed always yields the same run. The generator is
//! pure integer arithmetic; the distributions use `ln`/`exp`/`sqrt`/`cos`, whose last-bit
//! rounding may differ between C libraries, so runs are identical per platform. Independent
//! streams (world building, traffic) come from [`Rng::derive`] with a label, so adding draws to
//! one stream does not shift the other.

/// A xoshiro256** generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

/// One step of splitmix64, the recommended seeder for the xoshiro family.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over a label, to turn stream names into seeds.
fn hash_label(label: &str) -> u64 {
    label.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

impl Rng {
    /// A generator whose whole state is derived from `seed` (any value, including 0).
    pub fn new(seed: u64) -> Rng {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Rng { s }
    }

    /// An independent stream for `label` under `seed` (e.g. `"world"`, `"traffic"`).
    pub fn derive(seed: u64, label: &str) -> Rng {
        Rng::new(seed ^ hash_label(label).rotate_left(17))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n`; 0 when `n` is 0. Uses the multiply-shift reduction (bias below
    /// 2^-32 for the small `n` used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and shape `sigma` (standard deviation of the log).
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson-distributed count with mean `lambda` (Knuth's method up to 30, a rounded
    /// normal approximation above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            let x = lambda + lambda.sqrt() * self.normal();
            return x.round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// `n` characters drawn from `alphabet` (e.g. Kubernetes' pod-name suffix alphabet).
    pub fn pick_chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                let i = self.below(alphabet.len() as u64) as usize;
                alphabet.get(i).copied().map_or('x', char::from)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // Reference values of splitmix64 seeded with 0 (Vigna's published test vector).
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn same_seed_same_stream_and_labels_separate_streams() {
        let a: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
        assert_ne!(
            Rng::derive(7, "world").next_u64(),
            Rng::derive(7, "traffic").next_u64()
        );
    }

    #[test]
    fn distributions_have_the_requested_centre() {
        let mut rng = Rng::new(42);
        let n = 20_000;
        let mean_unit: f64 = (0..n).map(|_| rng.unit()).sum::<f64>() / n as f64;
        assert!((mean_unit - 0.5).abs() < 0.01, "{mean_unit}");
        let mean_poisson = (0..n).map(|_| rng.poisson(4.0)).sum::<u64>() as f64 / n as f64;
        assert!((mean_poisson - 4.0).abs() < 0.1, "{mean_poisson}");
        let mean_big = (0..n).map(|_| rng.poisson(50.0)).sum::<u64>() as f64 / n as f64;
        assert!((mean_big - 50.0).abs() < 0.3, "{mean_big}");
        let mut samples: Vec<f64> = (0..n).map(|_| rng.log_normal(100.0, 0.5)).collect();
        samples.sort_by(f64::total_cmp);
        let median = samples[n / 2];
        assert!((median - 100.0).abs() < 3.0, "{median}");
        assert!((0..1000).all(|_| rng.below(3) < 3));
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.poisson(0.0), 0);
    }

    #[test]
    fn pick_chars_uses_only_the_alphabet() {
        let s = Rng::new(1).pick_chars(b"bcd", 8);
        assert_eq!(s.len(), 8);
        assert!(s.chars().all(|c| "bcd".contains(c)));
    }
}
