//! `popreg`: the Population State Register and e-Citizen portal in one binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use popreg::config::{Config, DEFAULT_CONFIG};
use popreg::{admin, app, import};
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
    /// Print the SHA-256 of an API key, for `popreg key add --sha256`.
    HashKey { key: String },
    /// Bodies: providers and consumers of the register's data (A1.32).
    #[command(subcommand)]
    Body(BodyCmd),
    /// API keys of bodies: issue, rotate, revoke, list.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Responsible employees of bodies with their functions (A1.34).
    #[command(subcommand)]
    Employee(EmployeeCmd),
    /// Read grants of bodies: data elements, purpose, legal basis (A1.33).
    #[command(subcommand)]
    Grant(GrantCmd),
    /// The tamper-evident audit trail: verify it, sign a checkpoint (A2.9).
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Write the DKIM key that signs forwards of official mail (G.3.1) and print the DNS records to publish.
    DkimKey {
        /// The PEM file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// The official mail domain.
        #[arg(long, default_value = "e-citizen.am")]
        domain: String,
        /// The DKIM selector.
        #[arg(long, default_value = "popreg")]
        selector: String,
    },
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

#[derive(Subcommand)]
enum BodyCmd {
    /// Register a body.
    Add {
        #[command(flatten)]
        common: Common,
        /// Identifier, e.g. MED-0001.
        #[arg(long)]
        id: String,
        /// medical_organization, civil_registry, guardianship_body, diplomatic_mission,
        /// judicial_department, penitentiary_service, authorized_body, operator or other.
        #[arg(long = "type")]
        body_type: String,
        #[arg(long)]
        name_hy: String,
        #[arg(long)]
        name_en: String,
        #[arg(long)]
        name_ru: String,
        /// X-Road member it calls from: INSTANCE/CLASS/MEMBER/SUBSYSTEM.
        #[arg(long)]
        xroad_member: Option<String>,
        /// Contact e-mail of the responsible person.
        #[arg(long)]
        email: Option<String>,
    },
    /// List the bodies.
    List(Common),
    /// Client certificates of a body's systems (mutual TLS for the API).
    #[command(subcommand)]
    Cert(CertCmd),
}

#[derive(Subcommand)]
enum CertCmd {
    /// Register a client certificate (PEM) for a body: requests presenting it act for the body with these
    /// functions. Only its SHA-256 fingerprint identifies it; subject, issuer and validity are shown.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        /// PEM file with the certificate (the first one in the file is registered).
        #[arg(long)]
        cert: PathBuf,
        /// Comma-separated functions, as for `popreg key issue`; or all.
        #[arg(long, default_value = "submit,read_persons")]
        functions: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a registered certificate; the next request with it is refused.
    Revoke {
        #[command(flatten)]
        common: Common,
        /// The registration's id (CERT-…).
        id: String,
    },
    /// List a body's registered certificates.
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Issue an API key to a body; prints the key once.
    Issue {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        /// The identified user the key acts for (A1.37), e.g. the responsible employee's PSN.
        #[arg(long)]
        owner: String,
        /// Comma-separated: submit, read_persons, manage_register, manage_access, manage_cases,
        /// staff_appointments, archive_access; or all.
        #[arg(long)]
        functions: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Register a key that the body generated itself, by its SHA-256 (`popreg hash-key`).
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        functions: String,
        #[arg(long)]
        sha256: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Replace a key by a new one (same body, owner, functions); the old one stops working at once.
    Rotate {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// Revoke a key; the next request with it is refused.
    Revoke {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// List a body's keys (never the keys themselves).
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
    },
}

#[derive(Subcommand)]
enum EmployeeCmd {
    /// Name a responsible employee of a body with the functions permitted to them.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        #[arg(long)]
        psn: String,
        #[arg(long)]
        functions: String,
    },
    /// End a person's employment at a body.
    End {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        #[arg(long)]
        psn: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check every leaf of the audit trail, its signed checkpoints and the rows it references; name the
    /// first altered, removed or reordered one. Exit status 0 when intact, 1 when not.
    Verify {
        #[command(flatten)]
        common: Common,
        /// The checkpoint public key: a file with the raw 32 bytes or their base64; default: derived from
        /// the signing key (`audit.signing_key`).
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the tree as it is now (the server also does it every
    /// `audit.checkpoint_interval_secs`).
    Checkpoint {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum GrantCmd {
    /// Grant a body the reading of data elements.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
        /// Comma-separated data element identifiers.
        #[arg(long)]
        elements: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        legal_basis: String,
        /// Last day the grant holds (YYYY-MM-DD); without it, until revoked.
        #[arg(long)]
        ends_on: Option<chrono::NaiveDate>,
    },
    /// Revoke a grant.
    Revoke {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// List a body's grants.
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        body: String,
    },
}

/// Open (and migrate) the configured store for one operator command.
async fn admin_store(
    cli_config: Option<&Path>,
    common: &Common,
) -> anyhow::Result<popreg_store::Store> {
    let cfg = load(cli_config, common)?;
    init_logging(&cfg);
    app::open_store(&cfg, Arc::new(SystemClock)).await
}

async fn body_cmd(cfg_path: Option<&Path>, cmd: BodyCmd) -> anyhow::Result<()> {
    match cmd {
        BodyCmd::Add {
            common,
            id,
            body_type,
            name_hy,
            name_en,
            name_ru,
            xroad_member,
            email,
        } => {
            let new = popreg_store::NewBody {
                id,
                body_type: admin::parse_body_type(&body_type)?,
                name_hy,
                name_en,
                name_ru,
                xroad_member,
                contact_email: email,
            };
            let store = admin_store(cfg_path, &common).await?;
            let b = store.create_body(&admin::cli_actor(), &new).await?;
            println!("body {} ({}) created", b.id, b.body_type.as_str());
            store.close().await;
        }
        BodyCmd::List(common) => {
            let store = admin_store(cfg_path, &common).await?;
            print!("{}", admin::bodies_table(&store.bodies().await?));
            store.close().await;
        }
        BodyCmd::Cert(cmd) => cert_cmd(cfg_path, cmd).await?,
    }
    Ok(())
}

async fn cert_cmd(cfg_path: Option<&Path>, cmd: CertCmd) -> anyhow::Result<()> {
    let actor = admin::cli_actor();
    match cmd {
        CertCmd::Add {
            common,
            body,
            cert,
            functions,
            label,
        } => {
            let fs = admin::parse_functions(&functions)?;
            let new = admin::read_cert(&cert)?;
            let store = admin_store(cfg_path, &common).await?;
            let c = store
                .register_agency_cert(&actor, &body, &new, &fs, &label)
                .await?;
            print!("{}", admin::certs_table(std::slice::from_ref(&c)));
            store.close().await;
        }
        CertCmd::Revoke { common, id } => {
            let store = admin_store(cfg_path, &common).await?;
            store.revoke_agency_cert(&actor, &id).await?;
            println!("client certificate {id} revoked");
            store.close().await;
        }
        CertCmd::List { common, body } => {
            let store = admin_store(cfg_path, &common).await?;
            print!("{}", admin::certs_table(&store.agency_certs(&body).await?));
            store.close().await;
        }
    }
    Ok(())
}

async fn key_cmd(cfg_path: Option<&Path>, cmd: KeyCmd) -> anyhow::Result<()> {
    let actor = admin::cli_actor();
    match cmd {
        KeyCmd::Issue {
            common,
            body,
            owner,
            functions,
            label,
        } => {
            let fs = admin::parse_functions(&functions)?;
            let store = admin_store(cfg_path, &common).await?;
            let (id, key) = store
                .issue_api_key(&actor, &body, &owner, &fs, &label)
                .await?;
            print!("{}", admin::key_shown_once(&id, &body, &key));
            store.close().await;
        }
        KeyCmd::Add {
            common,
            body,
            owner,
            functions,
            sha256,
            label,
        } => {
            let fs = admin::parse_functions(&functions)?;
            let store = admin_store(cfg_path, &common).await?;
            let id = store
                .register_api_key_hash(&actor, &body, &owner, &fs, &label, &sha256)
                .await?;
            println!("API key {id} registered for {body}");
            store.close().await;
        }
        KeyCmd::Rotate { common, id } => {
            let store = admin_store(cfg_path, &common).await?;
            let (new_id, key) = store.rotate_api_key(&actor, &id).await?;
            let body = store
                .caller_for_key(&key)
                .await?
                .map(|c| c.body.id)
                .unwrap_or_default();
            println!("API key {id} revoked");
            print!("{}", admin::key_shown_once(&new_id, &body, &key));
            store.close().await;
        }
        KeyCmd::Revoke { common, id } => {
            let store = admin_store(cfg_path, &common).await?;
            store.revoke_api_key(&actor, &id).await?;
            println!("API key {id} revoked");
            store.close().await;
        }
        KeyCmd::List { common, body } => {
            let store = admin_store(cfg_path, &common).await?;
            println!("id\towner\tfunctions\tcreated\trevoked\tlabel");
            for k in store.api_keys(&body).await? {
                let fs: Vec<&str> = k.functions.iter().map(|f| f.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.owner_uid,
                    fs.join(","),
                    k.created_at.to_rfc3339(),
                    k.revoked_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                    k.label
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

async fn employee_cmd(cfg_path: Option<&Path>, cmd: EmployeeCmd) -> anyhow::Result<()> {
    let actor = admin::cli_actor();
    match cmd {
        EmployeeCmd::Add {
            common,
            body,
            psn,
            functions,
        } => {
            let psn = popreg_domain::Psn::parse(&psn)?;
            let fs = admin::parse_functions(&functions)?;
            let store = admin_store(cfg_path, &common).await?;
            store.add_employee(&actor, &body, psn, &fs).await?;
            println!("{psn} is an employee of {body}");
            store.close().await;
        }
        EmployeeCmd::End { common, body, psn } => {
            let psn = popreg_domain::Psn::parse(&psn)?;
            let store = admin_store(cfg_path, &common).await?;
            store.end_employee(&actor, &body, psn).await?;
            println!("{psn} is no longer an employee of {body}");
            store.close().await;
        }
    }
    Ok(())
}

async fn grant_cmd(cfg_path: Option<&Path>, cmd: GrantCmd) -> anyhow::Result<()> {
    let actor = admin::cli_actor();
    match cmd {
        GrantCmd::Add {
            common,
            body,
            elements,
            purpose,
            legal_basis,
            ends_on,
        } => {
            let els: Vec<String> = elements.split(',').map(|e| e.trim().to_string()).collect();
            let store = admin_store(cfg_path, &common).await?;
            let g = store
                .add_grant(&actor, &body, &els, &purpose, &legal_basis, ends_on)
                .await?;
            println!("grant {} for {body}", g.id);
            store.close().await;
        }
        GrantCmd::Revoke { common, id } => {
            let store = admin_store(cfg_path, &common).await?;
            store.revoke_grant(&actor, &id).await?;
            println!("grant {id} revoked");
            store.close().await;
        }
        GrantCmd::List { common, body } => {
            let store = admin_store(cfg_path, &common).await?;
            println!("id\telements\tpurpose\tlegal basis\tends on\trevoked");
            for g in store.grants(&body).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    g.id,
                    g.elements.join(","),
                    g.purpose,
                    g.legal_basis,
                    g.ends_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                    g.revoked_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into())
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

async fn audit_cmd(cfg_path: Option<&Path>, cmd: AuditCmd) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::Verify {
            common,
            public_key,
            json,
        } => {
            let cfg = load(cfg_path, &common)?;
            init_logging(&cfg);
            let key = match public_key {
                Some(p) => {
                    let raw = std::fs::read(&p)
                        .with_context(|| format!("cannot read public key {}", p.display()))?;
                    if raw.len() == 32 {
                        raw
                    } else {
                        let text = String::from_utf8_lossy(&raw);
                        popreg_store::base64_decode(text.trim())
                            .filter(|k| k.len() == 32)
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "{}: not an Ed25519 public key (32 bytes, raw or base64)",
                                    p.display()
                                )
                            })?
                    }
                }
                None => {
                    let path = cfg.audit_key_path();
                    let der = std::fs::read(&path).with_context(|| {
                        format!(
                            "cannot read the signing key {} (or pass --public-key)",
                            path.display()
                        )
                    })?;
                    popreg_store::AuditSigner::from_pkcs8(&der)?
                        .public_key()
                        .to_vec()
                }
            };
            let store = app::open_store(&cfg, Arc::new(SystemClock)).await?;
            let started = std::time::Instant::now();
            let report = store.audit_verify(&key).await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "audit trail: {} leaves, root {}; {} signed checkpoints, verified up to {} leaves; {} rows \
                     checked in {:.1}s",
                    report.leaves,
                    report.root,
                    report.checkpoints,
                    report.verified_size,
                    report.rows_checked,
                    started.elapsed().as_secs_f64()
                );
                for f in &report.findings {
                    match f.seq {
                        Some(s) => println!("  leaf {s}: {}: {}", f.problem, f.detail),
                        None => println!("  {}: {}", f.problem, f.detail),
                    }
                }
                println!("{}", if report.ok() { "INTACT" } else { "NOT INTACT" });
            }
            if !report.ok() {
                std::process::exit(1);
            }
        }
        AuditCmd::Checkpoint { common } => {
            let cfg = load(cfg_path, &common)?;
            init_logging(&cfg);
            let store = app::open_store(&cfg, Arc::new(SystemClock)).await?;
            let path = cfg.audit_key_path();
            store.set_audit_signer(popreg_store::AuditSigner::load_or_create(&path)?);
            let c = store.audit_checkpoint().await?;
            store.close().await;
            print!("{}", c.note);
            println!("— {} {}", c.key_id, c.signature);
        }
    }
    Ok(())
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
        Command::DkimKey {
            out,
            domain,
            selector,
        } => {
            print!("{}", popreg::dkim::run(&out, &domain, &selector)?);
            Ok(())
        }
        Command::HashKey { key } => {
            println!("{}", popreg_web::hash_api_key(&key));
            Ok(())
        }
        Command::Body(cmd) => body_cmd(cfg_path, cmd).await,
        Command::Key(cmd) => key_cmd(cfg_path, cmd).await,
        Command::Employee(cmd) => employee_cmd(cfg_path, cmd).await,
        Command::Grant(cmd) => grant_cmd(cfg_path, cmd).await,
        Command::Audit(cmd) => audit_cmd(cfg_path, cmd).await,
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
            let running = app::serve(&cfg).await?;
            if running.store.bodies().await?.is_empty() {
                tracing::warn!(
                    "no bodies registered: the API refuses every key until `popreg body add` and \
                     `popreg key issue` create one"
                );
            }
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
    // Three persons of the generated population, with their names as generated (the demo does not read the
    // register for them: every read of a person passes the access gate and is logged).
    let sample_names = popreg_synth::generate(&synth)
        .flat_map(|b| b.entries.into_iter())
        .filter_map(|(_, e)| match e.fact {
            popreg_domain::Fact::Birth { names, .. }
            | popreg_domain::Fact::Registration { names, .. } => Some((e.subject, names)),
            _ => None,
        })
        .take(3)
        .collect::<Vec<_>>();
    let samples = sample_names
        .iter()
        .map(|(p, _)| p.to_string())
        .collect::<Vec<_>>();
    // The legal-entity, vehicle and driving-licence registries are other authorities' systems too: the demo
    // runs one local server speaking their contract. Its data is derived from the PSN; on top, the sample
    // card holders hold roles in the demo companies (the TINs of the demo tax registry), so that the
    // company sections (G.6) can be tried at once.
    let demo_roles = [
        (0, 0, "director"),
        (0, 1, "founder"),
        (1, 0, "founder"),
        (2, 2, "head_of_staff"),
    ];
    let mut roles = Vec::new();
    for (who, company, role) in demo_roles {
        if let Some((psn, _)) = sample_names.get(who) {
            roles.push((
                *psn,
                popreg_domain::Tin::parse(demo_tins[company])?,
                role.to_string(),
            ));
        }
    }
    let registries = popreg_connectors::fake::FakeRegistries::start(roles).await?;
    {
        use popreg_connectors::registries::RegistryKind as K;
        cfg.connectors.legal_entity_registry_url = registries.url(K::LegalEntities);
        cfg.connectors.vehicle_registry_url = registries.url(K::Vehicles);
        cfg.connectors.driving_licence_registry_url = registries.url(K::DrivingLicences);
    }
    // A TEST CA with ID cards for the sample persons, for trying ID-card login (the demo itself stays on
    // plain HTTP so that a browser opens it without certificate warnings; see docs/identity.md).
    let pki = dir.join("dev-ca");
    let now = chrono::Utc::now();
    let mut holders = Vec::new();
    for (psn, names) in &sample_names {
        let holder = popreg_identity::dev_ca::CardHolder::new(*psn, now, 5);
        holders.push(holder.named(&names.surname.lat, &names.first.lat));
    }
    popreg_identity::dev_ca::write_dir(&pki, now, &holders, &[])?;
    store.close().await;
    // The demo bodies with a key each, acting for adults of the generated population (A1.37).
    let store = app::open_store(&cfg, Arc::new(SystemClock)).await?;
    let owners: Vec<String> = popreg_synth::generate(&synth)
        .flat_map(|b| b.entries.into_iter())
        .filter_map(|(_, e)| match e.fact {
            popreg_domain::Fact::Registration { birth_date, .. }
                if birth_date < synth.today - chrono::Days::new(30 * 365) =>
            {
                Some(e.subject.to_string())
            }
            _ => None,
        })
        .take(9)
        .collect();
    let demo_keys = admin::demo_bodies(&store, &dir, &owners).await?;
    // The first sample card holder works at the maternity hospital, so the provider workspace can be tried
    // with their card; and a ready birth submission names a mother from the population.
    if let Some(p) = samples.first()
        && store
            .employee("MED-0001", popreg_domain::Psn::parse(p)?)
            .await?
            .is_none()
    {
        store
            .add_employee(
                "demo",
                "MED-0001",
                popreg_domain::Psn::parse(p)?,
                &[popreg_domain::access::Function::Submit],
            )
            .await?;
    }
    // The second works at the register's operator: the manager's page and the access administration.
    if let Some(p) = samples.get(1) {
        let p = popreg_domain::Psn::parse(p)?;
        if store.employee("OPS-0001", p).await?.is_none() {
            use popreg_domain::access::Function;
            store
                .add_employee(
                    "demo",
                    "OPS-0001",
                    p,
                    &[Function::ManageRegister, Function::ManageAccess],
                )
                .await?;
        }
    }
    // The third receives visitors at the Migration and Citizenship Service (A1.5.4), whose services have
    // free times on the next working days; reading the visitors' names passes the access gate.
    if let Some(p) = samples.get(2) {
        let p = popreg_domain::Psn::parse(p)?;
        if store.employee("MIG-0001", p).await?.is_none() {
            use popreg_domain::access::Function;
            store
                .add_employee(
                    "demo",
                    "MIG-0001",
                    p,
                    &[Function::StaffAppointments, Function::ReadPersons],
                )
                .await?;
        }
    }
    let opened =
        admin::demo_appointments(&store, popreg_store::armenian_date(chrono::Utc::now())).await?;
    eprintln!(
        "popreg demo: {opened} visiting times open at MIG-0001 (the portal's \"my appointments\")"
    );
    let mother = popreg_synth::generate(&synth)
        .flat_map(|b| b.entries.into_iter())
        .find_map(|(_, e)| match e.fact {
            popreg_domain::Fact::Registration {
                birth_date,
                sex: popreg_domain::Sex::F,
                ..
            } if birth_date < synth.today - chrono::Days::new(20 * 365)
                && birth_date > synth.today - chrono::Days::new(40 * 365) =>
            {
                Some(e.subject.to_string())
            }
            _ => None,
        });
    let birth_file = dir.join("birth.json");
    if let Some(m) = &mother {
        let born = popreg_store::armenian_date(chrono::Utc::now()) - chrono::Days::new(1);
        let birth = serde_json::json!({
            "first_name": "Արամ", "patronymic": "Դավթի", "surname": "Պետրոսյան", "sex": "M",
            "birth_date": born.to_string(),
            "birth_place": {"country": "AM", "marz": "AM-ER", "community": "AM-ER-001"},
            "mother": {"psn": m}
        });
        std::fs::write(&birth_file, serde_json::to_string_pretty(&birth)?)?;
    }
    let med_key = demo_keys.key_of("MED-0001").map(str::to_string);
    let key = demo_keys
        .key_of("MIG-0001")
        .context("the demo has no authorized body")?
        .to_string();
    store.close().await;
    let store = app::open_store(&cfg, Arc::new(SystemClock)).await?;
    // The portal's demo card chooser: the sample card holders, by name. On plain HTTP on a loopback address
    // the session cookie cannot be `Secure` (browsers would drop it), so the demo turns that off there.
    let demo_cards = sample_names
        .iter()
        .map(|(psn, n)| popreg_web::DemoCard {
            psn: *psn,
            name: format!(
                "{} {} ({} {})",
                n.first.hy, n.surname.hy, n.first.lat, n.surname.lat
            ),
        })
        .collect();
    let loopback = cfg
        .server
        .listen
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback());
    if loopback && cfg.server.tls_cert.is_empty() {
        cfg.portal.secure_cookies = false;
    }
    // The official mail domain (G.3.1) on a free local port, STARTTLS with the TEST CA's server certificate,
    // forwards signed with a demo DKIM key (kept in the data directory).
    let dkim_key = dir.join("dkim.pem");
    popreg::dkim::ensure(&dkim_key)?;
    let mut srs = [0u8; 16];
    getrandom::fill(&mut srs).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    let inbound = &mut cfg.notify.inbound;
    inbound.enabled = true;
    inbound.listen = "127.0.0.1:0".into();
    inbound.tls_cert = Some(pki.join("server.pem"));
    inbound.tls_key = Some(pki.join("server.key.pem"));
    inbound.srs_secret = Some(popreg_notify::Secret::new(
        srs.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ));
    inbound.dkim_key = Some(dkim_key);
    // Links in the demo's e-mails (verification, forwarded notices) point at the demo itself.
    if cfg.notify.public_url.trim().is_empty()
        && cfg.notify.portal.url.trim().is_empty()
        && let Ok(a) = cfg.server.listen.parse::<std::net::SocketAddr>()
        && a.port() != 0
    {
        cfg.notify.public_url = format!("http://{a}");
    }
    // The demo's mail catcher: e-mails and SMS are shown at /demo/mail instead of being sent.
    let mail = Arc::new(popreg_notify::capture::Capture::default());
    let running = app::start_demo(&cfg, store, demo_cards, Some(mail)).await?;
    let url = running.url();
    println!();
    println!("  popreg demo is running at {url}");
    println!(
        "  e-Citizen portal: open {url}/login in a browser and pick a demo card (demo only), then see the desk,"
    );
    println!(
        "  \"my data\", \"who used my data\", \"other registries\" and \"my companies\" (demo registries at {}/…)",
        registries.addr
    );
    println!(
        "  e-mails and SMS the demo sends (verification links, codes) are not sent: read them at {url}/demo/mail"
    );
    println!("  data directory:  {}", dir.display());
    println!("  bodies and their API keys (the keys are in the file; each is shown only there):");
    print!("{}", demo_keys.table());
    println!("  the examples use the Migration and Citizenship Service's key (MIG-0001)");
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
    if let (Some(k), true) = (&med_key, mother.is_some()) {
        println!(
            "  submit a birth as the maternity hospital (MED-0001); the answer carries the newborn's PSN:"
        );
        println!(
            "    curl -H 'X-API-Key: {k}' -H 'Content-Type: application/json' --data @{} {url}/api/v1/submissions/birth",
            birth_file.display()
        );
        println!("    curl -H 'X-API-Key: {k}' {url}/api/v1/rejections");
        println!(
            "  schemas and the data-element catalogue: {url}/api/v1/schemas  {url}/api/v1/openapi.json"
        );
    }
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
        println!(
            "  provider workspace: import {d}/card-{p}.p12 (password popreg) and {d}/ca.pem into a browser and open \
             https://localhost:8443/workspace (this card holder is an employee of MED-0001)"
        );
    }
    if let Some(mx) = running.inbound_addr {
        let to = samples
            .first()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "PSN".into());
        println!(
            "  official mail (G.3.1): SMTP on {mx} for <PSN>@{}, e.g. (then see /my/inbox of that person):",
            cfg.notify.inbound.domain
        );
        println!(
            "    python3 -c \"import smtplib; smtplib.SMTP('127.0.0.1', {}).sendmail('a@example.org', ['{to}@{}'], b'Subject: Hello\\r\\n\\r\\nHello from outside\\r\\n')\"",
            mx.port(),
            cfg.notify.inbound.domain
        );
    }
    println!("  stop with Ctrl-C");
    println!();
    running.wait().await
}
