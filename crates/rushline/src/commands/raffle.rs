use uuid::Uuid;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Download a raffle drop's published draw and recompute it here: the seed against the
    /// commitment the drop published, then the draw order from the seed and the entrants.
    /// Prints `verified`, or the first difference and exits non-zero.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A node's base URL.
    #[arg(long)]
    pub url: String,
    /// The raffle drop's id.
    #[arg(long = "drop")]
    pub drop_id: Uuid,
    /// Entry ids per downloaded page, 1–10,000.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page: u32,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::Verify(args) = command;
    let draw = super::runtime()?.block_on(crate::raffle_verify::download(
        &args.url,
        args.drop_id,
        args.page,
    ))?;
    let verified = crate::raffle_verify::check(&draw)?;
    println!(
        "verified: {} entrants, seed {} matches commitment {}",
        verified.entrants, draw.seed, draw.commitment
    );
    Ok(())
}
