//! Raffles: entries during a window, a draw anyone can verify at its end, and places that roll
//! down the draw order.
//!
//! The draw is commit-and-reveal: the server picks a secret 32-byte seed when the raffle is
//! created and publishes only `SHA-256(seed)`; at the draw it publishes the seed, the entrants in
//! canonical order and the draw order, which [`draw_order`] recomputes from the first two. The
//! algorithm ([`ALGORITHM`]) is, precisely:
//!
//! 1. **Canonical order**: the entry ids (UUIDs) in ascending order of their 16 bytes, which is
//!    the ascending order of their lowercase hyphenated text.
//! 2. **Random stream**: the ChaCha20 keystream (RFC 8439's block function, 20 rounds) with the
//!    seed as the 256-bit key, an all-zero nonce and the block counter starting at 0, read as
//!    consecutive little-endian unsigned 64-bit integers `x₀, x₁, …`.
//! 3. **Uniform integer below `n`**: `t = (2⁶⁴ − n) mod n`; take the next `x` from the stream
//!    until `x ≥ t`, and answer `x mod n` (rejection sampling, without bias).
//! 4. **Shuffle** (Fisher–Yates): with `a` the canonical list of `n` ids, for `i` from `n − 1`
//!    down to 1, draw `j` uniform below `i + 1` and swap `a[i]` and `a[j]`. The draw order is
//!    `a`; `a[0]` is drawn first.

use chrono::{DateTime, TimeDelta, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::validation::{FieldErrors, time};

/// The name of the draw algorithm, published with every draw.
pub const ALGORITHM: &str = "chacha20-fisher-yates-v1";
/// How long entries stay open after a raffle drop opens, unless its seller says otherwise.
pub const DEFAULT_ENTRY_WINDOW: TimeDelta = TimeDelta::hours(1);
/// How long a winner may buy, unless the seller says otherwise.
pub const DEFAULT_CLAIM_WINDOW_MINUTES: i64 = 60;
/// The longest claim window a seller may set: a week.
pub const MAX_CLAIM_WINDOW_MINUTES: i64 = 7 * 24 * 60;

/// How a limited thing chooses who gets it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Whoever reaches the gate while stock remains.
    #[default]
    Fcfs,
    /// Entries during a window, then a verifiable draw; winners buy in their claim windows.
    Raffle,
}

impl Allocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Allocation::Fcfs => "fcfs",
            Allocation::Raffle => "raffle",
        }
    }
}

impl std::str::FromStr for Allocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fcfs" => Ok(Allocation::Fcfs),
            "raffle" => Ok(Allocation::Raffle),
            other => Err(format!("unknown allocation {other:?}")),
        }
    }
}

/// What a seller sets on a raffle; `None` takes the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RaffleTerms {
    pub entries_close_at: Option<DateTime<Utc>>,
    pub claim_window_minutes: Option<i64>,
}

/// A raffle's terms as stored, once they meet every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidRaffleTerms {
    pub entries_close_at: DateTime<Utc>,
    pub claim_window_minutes: i32,
}

impl RaffleTerms {
    /// Every rule for a raffle held in the window `[opens_at, closes_at)`: entries close inside
    /// it, so that winners have time left to buy.
    pub fn validate(
        &self,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> Result<ValidRaffleTerms, FieldErrors> {
        let mut errors = FieldErrors::new();
        let entries_close_at = self
            .entries_close_at
            .unwrap_or_else(|| opens_at + DEFAULT_ENTRY_WINDOW);
        errors.check(
            opens_at < entries_close_at && entries_close_at < closes_at,
            "raffle.entries_close_at",
            "must be after opens_at and before closes_at",
        );
        let claim_window_minutes = self
            .claim_window_minutes
            .unwrap_or(DEFAULT_CLAIM_WINDOW_MINUTES);
        let claim_window_minutes = i32::try_from(claim_window_minutes)
            .ok()
            .filter(|minutes| (1..=MAX_CLAIM_WINDOW_MINUTES).contains(&i64::from(*minutes)));
        if claim_window_minutes.is_none() {
            errors.add(
                "raffle.claim_window_minutes",
                format!("must be between 1 and {MAX_CLAIM_WINDOW_MINUTES}"),
            );
        }
        let entries_close_at = time(&mut errors, "raffle.entries_close_at", entries_close_at);
        match (entries_close_at, claim_window_minutes) {
            (Some(entries_close_at), Some(claim_window_minutes)) if errors.is_empty() => {
                Ok(ValidRaffleTerms {
                    entries_close_at,
                    claim_window_minutes,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A raffle's secret seed.
pub type Seed = [u8; 32];

/// The published commitment to a seed: its SHA-256, in lowercase hex.
pub fn seed_commitment(seed: &Seed) -> String {
    hex::encode(Sha256::digest(seed))
}

/// The entrants in draw order: `entrants` sorted into canonical order, then shuffled as the
/// module's documentation says.
pub fn draw_order(seed: &Seed, entrants: &[Uuid]) -> Vec<Uuid> {
    let mut order = entrants.to_vec();
    order.sort_unstable();
    let mut stream = ChaCha20Rng::from_seed(*seed);
    for i in (1..order.len()).rev() {
        let j = uniform_below(&mut stream, i as u64 + 1);
        order.swap(i, j as usize);
    }
    order
}

/// A uniform integer below `n` (n ≥ 1), by rejection: no value is likelier than another.
fn uniform_below(stream: &mut ChaCha20Rng, n: u64) -> u64 {
    let threshold = n.wrapping_neg() % n;
    loop {
        let x = stream.next_u64();
        if x >= threshold {
            return x % n;
        }
    }
}

/// How many winners a raffle of `quantity` units at `per_user_limit` each offers at once: as
/// many as the stock can serve in full, and one more for a remainder.
pub fn places(units: i64, per_user_limit: i64) -> i64 {
    if units <= 0 {
        return 0;
    }
    let limit = per_user_limit.max(1);
    (units + limit - 1) / limit
}

/// Where an entrant stands, as they see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Entered; the draw has not happened yet.
    Entered,
    /// Drawn: may buy until `claim_until`.
    Won,
    /// The raffle ended without a place for this entrant.
    Lost,
    /// Drawn after the places: a place may still roll down to this entrant.
    Waitlisted,
    /// Bought within the claim window.
    Purchased,
    /// The claim window ended without a purchase, or the purchase was cancelled or expired
    /// unpaid: the place rolled on.
    Expired,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Entered => "entered",
            EntryStatus::Won => "won",
            EntryStatus::Lost => "lost",
            EntryStatus::Waitlisted => "waitlisted",
            EntryStatus::Purchased => "purchased",
            EntryStatus::Expired => "expired",
        }
    }
}

/// What became of a place once offered, as the raffle's sweep records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceOutcome {
    Purchased,
    Expired,
}

impl PlaceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceOutcome::Purchased => "purchased",
            PlaceOutcome::Expired => "expired",
        }
    }
}

impl std::str::FromStr for PlaceOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "purchased" => Ok(PlaceOutcome::Purchased),
            "expired" => Ok(PlaceOutcome::Expired),
            other => Err(format!("unknown place outcome {other:?}")),
        }
    }
}

/// An entrant's place in a drawn raffle: when it was offered, until when, and what came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub offered_at: Option<DateTime<Utc>>,
    pub claim_until: Option<DateTime<Utc>>,
    pub outcome: Option<PlaceOutcome>,
}

impl Place {
    /// The entrant's status at `now`; `ended` once the raffle can offer no more places.
    pub fn status(&self, now: DateTime<Utc>, ended: bool) -> EntryStatus {
        match (self.outcome, self.claim_until) {
            (Some(PlaceOutcome::Purchased), _) => EntryStatus::Purchased,
            (Some(PlaceOutcome::Expired), _) => EntryStatus::Expired,
            (None, Some(until)) if now < until => EntryStatus::Won,
            (None, Some(_)) => EntryStatus::Expired,
            (None, None) if ended => EntryStatus::Lost,
            (None, None) => EntryStatus::Waitlisted,
        }
    }

    /// Whether the entrant may buy at `now`: offered, within the window, not rolled on.
    pub fn may_buy(&self, now: DateTime<Utc>) -> bool {
        self.outcome != Some(PlaceOutcome::Expired)
            && self.claim_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use chacha20::ChaCha20;
    use chacha20::cipher::{KeyIvInit, StreamCipher};

    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (0..n)
            .map(|i| Uuid::from_u128(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i))
            .collect()
    }

    fn seed(n: u64) -> Seed {
        let mut seed = [0; 32];
        seed[..8].copy_from_slice(&n.to_le_bytes());
        seed
    }

    /// The algorithm as the module documents it, on a ChaCha20 implementation of its own (the
    /// RustCrypto cipher, not the generator the server draws with).
    fn reimplemented(seed: &Seed, entrants: &[Uuid]) -> Vec<Uuid> {
        let mut cipher = ChaCha20::new(seed.into(), &[0; 12].into());
        let mut next = || {
            let mut word = [0u8; 8];
            cipher.apply_keystream(&mut word);
            u64::from_le_bytes(word)
        };
        let mut a = entrants.to_vec();
        a.sort_by_key(|id| id.hyphenated().to_string());
        for i in (1..a.len()).rev() {
            let n = i as u64 + 1;
            let t = (u64::MAX - n + 1) % n;
            let j = loop {
                let x = next();
                if x >= t {
                    break x % n;
                }
            };
            a.swap(i, j as usize);
        }
        a
    }

    #[test]
    fn the_documented_algorithm_reproduces_the_draw() {
        for (s, n) in [(1, 0), (2, 1), (3, 2), (4, 10), (5, 1000), (6, 20_000)] {
            let entrants = ids(n);
            assert_eq!(
                draw_order(&seed(s), &entrants),
                reimplemented(&seed(s), &entrants),
                "{n}"
            );
        }
    }

    #[test]
    fn the_order_depends_on_every_entry_and_every_bit_of_the_seed_but_not_on_arrival() {
        let entrants = ids(1000);
        let drawn = draw_order(&seed(7), &entrants);
        let mut sorted = drawn.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            {
                let mut e = entrants.clone();
                e.sort();
                e
            },
            "a permutation"
        );
        let mut reversed = entrants.clone();
        reversed.reverse();
        assert_eq!(
            draw_order(&seed(7), &reversed),
            drawn,
            "arrival order does not matter"
        );
        for bit in [0, 1, 100, 255] {
            let mut flipped = seed(7);
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(draw_order(&flipped, &entrants), drawn, "bit {bit}");
        }
        let mut changed = entrants.clone();
        changed[500] = Uuid::from_u128(u128::MAX);
        assert_ne!(draw_order(&seed(7), &changed)[..10], drawn[..10]);
    }

    #[test]
    fn every_entrant_wins_about_as_often_as_the_binomial_law_says() {
        // 20 entrants, 5 places, 20,000 draws with fixed seeds: each entrant should win 5,000
        // times, with a standard deviation of √(20,000 · ¼ · ¾) ≈ 61; 5σ bounds leave no room for
        // a bias of even 2 %.
        let entrants = ids(20);
        let mut wins = std::collections::HashMap::<Uuid, u32>::new();
        let draws = 20_000;
        for s in 0..draws {
            for winner in &draw_order(&seed(s), &entrants)[..5] {
                *wins.entry(*winner).or_default() += 1;
            }
        }
        let sigma = (f64::from(draws as u32) * 0.25 * 0.75).sqrt();
        for id in &entrants {
            let won = f64::from(wins[id]);
            assert!((won - 5_000.0).abs() < 5.0 * sigma, "{id}: {won}");
        }
        // And the first place alone, for every position of the canonical order.
        let mut first = [0u32; 20];
        for s in 0..draws {
            let winner = draw_order(&seed(s + 1_000_000), &entrants)[0];
            let mut canonical = entrants.clone();
            canonical.sort();
            first[canonical.iter().position(|id| *id == winner).unwrap_or(0)] += 1;
        }
        let sigma = (f64::from(draws as u32) * 0.05 * 0.95).sqrt();
        for (position, won) in first.iter().enumerate() {
            assert!(
                (f64::from(*won) - 1_000.0).abs() < 5.0 * sigma,
                "{position}: {won}"
            );
        }
    }

    #[test]
    fn the_commitment_is_the_seeds_sha256() {
        assert_eq!(
            seed_commitment(&[0; 32]),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn places_serve_the_stock_and_a_remainder() {
        assert_eq!(places(1000, 1), 1000);
        assert_eq!(places(1000, 3), 334);
        assert_eq!(places(2, 5), 1);
        assert_eq!(places(0, 5), 0);
    }

    #[test]
    fn terms_default_and_stay_inside_the_window() {
        let opens = Utc::now();
        let closes = opens + TimeDelta::hours(3);
        let terms = RaffleTerms::default()
            .validate(opens, closes)
            .map_err(|e| format!("{e:?}"));
        assert_eq!(terms.map(|t| t.claim_window_minutes), Ok(60));
        let late = RaffleTerms {
            entries_close_at: Some(closes),
            claim_window_minutes: Some(0),
        };
        let errors = late.validate(opens, closes).unwrap_err();
        assert!(errors.get("raffle.entries_close_at").is_some());
        assert!(errors.get("raffle.claim_window_minutes").is_some());
    }

    #[test]
    fn a_place_tells_the_entrant_where_they_stand() {
        let now = Utc::now();
        let open = Place {
            offered_at: Some(now),
            claim_until: Some(now + TimeDelta::minutes(1)),
            outcome: None,
        };
        assert_eq!(open.status(now, false), EntryStatus::Won);
        assert!(open.may_buy(now));
        assert_eq!(
            open.status(now + TimeDelta::minutes(1), false),
            EntryStatus::Expired
        );
        let bought = Place {
            outcome: Some(PlaceOutcome::Purchased),
            ..open
        };
        assert_eq!(bought.status(now, true), EntryStatus::Purchased);
        assert!(bought.may_buy(now), "up to the limit, within the window");
        let waiting = Place {
            offered_at: None,
            claim_until: None,
            outcome: None,
        };
        assert_eq!(waiting.status(now, false), EntryStatus::Waitlisted);
        assert_eq!(waiting.status(now, true), EntryStatus::Lost);
        assert!(!waiting.may_buy(now));
    }
}
