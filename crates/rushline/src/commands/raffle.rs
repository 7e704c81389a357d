use uuid::Uuid;

use crate::raffle_verify::Subject;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Download a raffle drop's or trial's published draw and recompute it here: the seed
    /// against the commitment published at its creation, then the draw order from the seed and
    /// the entrants.
    /// Prints `verified`, or the first difference and exits non-zero.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A node's base URL.
    #[arg(long)]
    pub url: String,
    /// The raffle drop's id.
    #[arg(
        long = "drop",
        value_name = "ID",
        required_unless_present = "trial_id",
        conflicts_with = "trial_id"
    )]
    pub drop_id: Option<Uuid>,
    /// The raffle trial's id.
    #[arg(long = "trial", value_name = "ID")]
    pub trial_id: Option<Uuid>,
    /// Entry ids per downloaded page, 1–10,000.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page: u32,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Verify(args) = command;
    let subject = match (args.drop_id, args.trial_id) {
        (Some(drop), _) => Subject::Drop(drop),
        (None, Some(trial)) => Subject::Trial(trial),
        (None, None) => anyhow::bail!("--drop or --trial is required"),
    };
    let draw = super::runtime()?.block_on(crate::raffle_verify::download(
        &args.url, subject, args.page,
    ))?;
    let verified = crate::raffle_verify::check(&draw)?;
    println!(
        "verified: {} entrants, seed {} matches commitment {}",
        verified.entrants, draw.seed, draw.commitment
    );
    Ok(())
}
