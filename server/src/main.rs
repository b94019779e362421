#![recursion_limit = "256"]
//! `narrate`: the one binary. `narrate serve` (default) runs the web app, API and scheduler;
//! the other subcommands administer tenants, users, API keys and demo data.

use anyhow::{bail, Context as _};
use app::engine::{auth, demo, store, AppState, Clock, Config};
use app::model::Role;
use clap::{Parser, Subcommand};
use std::io::Read as _;

#[derive(Parser)]
#[command(name = "narrate", version, about = "Narrate: dashboards that become narrated, scheduled reports")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API (the default).
    Serve,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Import events from CSV files (validated whole: a file with a bad row is refused).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Load deterministic demo data (creates the demo tenant and its users if missing).
    Demo {
        /// Volume multiplier: 1 ≈ 150 000 interactions over 120 days; 67 ≈ 10 million.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Random seed (same seed, same rows).
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// The tenant to load into.
        #[arg(long, default_value = demo::DEMO_TENANT)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Interactions: header `ts,customer_id,offer,channel,segment,outcome,value_cents`.
    Interactions {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The tenant to import into.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum TenantAction {
    /// Create a tenant.
    Add {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum ApikeyAction {
    /// Create an API key and print it once, alone on standard output.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let mut config = config;
            server::ensure_secret_key(&mut config)?;
            let state = server::build_state(config, Clock::System).await?;
            server::serve(state).await
        }
        Command::Tenant { action: TenantAction::Add { slug, name } } => {
            let state = admin_state(config).await?;
            let valid =
                !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                bail!("--slug: use lowercase letters, digits and '-'");
            }
            let t = store::tenants::create(&state.db, &slug, name.trim(), state.clock.now_ms())
                .await
                .with_context(|| format!("creating tenant '{slug}' (does it exist already?)"))?;
            eprintln!("created tenant {} ({})", t.slug, t.id);
            Ok(())
        }
        Command::User { action: UserAction::Add { tenant, email, role } } => {
            let state = admin_state(config).await?;
            let t = find_tenant(&state, &tenant).await?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                bail!("the password (from stdin) must have at least 8 characters");
            }
            if !email.contains('@') {
                bail!("--email: '{email}' is not an email address");
            }
            let hash = auth::hash_password(password)?;
            let u = store::users::create(&state.db, &t.id, &email, &hash, role, state.clock.now_ms())
                .await
                .with_context(|| format!("creating user {email} (is the email taken?)"))?;
            eprintln!("created {role} {} in {}", u.email, t.slug);
            Ok(())
        }
        Command::Apikey { action: ApikeyAction::Create { tenant, role, name } } => {
            let state = admin_state(config).await?;
            let t = find_tenant(&state, &tenant).await?;
            let key = auth::new_api_key();
            store::api_keys::insert(
                &state.db,
                &t.id,
                &name,
                role,
                &auth::token_hash(&key),
                &key[..8],
                state.clock.now_ms(),
            )
            .await?;
            println!("{key}");
            Ok(())
        }
        Command::Import { what: ImportWhat::Interactions { file, tenant } } => {
            let state = admin_state(config).await?;
            let t = find_tenant(&state, &tenant).await?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let result = async {
                let rows = app::engine::ingest::interactions_from_csv(&text)?;
                app::engine::ingest::interactions(&state.db, &t.id, rows, state.clock.now_ms()).await
            };
            match result.await {
                Ok(n) => {
                    eprintln!("imported {n} interactions into {}", t.slug);
                    Ok(())
                }
                Err(e) => {
                    eprintln!("{}", e.message);
                    for d in &e.details {
                        eprintln!("  {}: {}", d.field, d.message);
                    }
                    bail!("nothing was imported")
                }
            }
        }
        Command::Demo { scale, seed, tenant } => {
            if !(0.01..=1000.0).contains(&scale) {
                bail!("--scale must be between 0.01 and 1000");
            }
            let state = admin_state(config).await?;
            let now = state.clock.now_ms();
            let t = match store::tenants::find_by_slug(&state.db, &tenant).await? {
                Some(t) => t,
                None => store::tenants::create(&state.db, &tenant, &tenant, now).await?,
            };
            if !store::catalogue::list_segments(&state.db, &t.id).await?.is_empty() {
                bail!("tenant '{tenant}' already has data; use a fresh database or another --tenant");
            }
            let started = std::time::Instant::now();
            let s = demo::load(&state.db, &t.id, seed, scale, now).await?;
            eprintln!(
                "loaded {} interactions, {} decisions, {} touchpoints into '{}' in {:.1} s",
                s.interactions,
                s.decisions,
                s.touchpoints,
                t.slug,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn admin_state(mut config: Config) -> anyhow::Result<AppState> {
    config.demo = false;
    server::build_state(config, Clock::System).await
}

async fn find_tenant(state: &AppState, slug: &str) -> anyhow::Result<store::tenants::Tenant> {
    store::tenants::find_by_slug(&state.db, slug).await?.with_context(|| format!("no tenant with slug '{slug}'"))
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("NARRATE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=error"));
    let json = std::env::var("NARRATE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
