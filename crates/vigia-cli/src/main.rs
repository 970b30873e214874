//! `vigia`: the server and the administrators' command line.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand};
use vigia_domain::account::{self, Locale, Role};
use vigia_store::{keyfile, secrets, Actor, DynStore};

use vigia_cli::{add_user, demo};

#[derive(Parser)]
#[command(
    name = "vigia",
    version,
    about = "Vigía: watch over migrant detention centers and hold authorities to account"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Place {
    /// The data directory: the SQLite database, the master key, evidence files.
    #[arg(long, env = "VIGIA_DATA_DIR", default_value = "vigia-data")]
    data_dir: PathBuf,
    /// A PostgreSQL URL (postgres://…) to use instead of the SQLite file in the data dir.
    #[arg(long, env = "VIGIA_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    place: Place,
    /// Address to listen on.
    #[arg(long, env = "VIGIA_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Mark cookies Secure with the __Host- prefix (when served over TLS).
    #[arg(long, env = "VIGIA_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Serve the approved publications read-only at /public (the demo always does).
    #[arg(long, env = "VIGIA_PUBLIC_SITE")]
    public_site: bool,
    /// A host webhooks may be sent to although it is not a public address (a receiver
    /// on your own network); repeat for more. Everything else internal is refused.
    #[arg(long = "webhook-allow-host", env = "VIGIA_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
    webhook_allow_hosts: Vec<String>,
    /// Seconds one webhook delivery may take before it counts as failed and is retried
    /// later. Deliveries are held (leased) for six times this, so after a server dies
    /// mid-send another sends them once the lease runs out.
    #[arg(long, env = "VIGIA_WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    webhook_timeout: u64,
    /// The address of a reverse proxy in front of Vigía whose X-Forwarded-For names the
    /// client (for per-address sign-in limits); repeat for more. Without it the header
    /// is ignored.
    #[arg(long = "trusted-proxy", env = "VIGIA_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The SMTP server e-mail alerts are sent through, e.g.
    /// smtp://user:password@mail.example.org:587?tls=required (STARTTLS),
    /// smtps://…:465 (TLS from the start) or smtp://127.0.0.1:25 (a local relay, no TLS).
    /// Without it no e-mail is written or sent.
    #[arg(long, env = "VIGIA_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of e-mail alerts, e.g. "Vigía <avisos@example.org>".
    #[arg(long, env = "VIGIA_MAIL_FROM")]
    mail_from: Option<String>,
    /// The address people open Vigía at, for the links in e-mails (e.g. https://vigia.example.org).
    #[arg(long, env = "VIGIA_PUBLIC_URL")]
    public_url: Option<String>,
    /// The hour (0–23, central Mexico time) after which daily digests go out.
    #[arg(long, env = "VIGIA_DIGEST_HOUR", default_value_t = 7, value_parser = clap::value_parser!(i8).range(0..24))]
    digest_hour: i8,
}

#[derive(Subcommand)]
enum Command {
    /// Create (or reuse) a data dir with a realistic demo dataset and serve it.
    Demo(ServeArgs),
    /// Serve the web UI and the API.
    Serve(ServeArgs),
    /// Fill a new data dir with a large invented dataset for load tests: the demo, then
    /// ten years of attempts, cases, statements and visits (at --scale 1: a million
    /// attempts, 100,000 cases, 100,000 statements, 10,000 visits), through the same
    /// checks and writes as real data. Never for publication.
    Synth {
        #[command(flatten)]
        place: Place,
        /// The share of the full dataset (0.01 = 10,000 attempts).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The same seed (on the same day) gives the same dataset.
        #[arg(long, default_value_t = 2020)]
        seed: u64,
        /// No progress lines.
        #[arg(long)]
        quiet: bool,
    },
    /// Create a new data dir with its master key, a first organization and its admin.
    Init {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org_slug: String,
        #[arg(long)]
        org_name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, default_value = "Admin")]
        admin_name: String,
        /// Read the admin's password from the first line of standard input (else one is generated and printed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Users and their roles.
    #[command(subcommand)]
    User(UserCmd),
    /// Personal API tokens for scripts.
    #[command(subcommand)]
    Token(TokenCmd),
    /// An organization's webhooks: list them, turn them off or on, delete them.
    #[command(subcommand)]
    Webhook(WebhookCmd),
    /// The facility registry.
    #[command(subcommand)]
    Facility(FacilityCmd),
    /// The tamper-evident history.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Write an organization's approved publication of a year as a signed static site
    /// (HTML, CSS, CSV, JSON, SVG; no JavaScript), or check one offline (`verify`).
    Publish(PublishArgs),
    /// Official statistics (the UPM bulletin's tables): import a file as dataset
    /// versions, list the versions.
    #[command(subcommand)]
    Stats(StatsCmd),
    /// UN recommendations: import the UHRI export (created or updated by annotation id).
    #[command(subcommand)]
    Recommendations(RecommendationsCmd),
    /// Access-to-information requests: import a log, list requests with their
    /// deadlines, add a state regime.
    #[command(subcommand)]
    Requests(RequestsCmd),
    /// Consent per purpose: list a case's records and where each purpose stands, and
    /// write the ARCO file of everything held about one person.
    #[command(subcommand)]
    Consents(ConsentsCmd),
    /// Retention of personal data: set an organization's rule, list the cases due, and
    /// erase one case's personal data (its own key destroyed; cannot be undone).
    #[command(subcommand)]
    Retention(RetentionCmd),
    /// The master key.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// The legal clock: working days on Mexico's legal calendars.
    #[command(subcommand)]
    Clock(ClockCmd),
    /// Write a period report (or, with --facility, a centre's dossier) as an
    /// organization sees it: the same figures, words and hash as the web page's PDF.
    Report {
        #[command(flatten)]
        place: Place,
        /// The organization whose view it is (its slug).
        #[arg(long)]
        org: String,
        /// The organization and its coalition partners (whole calendar years: --year).
        #[arg(long)]
        coalition: bool,
        #[arg(long)]
        year: Option<i32>,
        /// First day (YYYY-MM-DD; organization scope).
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD; organization scope).
        #[arg(long)]
        until: Option<String>,
        /// A facility id: its dossier.
        #[arg(long)]
        facility: Option<i64>,
        /// A visit id of the organization: that visit's report as filed (pdf or html).
        #[arg(long, conflicts_with_all = ["coalition", "year", "from", "until", "facility"])]
        visit: Option<i64>,
        /// es or en.
        #[arg(long, default_value = "es")]
        lang: String,
        /// pdf, html or json.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a consistent copy of the SQLite database and its evidence files into the new
    /// directory OUT while the server may run, then verify the copy.
    Backup {
        #[command(flatten)]
        place: Place,
        out: PathBuf,
    },
    /// Write every record (SQLite or PostgreSQL) to FILE as JSON Lines, a portable archive
    /// that `vigia import --all` loads into either backend. Sealed data stays sealed.
    /// Stop the server first; for live PostgreSQL backups use pg_dump.
    Export {
        #[command(flatten)]
        place: Place,
        /// Everything (the only kind of export so far).
        #[arg(long)]
        all: bool,
        file: PathBuf,
    },
    /// Load a `vigia export --all` FILE into an empty database, then verify the audit
    /// chain, its head and every count against the export. The file's signature (made
    /// with the master key) is checked before anything is written. `vigia import
    /// attempts FILE --org SLUG` imports a CSV of access attempts instead.
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        #[command(subcommand)]
        what: Option<ImportCmd>,
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        all: bool,
        /// Accept an export made before exports were signed (format 1): its audit chain
        /// and counts are still checked, but anyone could have changed its other rows.
        #[arg(long)]
        allow_unsigned: bool,
        file: Option<PathBuf>,
    },
    /// Check the backup in FROM (database hash, evidence files, the whole audit chain,
    /// record counts, the master key) and only then make it the data of --data-dir. Stop
    /// the server first. Existing data needs --force and is kept aside, not deleted.
    Restore {
        #[command(flatten)]
        place: Place,
        from: PathBuf,
        /// Replace existing data (it is moved to replaced-<time>/ in the data dir).
        #[arg(long)]
        force: bool,
        /// Accept a backup made before manifests were signed (format 1): its hashes
        /// and audit chain are still checked, but anyone could have rewritten them.
        #[arg(long)]
        allow_unsigned: bool,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct PublishArgs {
    #[command(subcommand)]
    cmd: Option<PublishCmd>,
    #[command(flatten)]
    place: Place,
    /// The organization (its slug).
    #[arg(long)]
    org: Option<String>,
    /// The year of its approved publication.
    #[arg(long)]
    year: Option<i16>,
    /// A new (or empty) directory to write the site into.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PublishCmd {
    /// Check a published site offline: the signature over manifest.json, every file's
    /// SHA-256, and that nothing was added or removed. Non-zero on any problem.
    Verify {
        dir: PathBuf,
        /// The publisher's Ed25519 public key (hex), as they publish it elsewhere.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum StatsCmd {
    /// Import an XLS, XLSX or CSV table of the bulletin for an organization: every table
    /// in it becomes a new version, or nothing is stored and each cell that could not be
    /// placed is printed (sheet, row, column) with a non-zero exit.
    Import {
        #[command(flatten)]
        place: Place,
        /// The file.
        file: PathBuf,
        /// The importing organization (its slug).
        #[arg(long)]
        org: String,
        /// Who published the file.
        #[arg(long, default_value = "Unidad de Política Migratoria, SEGOB")]
        publisher: String,
        /// Where it was downloaded from (http or https).
        #[arg(long)]
        source_url: Option<String>,
        /// When it was downloaded (YYYY-MM-DD; today if absent).
        #[arg(long)]
        retrieved: Option<String>,
        /// When it was published, if known (YYYY-MM-DD).
        #[arg(long)]
        published: Option<String>,
    },
    /// Every imported version, newest first, as JSON lines.
    List {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum RecommendationsCmd {
    /// Import an XLSX export of the Universal Human Rights Index for an organization:
    /// every row read (or nothing stored and each unreadable cell printed, non-zero exit).
    Import {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
        /// The importing organization (its slug).
        #[arg(long)]
        org: String,
        /// The language of the texts: en, es or fr.
        #[arg(long, default_value = "en")]
        language: String,
    },
}

#[derive(Subcommand)]
enum RequestsCmd {
    /// Import a requests log (CSV) for an organization: every row, or nothing stored and
    /// each problem printed by line and column with a non-zero exit.
    Import {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
        /// The importing organization (its slug).
        #[arg(long)]
        org: String,
    },
    /// The organization's requests with their deadlines today, as JSON lines.
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
    },
    /// Add a state regime from a JSON file shaped like a regime of
    /// `crates/vigia-domain/data/transparency.json` (with "federal": false).
    Regime {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConsentsCmd {
    /// A case's consent records and the decision standing for each purpose, as JSON.
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        case: i64,
    },
    /// Writes the ARCO file of a case's person (their data, events with notes, the
    /// documents, consents, shares) to --out, recorded in the case's history.
    Arco {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        case: i64,
        /// A new file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum RetentionCmd {
    /// Sets the organization's rule: erase personal data --months after a case closes.
    Rule {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        months: i64,
        /// Do not hold cases with a recorded appeal or amparo.
        #[arg(long)]
        no_hold: bool,
    },
    /// Every case with where it stands under the rule, as JSON lines (--due: only those due).
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        due: bool,
    },
    /// Erases a case's personal data. Irreversible: needs --confirm.
    Erase {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        case: i64,
        /// retention (the rule made it due) or person_request (ARCO cancellation).
        #[arg(long)]
        reason: String,
        /// States that the appeal or amparo recorded for the case has ended.
        #[arg(long)]
        litigation_ended: bool,
        #[arg(long)]
        confirm: bool,
    },
}

#[derive(Subcommand)]
enum ClockCmd {
    /// The date on which the N-th working day after --from falls (counting starts the next day).
    Add {
        #[arg(long)]
        from: String,
        #[arg(long, allow_hyphen_values = true)]
        working_days: String,
        #[command(flatten)]
        opts: ClockOpts,
    },
    /// Working days after --from up to and including --to.
    Count {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        opts: ClockOpts,
    },
    /// The calendars, their rules and legal sources.
    Calendars {
        /// es or en.
        #[arg(long, default_value = "es")]
        lang: String,
    },
}

#[derive(Args)]
struct ClockOpts {
    /// lfpa (default), lft, amparo, inm or comar.
    #[arg(long, default_value = vigia_domain::clock::DEFAULT_CALENDAR)]
    calendar: String,
    /// Also list every day in between and why each non-working day does not count.
    #[arg(long)]
    explain: bool,
    /// Language of the explanation: es or en.
    #[arg(long, default_value = "es")]
    lang: String,
    /// Also count with the agency days entered in this data dir (else the shipped calendars alone).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum OrgCmd {
    /// Add an organization.
    Add {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// List organizations.
    List {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user to an organization with a role.
    Add {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, coordinator, monitor, lawyer or analyst.
        #[arg(long)]
        role: String,
        /// The organization's slug.
        #[arg(long)]
        org: String,
        /// es or en.
        #[arg(long, default_value = "es")]
        locale: String,
        /// Read the password from the first line of standard input (else one is generated and printed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[command(flatten)]
        place: Place,
        /// One JSON object per user: email, organization, role.
        #[arg(long)]
        json: bool,
    },
    /// Print a one-time link (a path on the server) that lets a user set a new
    /// password; it works once, for --hours (1 by default).
    ResetPassword {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=72))]
        hours: u32,
    },
    /// Disable a user: their sessions end and they can no longer sign in.
    Disable {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum WebhookCmd {
    /// The organization's webhooks (deleted ones left out), one per line.
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
    },
    /// Stop sending to a webhook; deliveries not yet sent are given up.
    Disable {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
    },
    /// Send to a disabled webhook again.
    Enable {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
    },
    /// Delete a webhook for good (it stays in the audit history).
    Delete {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a personal API token and print it (it is shown only once).
    Create {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// A user's tokens: id, state, name, created, last used, expires.
    List {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        user: String,
    },
    /// Revoke one of a user's tokens.
    Revoke {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        user: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import a CSV of access attempts for an organization, read as it goes (any size,
    /// up to a million rows): every row, or nothing stored and each problem printed
    /// (line, column, reason) with a non-zero exit. A progress line shows rows read,
    /// rows per second and problems so far.
    Attempts {
        #[command(flatten)]
        place: Place,
        /// The CSV file (`-` for standard input).
        file: PathBuf,
        /// The importing organization (its slug).
        #[arg(long)]
        org: String,
        /// No progress line.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum FacilityCmd {
    /// Import facilities from a CSV file: all rows or none.
    Import {
        #[command(flatten)]
        place: Place,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the hash chain and compare every record with its last audited version.
    Verify {
        #[command(flatten)]
        place: Place,
        /// A head printed earlier by `vigia audit head` and kept outside Vigía: the
        /// history must still hold that entry with that hash (repeat for more).
        #[arg(long = "head", value_name = "FILE")]
        heads: Vec<PathBuf>,
    },
    /// Print the audit chain's head as signed JSON, to publish or keep outside Vigía
    /// (with a partner, a notary, a public post); `verify --head` checks it later.
    Head {
        #[command(flatten)]
        place: Place,
    },
    /// Recount the daily access counts the analysis reads from the attempts themselves
    /// (when `verify` finds them out of step; nothing recorded is changed).
    Recount {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Generate a new master key and re-wrap every organization's data key with it.
    Rotate {
        #[command(flatten)]
        place: Place,
    },
}

impl Place {
    fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| vigia_store::sqlite_url(&self.data_dir.join("vigia.db")))
    }

    fn ensure_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create the data dir {}", self.data_dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// Opens an existing data dir's store.
    async fn open(&self) -> anyhow::Result<DynStore> {
        if self.database_url.is_none() && !self.data_dir.join("vigia.db").exists() {
            bail!("no database in {}: run `vigia init` (or `vigia demo`) first", self.data_dir.display());
        }
        let keys = keyfile::load(&self.data_dir)?;
        self.open_with(&keys).await
    }

    /// Opens the store, creating the data dir and its key when missing.
    async fn open_or_create(&self) -> anyhow::Result<DynStore> {
        self.ensure_dir()?;
        let keys = keyfile::load_or_create(&self.data_dir)?;
        self.open_with(&keys).await
    }

    async fn open_with(&self, keys: &[vigia_store::MasterKey]) -> anyhow::Result<DynStore> {
        let store = vigia_store::open(&self.url(), keys).await.map_err(|e| anyhow!("cannot open the database: {e}"))?;
        Ok(store)
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        account::check_password("password", &pw).map_err(|e| anyhow!("password refused: {}", e.code))?;
        Ok((pw, false))
    } else {
        Ok((secrets::new_token("")?, true))
    }
}

/// The user an e-mail names, for the flag `flag`; optionally refusing a disabled one.
async fn user_named(
    store: &DynStore,
    flag: &str,
    email: &str,
    live: bool,
) -> anyhow::Result<(String, vigia_domain::account::User)> {
    let email = email.trim().to_lowercase();
    let (user, _) = store.user_by_email(&email).await?.ok_or_else(|| anyhow!("{flag}: no user {email:?}"))?;
    if live && user.disabled {
        bail!("{flag}: {email} is disabled");
    }
    Ok((email, user))
}

async fn serve(args: ServeArgs, store: DynStore) -> anyhow::Result<()> {
    let mail = match (args.smtp_url, args.mail_from, args.public_url) {
        (None, _, _) => None,
        (Some(smtp_url), Some(from), Some(public_url)) => {
            Some(vigia_web::MailConfig { smtp_url, from, public_url, digest_hour: args.digest_hour })
        }
        (Some(_), from, _) => {
            let missing =
                if from.is_none() { "--mail-from (VIGIA_MAIL_FROM)" } else { "--public-url (VIGIA_PUBLIC_URL)" };
            bail!("--smtp-url needs {missing} too");
        }
    };
    let config = vigia_web::Config {
        secure_cookies: args.secure_cookies,
        webhook_allow_hosts: args.webhook_allow_hosts,
        webhook_timeout: std::time::Duration::from_secs(args.webhook_timeout),
        trusted_proxies: args.trusted_proxies,
        mail,
        public_site: args.public_site,
        ..Default::default()
    };
    let (listener, addr) =
        vigia_web::bind(&args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
    println!("Vigía is serving on http://{addr}/  (Ctrl-C stops it)");
    // The worker and the server share one copy of the daily counts.
    let analyses = std::sync::Arc::new(vigia_app::analysis::Mirror::default());
    vigia_app::worker::spawn(store.clone(), config.worker(), analyses.clone());
    if let Some(mail) = &config.mail {
        vigia_web::alerts::email::spawn(store.clone(), mail.clone(), config.worker_interval, config.retry_base)
            .map_err(|e| anyhow!("{e}"))?;
        println!("E-mail alerts go through the SMTP server given; links point at {}", mail.public_url);
    }
    vigia_web::serve(listener, vigia_web::app_sharing(store, config.clone(), analyses), &config).await?;
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(mut args) => {
            args.public_site = true;
            let store = args.place.open_or_create().await?;
            let seeded = demo::seed(&store).await?;
            if seeded {
                println!("Demo data loaded into {}", args.place.data_dir.display());
            } else {
                println!("Reusing the data in {}", args.place.data_dir.display());
            }
            demo::print_accounts();
            serve(args, store).await?;
        }
        Command::Synth { place, scale, seed, quiet } => {
            let plan = vigia_cli::synth::Plan::at(scale)?;
            let store = place.open_or_create().await?;
            let started = std::time::Instant::now();
            let mut last = std::time::Instant::now();
            let mut progress = |phase: vigia_cli::synth::Phase, done: usize, of: usize| {
                if !quiet && (done == of || last.elapsed() >= std::time::Duration::from_secs(5)) {
                    last = std::time::Instant::now();
                    eprintln!("{}: {done} / {of} ({:.0} s)", phase.name(), started.elapsed().as_secs_f64());
                }
            };
            let today = vigia_app::today();
            let made = vigia_cli::synth::generate(&store, plan, seed, today, &mut progress).await?;
            println!(
                "Synthetic data in {}: {} attempts, {} cases ({} events), {} statements ({} claims), {} visits, in {:.0} s",
                place.data_dir.display(),
                made.attempts,
                made.cases,
                made.events,
                made.statements,
                made.claims,
                made.visits,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Serve(args) => {
            let store = args.place.open().await?;
            serve(args, store).await?;
        }
        Command::Init { place, org_slug, org_name, admin_email, admin_name, password_stdin } => {
            if place.database_url.is_none() && place.data_dir.join("vigia.db").exists() {
                bail!("{} already holds a database", place.data_dir.display());
            }
            let slug = account::parse_slug("org_slug", &org_slug).map_err(|e| anyhow!("--org-slug: {}", e.code))?;
            let (password, generated) = read_password(password_stdin)?;
            let store = place.open_or_create().await?;
            let org = store.create_org(&Actor::SYSTEM, &slug, org_name.trim()).await?;
            let user = add_user(&store, &admin_email, &admin_name, "admin", org.id, Locale::Es, &password).await?;
            println!("Created {} with organization {} and admin {}", place.data_dir.display(), org.slug, user.email);
            if generated {
                println!("Admin password (shown once): {password}");
            }
        }
        Command::Org(OrgCmd::Add { place, slug, name }) => {
            let store = place.open().await?;
            let slug = account::parse_slug("slug", &slug).map_err(|e| anyhow!("--slug: {}", e.code))?;
            let org = store.create_org(&Actor::SYSTEM, &slug, name.trim()).await?;
            println!("{}", org.id);
        }
        Command::Org(OrgCmd::List { place }) => {
            let store = place.open().await?;
            for o in store.list_orgs().await? {
                println!("{}\t{}\t{}", o.id, o.slug, o.name);
            }
        }
        Command::User(UserCmd::Add { place, email, name, role, org, locale, password_stdin }) => {
            let store = place.open().await?;
            let org = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            let locale = Locale::parse(&locale).ok_or_else(|| anyhow!("--locale must be es or en"))?;
            if Role::parse(&role).is_none() {
                bail!("--role must be one of admin, coordinator, monitor, lawyer, analyst");
            }
            let (password, generated) = read_password(password_stdin)?;
            let user = add_user(&store, &email, &name, &role, org.id, locale, &password).await?;
            println!("Added {} to {} as {}", user.email, org.slug, user.role.as_str());
            if generated {
                println!("Password (shown once): {password}");
            }
        }
        Command::User(UserCmd::List { place, json }) => {
            let store = place.open().await?;
            let orgs = store.list_orgs().await?;
            for u in store.list_users(None).await? {
                let org = orgs.iter().find(|o| o.id == u.org_id).map(|o| o.slug.as_str()).unwrap_or("?");
                if json {
                    let line = serde_json::json!({
                        "email": u.email, "organization": org, "role": u.role.as_str(),
                        "name": u.display_name, "disabled": u.disabled,
                    });
                    println!("{line}");
                } else {
                    println!("{}\t{}\t{}{}", u.email, org, u.role.as_str(), if u.disabled { "\tdisabled" } else { "" });
                }
            }
        }
        Command::User(UserCmd::ResetPassword { place, email, hours }) => {
            let store = place.open().await?;
            let (email, user) = user_named(&store, "--email", &email, true).await?;
            let token = secrets::new_token("")?;
            let until = vigia_store::now_micros() + i64::from(hours) * 3_600_000_000;
            store.create_password_reset(&Actor::SYSTEM, user.id, &secrets::token_hash(&token), until).await?;
            println!("/reset/{token}");
            eprintln!(
                "Send {email} this path on the server's address (https://…/reset/…); it works once, until {}.",
                vigia_domain::format_instant(until)
            );
        }
        Command::User(UserCmd::Disable { place, email }) => {
            let store = place.open().await?;
            let (email, user) = user_named(&store, "--email", &email, false).await?;
            store.set_user_disabled(&Actor::SYSTEM, user.id, true).await?;
            println!("Disabled {email}");
        }
        Command::Token(TokenCmd::Create { place, user, name }) => {
            let store = place.open().await?;
            let (_, u) = user_named(&store, "--user", &user, true).await?;
            let token = secrets::new_token("vga_")?;
            store.create_api_token(&Actor::SYSTEM, u.id, name.trim(), &secrets::token_hash(&token)).await?;
            println!("{token}");
        }
        Command::Webhook(cmd) => {
            use vigia_store::WebhookState;
            let (place, org, change) = match cmd {
                WebhookCmd::List { place, org } => (place, org, None),
                WebhookCmd::Disable { place, org, id } => (place, org, Some((id, WebhookState::Disabled))),
                WebhookCmd::Enable { place, org, id } => (place, org, Some((id, WebhookState::Active))),
                WebhookCmd::Delete { place, org, id } => (place, org, Some((id, WebhookState::Deleted))),
            };
            let store = place.open().await?;
            let org = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            match change {
                None => {
                    for h in store.webhooks(org.id).await? {
                        println!("{}\t{}\t{}", h.id, if h.active { "on" } else { "off" }, h.url);
                    }
                }
                Some((id, state)) => {
                    let h = store.set_webhook_state(&Actor::SYSTEM, org.id, id, state).await.map_err(|e| match e {
                        vigia_store::StoreError::NotFound => anyhow!("--id: {} has no webhook {id}", org.slug),
                        other => other.into(),
                    })?;
                    let now = if h.deleted {
                        "deleted"
                    } else if h.active {
                        "on"
                    } else {
                        "off"
                    };
                    println!("Webhook {} is {now}", h.id);
                }
            }
        }
        Command::Token(TokenCmd::List { place, user }) => {
            let store = place.open().await?;
            let (_, u) = user_named(&store, "--user", &user, false).await?;
            let now = vigia_store::now_micros();
            let when = |t: Option<i64>| t.map(vigia_domain::format_instant).unwrap_or_else(|| "-".into());
            for t in store.api_tokens(u.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "live"
                };
                let created = vigia_domain::format_instant(t.created_at);
                println!("{}\t{state}\t{}\t{created}\t{}\t{}", t.id, t.name, when(t.last_used_at), when(t.expires_at));
            }
        }
        Command::Token(TokenCmd::Revoke { place, user, id }) => {
            let store = place.open().await?;
            let (email, u) = user_named(&store, "--user", &user, false).await?;
            store.revoke_api_token(&Actor::SYSTEM, u.id, id).await.map_err(|e| match e {
                vigia_store::StoreError::NotFound => anyhow!("--id: {email} has no live token {id}"),
                other => other.into(),
            })?;
            println!("Token {id} of {email} is revoked");
        }
        Command::Facility(FacilityCmd::Import { place, file }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let drafts = match vigia_domain::import::facilities_csv(&bytes) {
                Ok(d) => d,
                Err(errors) => {
                    eprintln!("{}: nothing imported; {} problem(s):", file.display(), errors.len());
                    for e in &errors {
                        eprintln!("  {e}");
                    }
                    return Ok(ExitCode::from(1));
                }
            };
            let store = place.open().await?;
            let ids = store.import_facilities(&Actor::SYSTEM, drafts).await?;
            println!("Imported {} facilities", ids.len());
        }
        Command::Report { place, org, coalition, year, from, until, facility, visit, lang, format, out } => {
            let mut q: std::collections::HashMap<String, String> = std::collections::HashMap::new();
            q.insert("scope".into(), if coalition { "coalition" } else { "org" }.into());
            let pairs = [
                ("year", year.map(|y| y.to_string())),
                ("from", from),
                ("until", until),
                ("facility_id", facility.map(|f| f.to_string())),
                ("lang", Some(lang)),
                ("format", Some(format)),
            ];
            q.extend(pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))));
            let ask = match vigia_web::reports::ask(&q, vigia_domain::account::Locale::Es, true) {
                Ok(a) => a,
                Err(errors) => bail!("report refused: {errors}"),
            };
            let store = place.open().await?;
            let orgs = store.list_orgs().await?;
            let viewer =
                orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            if let Some(id) = visit {
                let v = store.visit(viewer.id, id).await?.ok_or_else(|| anyhow!("--visit: {org} has no visit {id}"))?;
                let doc = vigia_web::visits::report::document(&store, ask.lang, &viewer.name, &v)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                let bytes = match ask.format {
                    vigia_web::reports::Format::Pdf => vigia_report::pdf::render(&doc)?,
                    vigia_web::reports::Format::Html => vigia_report::html::standalone(&doc).into_bytes(),
                    vigia_web::reports::Format::Json => {
                        bail!("--format json is for period reports; a visit's is pdf or html")
                    }
                };
                std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
                println!("{} ({} bytes)", out.display(), bytes.len());
                return Ok(ExitCode::SUCCESS);
            }
            let mirror = vigia_app::analysis::Mirror::default();
            let found = vigia_app::findings::FoundCache::default();
            let (report, doc) = vigia_web::reports::make(&store, &mirror, &found, viewer.id, &ask.query, ask.lang)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let bytes = match ask.format {
                vigia_web::reports::Format::Pdf => vigia_report::pdf::render(&doc)?,
                vigia_web::reports::Format::Html => vigia_report::html::standalone(&doc).into_bytes(),
                vigia_web::reports::Format::Json => {
                    serde_json::to_vec_pretty(&vigia_web::reports::json_value(&report, &doc))?
                }
            };
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            println!("{} ({} bytes, content SHA-256 {})", out.display(), bytes.len(), report.content_hash());
        }
        Command::Stats(StatsCmd::Import { place, file, org, publisher, source_url, retrieved, published }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let mut pairs = vec![
                ("publisher".to_string(), publisher),
                ("retrieved_on".to_string(), retrieved.unwrap_or_else(|| vigia_app::today().to_string())),
            ];
            pairs.extend(source_url.map(|u| ("source_url".to_string(), u)));
            pairs.extend(published.map(|p| ("published_on".to_string(), p)));
            let provenance = vigia_domain::statistics::provenance(
                &vigia_domain::input::RawInput::from_pairs(pairs),
                vigia_app::today(),
            )
            .map_err(|e| anyhow!("provenance refused: {e}"))?;
            let store = place.open().await?;
            let orgs = store.list_orgs().await?;
            let o = orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            match vigia_app::statistics::import(&store, &Actor::SYSTEM, o.id, &name, bytes, provenance).await {
                Ok(Ok(versions)) => {
                    for v in versions {
                        println!(
                            "imported version {}: table {} {} ({} rows, months {:?}, events)",
                            v.id, v.code, v.year, v.row_count, v.months
                        );
                    }
                }
                Ok(Err(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    bail!("nothing imported: {} cell(s) could not be placed", problems.len());
                }
                Err(e) => bail!("import failed: {e}"),
            }
        }
        Command::Recommendations(RecommendationsCmd::Import { place, file, org, language }) => {
            if !matches!(language.as_str(), "en" | "es" | "fr") {
                bail!("--language: en, es or fr");
            }
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = place.open().await?;
            let orgs = store.list_orgs().await?;
            let o = orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            match vigia_app::recommendations::import(&store, &Actor::SYSTEM, o.id, bytes, &language).await {
                Ok(Ok(n)) => {
                    println!("recommendations: {} new, {} updated, {} unchanged", n.created, n.updated, n.unchanged)
                }
                Ok(Err(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    bail!("nothing imported: {} cell(s) could not be read", problems.len());
                }
                Err(e) => bail!("import failed: {e}"),
            }
        }
        Command::Requests(RequestsCmd::Import { place, file, org }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            match vigia_app::transparency::import_csv(&store, &Actor::SYSTEM, o.id, &bytes, vigia_app::today()).await {
                Ok(Ok(n)) => println!("imported {n} requests"),
                Ok(Err(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    bail!("nothing imported: {} problem(s)", problems.len());
                }
                Err(e) => bail!("import failed: {e}"),
            }
        }
        Command::Requests(RequestsCmd::List { place, org }) => {
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            for v in
                vigia_app::transparency::list(&store, o.id, vigia_app::today()).await.map_err(|e| anyhow!("{e}"))?
            {
                println!("{}", serde_json::to_string(&v)?);
            }
        }
        Command::Requests(RequestsCmd::Regime { place, file }) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let regime: vigia_domain::transparency::Regime =
                serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a regime: {e}", file.display()))?;
            let store = place.open().await?;
            let cals = vigia_store::calendars(&*store).await?;
            regime.check(&cals).map_err(|why| anyhow!("regime refused: {why}"))?;
            let name = regime.name.clone();
            vigia_app::transparency::add_regime(&store, &Actor::SYSTEM, regime).await.map_err(|e| anyhow!("{e}"))?;
            println!("regime {name} added");
        }
        Command::Consents(ConsentsCmd::List { place, org, case }) => {
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            store.case(o.id, case).await?.ok_or_else(|| anyhow!("--case: no case {case} in {org}"))?;
            let records = store.consents(o.id, Some(case)).await?;
            let standing: Vec<serde_json::Value> = vigia_app::consents::standing(&records)
                .into_iter()
                .map(|(p, partner, decision, _)| serde_json::json!({"purpose": p, "partner_org_id": partner, "decision": decision}))
                .collect();
            println!("{}", serde_json::json!({"case_id": case, "standing": standing, "records": records}));
        }
        Command::Retention(RetentionCmd::Rule { place, org, months, no_hold }) => {
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            let raw = vigia_domain::input::RawInput::from_pairs([
                ("months_after_close", months.to_string()),
                ("hold_while_litigating", (!no_hold).to_string()),
            ]);
            let r =
                vigia_app::retention::set_rule(&store, &Actor::SYSTEM, o.id, &raw).await.map_err(|e| anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&r)?);
        }
        Command::Retention(RetentionCmd::List { place, org, due }) => {
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            let today = vigia_app::today();
            let items = if due {
                vigia_app::retention::due(&store, o.id, today).await
            } else {
                vigia_app::retention::list(&store, o.id, today).await.map(|(_, l)| l)
            }
            .map_err(|e| anyhow!("{e}"))?;
            for x in items {
                println!("{}", serde_json::to_string(&x)?);
            }
        }
        Command::Retention(RetentionCmd::Erase { place, org, case, reason, litigation_ended, confirm }) => {
            if !confirm {
                bail!("erasing a case's personal data cannot be undone: add --confirm");
            }
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            store.case(o.id, case).await?.ok_or_else(|| anyhow!("--case: no case {case} in {org}"))?;
            let raw = vigia_domain::input::RawInput::from_pairs([
                ("reason", reason),
                ("litigation_ended", litigation_ended.to_string()),
            ]);
            let e = vigia_app::retention::erase(&store, &Actor::SYSTEM, o.id, case, &raw, vigia_app::today())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&e)?);
        }
        Command::Consents(ConsentsCmd::Arco { place, org, case, out }) => {
            if out.exists() {
                bail!("--out: {} exists; the file is written new", out.display());
            }
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            store.case(o.id, case).await?.ok_or_else(|| anyhow!("--case: no case {case} in {org}"))?;
            let bytes = vigia_app::consents::arco_export(&store, &Actor::SYSTEM, o.id, case)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            println!("{} ({} bytes): everything held about the person of case {case}", out.display(), bytes.len());
        }
        Command::Stats(StatsCmd::List { place }) => {
            let store = place.open().await?;
            for v in store.stat_versions().await? {
                println!("{}", vigia_web::statistics::api::version_json(&v));
            }
        }
        Command::Publish(PublishArgs { cmd: Some(PublishCmd::Verify { dir, key }), .. }) => {
            match vigia_report::site::verify_dir(&dir, key.as_deref()) {
                Ok(v) => println!(
                    "ok: {} files of {} ({}) signed by Ed25519 key {}",
                    v.files, v.publisher, v.year, v.public_key
                ),
                Err(problems) => {
                    for p in &problems {
                        eprintln!("BROKEN: {p}");
                    }
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Publish(PublishArgs { cmd: None, place, org, year, out }) => {
            let (Some(org), Some(year), Some(out)) = (org, year, out) else {
                bail!("vigia publish needs --org SLUG --year YEAR --out DIR (or: vigia publish verify DIR)");
            };
            if out.exists() && std::fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(true) {
                bail!("--out: {} is not empty; a site is written into a new or empty directory", out.display());
            }
            let store = place.open().await?;
            let o = store.org_by_slug(&org).await?.ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
            let files = vigia_web::publications::approved_site(&store, o.id, year).await.map_err(|e| anyhow!("{e}"))?;
            vigia_report::site::write_dir(&out, &files).with_context(|| format!("cannot write {}", out.display()))?;
            let v = vigia_report::site::verify_dir(&out, None)
                .map_err(|p| anyhow!("the site written does not verify: {p:?}"))?;
            println!("{}: {} files, signed by Ed25519 key {}", out.display(), v.files, v.public_key);
        }
        Command::Audit(AuditCmd::Head { place }) => {
            let store = place.open().await?;
            println!("{}", serde_json::to_string(&store.audit_head().await?)?);
        }
        Command::Audit(AuditCmd::Verify { place, heads }) => {
            let store = place.open().await?;
            let mut report = store.verify_audit().await?;
            for file in &heads {
                report.problems.extend(vigia_cli::archive::check_published_head(&store, file).await?);
            }
            if report.ok() {
                println!("ok: {} entries, head {} {}", report.entries, report.head_seq, report.head_hash);
            } else {
                for p in &report.problems {
                    eprintln!("BROKEN: {p}");
                }
                return Ok(ExitCode::from(1));
            }
        }
        Command::Audit(AuditCmd::Recount { place }) => {
            let store = place.open().await?;
            store.recount_access().await?;
            println!("Recounted the daily access counts from the attempts");
        }
        Command::Keys(KeysCmd::Rotate { place }) => {
            let r = vigia_cli::keys::rotate(&place.data_dir, &place.url()).await?;
            match r.settled {
                keyfile::Settled::Finished => println!("Finished an interrupted rotation first"),
                keyfile::Settled::Undone => println!("Removed the unused key of an interrupted rotation first"),
                keyfile::Settled::Nothing => {}
            }
            println!(
                "Re-wrapped {} data key(s) with a new master key in {}; each organization has a new data key for what is sealed from now on",
                r.data_keys,
                place.data_dir.join(keyfile::FILE).display()
            );
        }
        Command::Clock(cmd) => return clock(cmd).await,
        Command::Export { place, all, file } => {
            if !all {
                bail!("say --all: the export carries every record");
            }
            let store = place.open().await?;
            let h = vigia_cli::archive::export_all(&store, &file).await?;
            println!(
                "Exported to {} ({} audit entries, head {})",
                file.display(),
                h.counts.get("audit_log"),
                h.head_hash
            );
        }
        Command::Import { what: Some(ImportCmd::Attempts { place, file, org, quiet }), .. } => {
            return vigia_cli::imports::attempts(&place.open().await?, &file, &org, quiet).await;
        }
        Command::Import { what: None, place, all, allow_unsigned, file } => {
            if !all {
                bail!("say --all: the import loads a whole export (or `vigia import attempts FILE --org SLUG`)");
            }
            let file = file.ok_or_else(|| anyhow!("the export file to load is missing"))?;
            place.ensure_dir()?;
            let keys = keyfile::load(&place.data_dir)?;
            let h = vigia_cli::archive::import_all(&place.url(), &keys, &file, allow_unsigned).await?;
            println!(
                "Imported {} ({} audit entries, head {}): verified",
                file.display(),
                h.counts.get("audit_log"),
                h.head_hash
            );
        }
        Command::Restore { place, from, force, allow_unsigned } => {
            if place.database_url.is_some() {
                bail!("restore works on SQLite data dirs; for PostgreSQL use pg_restore (see docs/operations.md)");
            }
            place.ensure_dir()?;
            let keys = keyfile::load(&place.data_dir)?;
            let opts = vigia_cli::archive::RestoreOptions { force, allow_unsigned };
            let r = vigia_cli::archive::restore(&from, &place.data_dir, &keys, opts).await?;
            println!(
                "Restored {} into {} ({} audit entries, head {}, {} evidence files checked)",
                from.display(),
                place.data_dir.display(),
                r.manifest.audit_entries,
                r.manifest.head_hash,
                r.blobs
            );
            if let Some(aside) = r.kept_aside {
                println!("The data it replaced is kept in {}", aside.display());
            }
        }
        Command::Backup { place, out } => {
            let store = place.open().await?;
            store.backup_to(&out).await?;
            let copy =
                vigia_store::open(&vigia_store::sqlite_url(&out.join("vigia.db")), &keyfile::load(&place.data_dir)?)
                    .await?;
            let report = copy.verify_audit().await?;
            if !report.ok() {
                bail!("the backup does not verify: {}", report.problems.join("; "));
            }
            let counts = copy.counts().await?;
            let key = copy.master_key();
            copy.close().await;
            vigia_cli::archive::write_manifest(&out, &report, counts, &key)?;
            vigia_store::owner_only_tree(&out)?;
            println!(
                "Backup written to {} ({} audit entries, head {})",
                out.display(),
                report.entries,
                report.head_hash
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vigia clock …`: one date or number on stdout; with --explain, the days after it.
async fn clock(cmd: ClockCmd) -> anyhow::Result<ExitCode> {
    use vigia_domain::clock::{answer, validate_query, Calendars};
    use vigia_domain::input::RawInput;
    let data_dir = match &cmd {
        ClockCmd::Add { opts, .. } | ClockCmd::Count { opts, .. } => opts.data_dir.clone(),
        ClockCmd::Calendars { .. } => None,
    };
    let calendars = match data_dir {
        Some(dir) => {
            let place = Place { data_dir: dir, database_url: std::env::var("VIGIA_DATABASE_URL").ok() };
            let store = place.open().await?;
            vigia_store::calendars(&*store).await?
        }
        None => std::sync::Arc::new(Calendars::builtin()),
    };
    let (pairs, opts, counting) = match cmd {
        ClockCmd::Calendars { lang } => {
            let l = Locale::parse(&lang).ok_or_else(|| anyhow!("--lang must be es or en"))?;
            for name in calendars.names() {
                let c = calendars.get(name)?;
                println!("{name}\t{}\t{}", c.title(l), c.spec.source);
            }
            return Ok(ExitCode::SUCCESS);
        }
        ClockCmd::Add { from, working_days, opts } => {
            (vec![("from", from), ("working_days", working_days)], opts, false)
        }
        ClockCmd::Count { from, to, opts } => (vec![("from", from), ("to", to)], opts, true),
    };
    let l = Locale::parse(&opts.lang).ok_or_else(|| anyhow!("--lang must be es or en"))?;
    let mut pairs: Vec<(&str, String)> = pairs;
    pairs.push(("calendar", opts.calendar.clone()));
    let raw = RawInput::from_pairs(pairs);
    let q = validate_query(&raw, &calendars, counting).map_err(|errs| {
        let e = &errs.0[0];
        anyhow!("--{}: {}", e.field.replace('_', "-"), e.code)
    })?;
    let a = answer(&q, &calendars, opts.explain, l)?;
    if counting {
        println!("{}", a.working_days);
    } else {
        println!("{}", a.to);
    }
    if !opts.explain {
        // Standard output stays one value for scripts; what the text leaves open is said beside it.
        for (d, why) in &a.open {
            let why: Vec<String> = why.iter().map(|r| r.describe()).collect();
            eprintln!("# {d}: {}", why.join("; "));
        }
    }
    if opts.explain {
        let (counts, open) =
            if l == Locale::Es { ("cuenta", "texto ambiguo") } else { ("counts", "the text is ambiguous") };
        let cal = calendars.get(&a.calendar)?;
        match cal.version(l) {
            Some(v) => println!("# {}: {} ({}; {v})", a.calendar, cal.title(l), cal.spec.source),
            None => println!("# {}: {} ({})", a.calendar, cal.title(l), cal.spec.source),
        }
        let mut n = 0;
        for (d, reasons) in &a.days {
            if reasons.is_empty() {
                n += 1;
                match a.open.iter().find(|(o, _)| o == d) {
                    Some((_, why)) => {
                        let why: Vec<String> = why.iter().map(|r| r.describe()).collect();
                        println!("{d}\t{counts} {n}; {open}: {}", why.join("; "));
                    }
                    None => println!("{d}\t{counts} {n}"),
                }
            } else {
                let why: Vec<String> = reasons.iter().map(|r| r.describe()).collect();
                println!("{d}\t{}", why.join("; "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A server starts again as itself with `MALLOC_ARENA_MAX=2` unless its environment
/// already names a number. glibc gives each thread that allocates under contention an
/// arena of its own (up to eight per core) and rarely returns what they held; with fifty
/// clients a large server's resident memory was half again its heap (decisions.md,
/// "Memory"). The variable is read only when a process starts, and setting it from
/// inside would need unsafe code, so the process replaces itself once (same process id,
/// same arguments, the same file even if the binary was replaced on disk since); if that
/// fails it goes on as it is. It does so once: glibc drops `MALLOC_ARENA_MAX` from the
/// environment of a program run with file capabilities or setuid, so the variable alone
/// would not stop it from starting again forever; `VIGIA_ARENAS_SET` marks the second
/// start.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() && std::env::var_os(ARENAS_SET).is_none() {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new("/proc/self/exe");
        if let Some(name) = args.next() {
            again.arg0(name);
        }
        let err = again.args(args).env("MALLOC_ARENA_MAX", "2").env(ARENAS_SET, "1").exec();
        tracing::warn!(error = %err, "could not start again with MALLOC_ARENA_MAX=2; going on");
    }
}

/// Set when a server started again for [`few_malloc_arenas`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS_SET: &str = "VIGIA_ARENAS_SET";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIA_LOG").unwrap_or_else(|_| "warn,vigia=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                // One line: the reason, without clap's usage block.
                let text = e.to_string();
                let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
                eprintln!("vigia: {first} (see vigia --help)");
                return ExitCode::from(2);
            }
        },
    };
    if matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        few_malloc_arenas();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vigia: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigia: {e:#}");
            ExitCode::from(1)
        }
    }
}
