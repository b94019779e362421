#![recursion_limit = "256"]
//! `narrate`: the one binary. `narrate serve` (default) runs the web app, API and scheduler;
//! the other subcommands administer tenants, users, API keys and demo data.

use anyhow::{bail, Context as _};
use app::engine::{auth, demo, store, team, AppState, Clock, Config};
use app::model::team::{ApiKeyInput, UserInput};
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
    /// Export a dashboard view as a file, as Export ▾ does (PDF, CSV, Markdown or HTML).
    Export {
        /// The tenant (slug).
        #[arg(long)]
        tenant: String,
        /// executive, business, operations, model-health, data-health or attribution.
        #[arg(long)]
        dashboard: String,
        /// today, 7d, 14d, 30d or 90d.
        #[arg(long, default_value = "7d")]
        period: String,
        /// pdf, csv, md, html or xlsx.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Leave out the narrative.
        #[arg(long)]
        no_narrative: bool,
        /// Where to write it (default: the export's own file name, here).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
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
        /// Display name (default: the part of the email before the @).
        #[arg(long)]
        name: Option<String>,
    },
    /// List users (of one tenant, or all).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Disable a user: they cannot sign in and their sessions end now.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Re-enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Change a user's role.
    SetRole {
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
    /// List live API keys (of one tenant, or all).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke an API key by id; it stops working on its next request.
    Revoke {
        #[arg(long)]
        id: String,
    },
}

fn main() -> anyhow::Result<()> {
    server::tune_allocator();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
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
        Command::User { action: UserAction::Add { tenant, email, role, name } } => {
            let state = admin_state(config).await?;
            let t = find_tenant(&state, &tenant).await?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let input = UserInput {
                email: Some(email.clone()),
                name: Some(name),
                role: Some(role),
                password: Some(password.to_string()),
                disabled: None,
            };
            let u = team::create_user(&state, &operator(&t), input).await.map_err(explain)?;
            eprintln!("created {role} {} in {}", u.email, t.slug);
            Ok(())
        }
        Command::User { action: UserAction::List { tenant } } => {
            let state = admin_state(config).await?;
            let tenants = tenant_names(&state).await?;
            let only = match tenant {
                Some(slug) => Some(find_tenant(&state, &slug).await?.id),
                None => None,
            };
            println!("{:<12} {:<32} {:<24} {:<7} {:<9} last sign-in", "tenant", "email", "name", "role", "status");
            for u in store::users::list_all(&state.db.pool)
                .await?
                .iter()
                .filter(|u| only.as_ref().is_none_or(|t| *t == u.tenant_id))
            {
                let v = team::user_view(u);
                let status = if u.disabled_at.is_some() { "disabled" } else { "active" };
                let slug = tenants.get(&u.tenant_id).map(String::as_str).unwrap_or("?");
                println!(
                    "{slug:<12} {:<32} {:<24} {:<7} {status:<9} {}",
                    v.email,
                    v.name,
                    v.role,
                    v.last_sign_in_at.unwrap_or_else(|| "never".into())
                );
            }
            Ok(())
        }
        Command::User { action } => {
            let state = admin_state(config).await?;
            let (email, input) = match action {
                UserAction::Disable { email } => (email, UserInput { disabled: Some(true), ..Default::default() }),
                UserAction::Enable { email } => (email, UserInput { disabled: Some(false), ..Default::default() }),
                UserAction::SetRole { email, role } => (email, UserInput { role: Some(role), ..Default::default() }),
                UserAction::Add { .. } | UserAction::List { .. } => unreachable!("handled above"),
            };
            let u =
                store::users::find_by_email(&state.db, &email).await?.with_context(|| format!("no user {email}"))?;
            let t = tenant_by_id(&state, &u.tenant_id).await?;
            let v = team::update_user(&state, &operator(&t), &u.id, input).await.map_err(explain)?;
            eprintln!("{}: {} · {:?}", v.email, v.role, v.status);
            Ok(())
        }
        Command::Apikey { action: ApikeyAction::Create { tenant, role, name } } => {
            let state = admin_state(config).await?;
            let t = find_tenant(&state, &tenant).await?;
            let input = ApiKeyInput { name: Some(name), role: Some(role), expires_at: None };
            let k = team::create_key(&state, &operator(&t), input).await.map_err(explain)?;
            println!("{}", k.key);
            Ok(())
        }
        Command::Apikey { action: ApikeyAction::List { tenant } } => {
            let state = admin_state(config).await?;
            let tenants = tenant_names(&state).await?;
            let only = match tenant {
                Some(slug) => Some(find_tenant(&state, &slug).await?.id),
                None => None,
            };
            println!(
                "{:<38} {:<12} {:<20} {:<7} {:<10} {:<22} last used",
                "id", "tenant", "name", "role", "prefix", "created by"
            );
            for k in store::api_keys::list(&state.db.pool, only.as_deref()).await? {
                let slug = tenants.get(&k.tenant_id).map(String::as_str).unwrap_or("?");
                let used =
                    k.last_used_at.map(app::engine::sources::common::iso_instant).unwrap_or_else(|| "never".into());
                println!(
                    "{:<38} {slug:<12} {:<20} {:<7} {:<10} {:<22} {used}",
                    k.id, k.name, k.role, k.prefix, k.created_by
                );
            }
            Ok(())
        }
        Command::Apikey { action: ApikeyAction::Revoke { id } } => {
            let state = admin_state(config).await?;
            if !store::api_keys::revoke(&state.db.pool, None, &id, state.clock.now_ms()).await? {
                bail!("no live API key with id {id}");
            }
            eprintln!("revoked {id}");
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
        Command::Export { tenant, dashboard, period, format, no_narrative, out } => {
            use app::engine::render::{self, ReportFormat};
            let format = ReportFormat::parse(&format).context("--format must be pdf, csv, md, html or xlsx")?;
            let state = admin_state(config).await?;
            let t = store::tenants::find_by_slug(&state.db, &tenant).await?.context("no such tenant")?;
            let req = app::engine::sources::Request {
                key: &dashboard,
                period: Some(&period),
                segment_id: None,
                params: Default::default(),
            };
            let opts = app::engine::report::Options { narrative: !no_narrative, ..Default::default() };
            let started = std::time::Instant::now();
            let report = app::engine::report::assemble(&state, &t.id, &t.name, req, &opts)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let bytes = render::render(&report, format).map_err(|e| anyhow::anyhow!(e.message))?;
            let path = out.unwrap_or_else(|| render::filename(&report, format).into());
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} bytes) in {:.2} s", path.display(), bytes.len(), started.elapsed().as_secs_f64());
            Ok(())
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

/// The operator at the command line, acting as an admin of tenant `t` (rules and audit apply).
fn operator(t: &store::tenants::Tenant) -> auth::Principal {
    auth::Principal {
        tenant_id: t.id.clone(),
        tenant_slug: t.slug.clone(),
        tenant_name: t.name.clone(),
        user_id: None,
        actor: "cli".into(),
        role: Role::Admin,
        via: auth::AuthVia::ApiKey,
        session_hash: None,
    }
}

/// An engine error as the operator reads it, with every field's message.
fn explain(e: app::model::AppError) -> anyhow::Error {
    let details: Vec<String> = e.details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect();
    if details.is_empty() {
        anyhow::anyhow!("{}", e.message)
    } else {
        anyhow::anyhow!("{}\n  {}", e.message, details.join("\n  "))
    }
}

async fn tenant_names(state: &AppState) -> anyhow::Result<std::collections::HashMap<String, String>> {
    Ok(store::tenants::list(&state.db).await?.into_iter().map(|t| (t.id, t.slug)).collect())
}

async fn tenant_by_id(state: &AppState, id: &str) -> anyhow::Result<store::tenants::Tenant> {
    store::tenants::list(&state.db).await?.into_iter().find(|t| t.id == id).context("the user's tenant is gone")
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
