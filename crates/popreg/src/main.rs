//! `popreg`: the Population State Register and e-Citizen portal in one binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use popreg::config::{Config, DEFAULT_CONFIG};
use popreg::{app, import};
use popreg_domain::SystemClock;

/// mimalloc: the import and the read path allocate many small, short-lived strings; glibc malloc spent a
/// fifth of an import profile in its free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "popreg",
    version,
    about = "Armenia's Population State Register and e-Citizen portal"
)]
struct Cli {
    /// Configuration file (TOML); see `popreg default-config`.
    #[arg(long, global = true, env = "POPREG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Common {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Data directory (the embedded SQLite register lives here).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://… or sqlite:PATH.
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Common),
    /// Apply database migrations and exit.
    Migrate(Common),
    /// One command from clone to a working system: a fresh SQLite register with a generated population.
    Demo {
        #[command(flatten)]
        common: Common,
        /// How many persons to generate.
        #[arg(long, default_value_t = 10_000)]
        persons: usize,
        /// Seed of the generator (same seed, same population).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Generate a synthetic population into the configured database.
    Generate {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10_000)]
        persons: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Entries per transaction.
        #[arg(long, default_value_t = 20_000)]
        chunk: usize,
    },
    /// Print a commented example configuration.
    DefaultConfig,
    /// Validate the configuration and print the settings in effect (secrets redacted).
    CheckConfig(Common),
    /// Print the SHA-256 of an API key, for `api.api_key_sha256`.
    HashKey { key: String },
    /// Write a TEST certification authority with ID-card certificates (never for production).
    DevCa {
        /// Directory to write into (must not already hold a CA).
        #[arg(long)]
        out: PathBuf,
        /// A card holder: PSN, or PSN=SURNAME,GIVEN (Latin letters). Repeatable.
        #[arg(long)]
        psn: Vec<String>,
        /// A card holder whose card is issued and then revoked (listed in crl.pem). Repeatable.
        #[arg(long)]
        revoke: Vec<String>,
        /// Years of validity of the cards.
        #[arg(long, default_value_t = 5)]
        years: i64,
    },
}

fn load(cli_config: Option<&Path>, common: &Common) -> anyhow::Result<Config> {
    let mut cfg = Config::load(cli_config)?;
    if let Some(l) = &common.listen {
        cfg.server.listen = l.clone();
    }
    if let Some(d) = &common.data_dir {
        cfg.storage.data_dir = d.clone();
    }
    if let Some(u) = &common.database_url {
        cfg.storage.database_url = u.clone();
    }
    cfg.validate()?;
    Ok(cfg)
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("popreg: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("popreg: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg_path = cli.config.as_deref();
    match cli.command {
        Command::DefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::DevCa {
            out,
            psn,
            revoke,
            years,
        } => {
            print!("{}", popreg::devca::run(&out, &psn, &revoke, years)?);
            Ok(())
        }
        Command::HashKey { key } => {
            println!("{}", popreg_web::hash_api_key(&key));
            Ok(())
        }
        Command::CheckConfig(common) => {
            let cfg = load(cfg_path, &common)?;
            println!(
                "# configuration is valid; settings in effect:\n{}",
                cfg.redacted()
            );
            Ok(())
        }
        Command::Migrate(common) => {
            let cfg = load(cfg_path, &common)?;
            init_logging(&cfg);
            let mut c = cfg.clone();
            c.storage.migrate_on_start = false;
            let store = app::open_store(&c, Arc::new(SystemClock)).await?;
            let applied = store.migrate().await?;
            println!("migrations applied to {}: {:?}", store.label(), applied);
            store.close().await;
            Ok(())
        }
        Command::Serve(common) => {
            let cfg = load(cfg_path, &common)?;
            init_logging(&cfg);
            if cfg.api.api_key_sha256.is_empty() {
                tracing::warn!("no API keys configured: person routes will refuse every request");
            }
            let running = app::serve(&cfg).await?;
            tracing::info!(url = %running.url(), database = %running.store.label(), "popreg serving");
            running.wait().await
        }
        Command::Generate {
            common,
            persons,
            seed,
            chunk,
        } => {
            let cfg = load(cfg_path, &common)?;
            init_logging(&cfg);
            let store = app::open_store_bulk(&cfg, Arc::new(SystemClock)).await?;
            let synth = popreg_synth::Config {
                persons,
                seed,
                today: chrono::Utc::now().date_naive(),
            };
            let stats = import::generate_into(&store, &synth, chunk.max(100), |s| {
                tracing::info!(
                    persons = s.persons,
                    entries = s.entries,
                    rate = s.persons_per_second() as u64,
                    "imported"
                );
            })
            .await?;
            println!(
                "generated {} persons ({} entries) into {} in {:.1}s: {:.0} persons/s",
                stats.persons,
                stats.entries,
                store.label(),
                stats.seconds,
                stats.persons_per_second()
            );
            store.close().await;
            Ok(())
        }
        Command::Demo {
            common,
            persons,
            seed,
        } => demo(cfg_path, common, persons, seed).await,
    }
}

/// Marker that tells a demo data directory apart from anything else (only such a directory is wiped).
const DEMO_MARKER: &str = ".popreg-demo";

async fn demo(
    cfg_path: Option<&Path>,
    mut common: Common,
    persons: usize,
    seed: u64,
) -> anyhow::Result<()> {
    if common.data_dir.is_none() {
        common.data_dir = Some(PathBuf::from("./popreg-demo"));
    }
    let mut cfg = load(cfg_path, &common)?;
    if !cfg.storage.database_url.is_empty() && !cfg.storage.database_url.starts_with("sqlite:") {
        bail!("the demo runs on embedded SQLite; use `popreg generate` for PostgreSQL");
    }
    cfg.storage.database_url = String::new();
    init_logging(&cfg);
    let dir = cfg.storage.data_dir.clone();
    if dir.exists() {
        if !dir.join(DEMO_MARKER).exists() && std::fs::read_dir(&dir)?.next().is_some() {
            bail!(
                "{} exists and is not a demo directory; choose another --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        "created by `popreg demo`; wiped by the next demo run\n",
    )?;

    // A fresh API key for this demo run, shown once.
    let key = format!("demo-{:016x}{:016x}", getrandom::u64()?, getrandom::u64()?);
    cfg.api.api_key_sha256 = vec![popreg_web::hash_api_key(&key)];

    // The tax registry is another authority's system: the demo runs a local server speaking its contract.
    let demo_tins = ["02512345", "00845521", "03300987"];
    let tax = popreg_connectors::tax::FakeTaxRegistry::start(
        demo_tins
            .iter()
            .map(|t| popreg_connectors::tax::Taxpayer {
                tin: t.to_string(),
                status: "active".into(),
                kind: "legal_entity".into(),
            })
            .collect(),
    )
    .await?;
    cfg.connectors.tax_registry_url = tax.url();

    let store = app::open_store_bulk(&cfg, Arc::new(SystemClock)).await?;
    let synth = popreg_synth::Config {
        persons,
        seed,
        today: chrono::Utc::now().date_naive(),
    };
    eprintln!(
        "popreg demo: generating {persons} persons (seed {seed}) into {}",
        store.label()
    );
    let stats = import::generate_into(&store, &synth, 20_000, |_| {}).await?;
    eprintln!(
        "popreg demo: {} persons, {} entries in {:.1}s",
        stats.persons, stats.entries, stats.seconds
    );
    let samples = popreg_synth::generate(&synth)
        .flat_map(|b| b.entries.into_iter())
        .filter(|(_, e)| e.fact.creates_person())
        .take(3)
        .map(|(_, e)| e.subject.to_string())
        .collect::<Vec<_>>();
    // A TEST CA with ID cards for the sample persons, for trying ID-card login (the demo itself stays on
    // plain HTTP so that a browser opens it without certificate warnings; see docs/identity.md).
    let pki = dir.join("dev-ca");
    let now = chrono::Utc::now();
    let mut holders = Vec::new();
    for p in &samples {
        let psn = popreg_domain::Psn::parse(p)?;
        let holder = popreg_identity::dev_ca::CardHolder::new(psn, now, 5);
        holders.push(match store.person(psn).await? {
            Some(st) => holder.named(&st.names.surname.lat, &st.names.first.lat),
            None => holder,
        });
    }
    popreg_identity::dev_ca::write_dir(&pki, now, &holders, &[])?;
    store.close().await;
    let store = app::open_store(&cfg, Arc::new(SystemClock)).await?;
    let running = app::start(&cfg, store).await?;
    let url = running.url();
    println!();
    println!("  popreg demo is running at {url}");
    println!("  data directory:  {}", dir.display());
    println!("  API key:         {key}");
    println!("  try:");
    for p in &samples {
        println!("    curl -H 'X-API-Key: {key}' {url}/api/v1/persons/{p}");
    }
    if let Some(p) = samples.first() {
        println!(
            "    curl -H 'X-API-Key: {key}' -H 'Accept: application/xml' {url}/api/v1/persons/{p}/history"
        );
        println!("    curl -H 'X-API-Key: {key}' '{url}/api/v1/persons/{p}/notice-address'");
    }
    println!(
        "    curl -H 'X-API-Key: {key}' {url}/api/v1/tin/{}/check   (demo tax registry at {})",
        demo_tins[0],
        tax.url()
    );
    println!("    curl {url}/api/v1/classifiers");
    println!("    curl {url}/metrics");
    if let Some(p) = samples.first() {
        let exe = std::env::current_exe()
            .map(|e| e.display().to_string())
            .unwrap_or_else(|_| "popreg".into());
        let d = pki.display();
        println!(
            "  ID-card login with the TEST CA in {d} (HTTPS, beside this demo, in another terminal):"
        );
        println!(
            "    POPREG_TLS_CERT={d}/server.pem POPREG_TLS_KEY={d}/server.key.pem POPREG_CLIENT_CA={d}/ca.pem \\"
        );
        println!(
            "      POPREG_CLIENT_CRL={d}/crl.pem {exe} serve --data-dir {} --listen 127.0.0.1:8443",
            dir.display()
        );
        println!(
            "    curl --cacert {d}/ca.pem --cert {d}/card-{p}.pem --key {d}/card-{p}.key.pem https://localhost:8443/whoami"
        );
    }
    println!("  stop with Ctrl-C");
    println!();
    running.wait().await
}
