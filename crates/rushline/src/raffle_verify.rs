//! `rushline raffle verify`: downloads a raffle's published draw over the public API and
//! recomputes it here, trusting nothing the server computed: the seed must hash to the
//! commitment the drop published before the draw, the entrants must be in canonical order, and
//! the draw order must be what the documented algorithm gives for that seed and those entrants.

use anyhow::{Context, bail};
use rushline_domain::raffle::{ALGORITHM, Seed, draw_order, seed_commitment};
use serde::Deserialize;
use uuid::Uuid;

/// A published draw, all pages put together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDraw {
    /// The commitment the drop or trial shows (published from its creation).
    pub commitment: String,
    pub algorithm: String,
    pub seed: String,
    pub entrants: Vec<Uuid>,
    pub order: Vec<Uuid>,
}

/// A draw that checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub entrants: usize,
}

/// Checks `draw` as the module says; the first difference otherwise.
pub fn check(draw: &PublishedDraw) -> anyhow::Result<Verified> {
    if draw.algorithm != ALGORITHM {
        bail!(
            "unknown algorithm {:?} (this build checks {ALGORITHM})",
            draw.algorithm
        );
    }
    let seed: Seed = hex::decode(&draw.seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("the seed is not 32 bytes of hex")?;
    if seed_commitment(&seed) != draw.commitment {
        bail!(
            "the seed's SHA-256 is {}, not the published commitment {}",
            seed_commitment(&seed),
            draw.commitment
        );
    }
    if let Some(i) = draw.entrants.windows(2).position(|pair| pair[0] >= pair[1]) {
        bail!(
            "the entrants are not in canonical order at position {}",
            i + 1
        );
    }
    let expected = draw_order(&seed, &draw.entrants);
    if expected.len() != draw.order.len() {
        bail!(
            "the draw orders {} entries, the entrants are {}",
            draw.order.len(),
            expected.len()
        );
    }
    if let Some(i) = expected.iter().zip(&draw.order).position(|(a, b)| a != b) {
        bail!(
            "the draw differs at position {i}: published {}, recomputed {}",
            draw.order[i],
            expected[i]
        );
    }
    Ok(Verified {
        entrants: expected.len(),
    })
}

/// A drop's or a trial's view: only its raffle matters here.
#[derive(Deserialize)]
struct View {
    raffle: Option<RaffleView>,
}

#[derive(Deserialize)]
struct RaffleView {
    seed_commitment: String,
}

#[derive(Deserialize)]
struct DrawPage {
    seed: String,
    seed_commitment: String,
    algorithm: String,
    entrants: Vec<Uuid>,
    order: Vec<Uuid>,
    next_cursor: Option<String>,
}

/// What a raffle allocates, as its API path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Drop(Uuid),
    Trial(Uuid),
}

impl Subject {
    fn path(self) -> String {
        match self {
            Subject::Drop(id) => format!("drops/{id}"),
            Subject::Trial(id) => format!("trials/{id}"),
        }
    }
}

/// Downloads the draw of `subject` from the node at `base` (pages of `page` ids).
pub async fn download(base: &str, subject: Subject, page: u32) -> anyhow::Result<PublishedDraw> {
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/{}", base.trim_end_matches('/'), subject.path());
    let view: View = get(&client, &base).await?;
    let commitment = view
        .raffle
        .context("it is first come, first served: there is no draw")?
        .seed_commitment;
    let mut cursor: Option<String> = None;
    let (mut entrants, mut order) = (Vec::new(), Vec::new());
    loop {
        let mut url = format!("{base}/draw?limit={page}");
        if let Some(cursor) = &cursor {
            url.push_str("&cursor=");
            url.push_str(cursor);
        }
        let draw: DrawPage = get(&client, &url).await?;
        if draw.seed_commitment != commitment {
            bail!("the draw's commitment differs from the one published before the draw");
        }
        entrants.extend(draw.entrants);
        order.extend(draw.order);
        if draw.next_cursor.is_none() {
            return Ok(PublishedDraw {
                commitment,
                algorithm: draw.algorithm,
                seed: draw.seed,
                entrants,
                order,
            });
        }
        cursor = draw.next_cursor;
    }
}

async fn get<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<T> {
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("GET {url}: {status}: {body}");
    }
    response
        .json()
        .await
        .with_context(|| format!("GET {url}: not the expected JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(seed: Seed, n: u128) -> PublishedDraw {
        let entrants: Vec<Uuid> = (1..=n).map(Uuid::from_u128).collect();
        PublishedDraw {
            commitment: seed_commitment(&seed),
            algorithm: ALGORITHM.to_owned(),
            seed: hex::encode(seed),
            order: draw_order(&seed, &entrants),
            entrants,
        }
    }

    #[test]
    fn an_honest_draw_checks_out_and_any_change_is_caught() {
        let honest = published([7; 32], 100);
        assert_eq!(
            check(&honest).map_err(|e| e.to_string()),
            Ok(Verified { entrants: 100 })
        );

        let mut swapped = honest.clone();
        swapped.order.swap(3, 4);
        assert!(
            check(&swapped)
                .unwrap_err()
                .to_string()
                .contains("position 3")
        );

        let mut other_seed = honest.clone();
        other_seed.seed = hex::encode([8; 32]);
        assert!(
            check(&other_seed)
                .unwrap_err()
                .to_string()
                .contains("commitment")
        );

        let mut extra = honest.clone();
        extra.entrants.push(Uuid::from_u128(1_000));
        assert!(check(&extra).is_err());

        let mut unsorted = honest;
        unsorted.entrants.swap(0, 1);
        assert!(
            check(&unsorted)
                .unwrap_err()
                .to_string()
                .contains("canonical")
        );
    }
}
