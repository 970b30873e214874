#![recursion_limit = "512"]
//! Vigía's web server. Handlers are thin: they read a request into domain input, call
//! the store, and turn the outcome (or the error) into a page or a JSON answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use vigia_store::DynStore;

pub mod access;
pub mod account;
pub mod alerts;
pub mod analysis;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod clock;
pub mod consents;
pub mod error;
pub mod evidence;
pub mod facilities;
pub mod home;
pub mod i18n;
pub mod kit;
pub mod openapi;
pub mod publications;
pub mod recommendations;
pub mod reports;
pub mod requests;
pub mod retention;
pub mod routes;
pub mod server;
pub mod site;
pub mod state;
pub mod statements;
pub mod statistics;
pub mod visits;

pub use state::{
    AppState, Config, MailConfig, ANONYMOUS_LIMIT, CSV_LIMIT, CSV_ROUTE_LIMIT, FILE_ROUTE_LIMIT, FORM_LIMIT,
    MULTIPART_SLACK,
};

/// Every (method, path) the application serves: the routers assembled here, in one place.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    routes().list
}

/// Each feature's routes (its pages, then its API), merged here and nowhere else.
fn routes() -> routes::Routes {
    routes::Routes::default()
        .merge(site::routes())
        .merge(openapi::routes())
        .merge(home::routes())
        .merge(account::routes())
        .merge(account::sign_in::routes())
        .merge(account::users::routes())
        .merge(account::api::routes())
        .merge(facilities::routes())
        .merge(facilities::api::routes())
        .merge(access::pages::page_routes())
        .merge(access::api::routes())
        .merge(analysis::routes())
        .merge(cases::routes())
        .merge(statements::routes())
        .merge(statements::timeline::routes())
        .merge(visits::routes())
        .merge(evidence::routes())
        .merge(alerts::routes())
        .merge(alerts::email::routes())
        .merge(clock::routes())
        .merge(clock::api::routes())
        .merge(clock::calendars::routes())
        .merge(clock::legal::routes())
        .merge(audit::routes())
        .merge(reports::routes())
        .merge(publications::routes())
        .merge(statistics::routes())
        .merge(recommendations::routes())
        .merge(requests::routes())
        .merge(consents::routes())
        .merge(retention::routes())
}

/// The whole application: pages, API, static files, with the request context layer.
pub fn app(store: DynStore, config: Config) -> Router {
    app_sharing(store, config, Arc::default())
}

/// The application reading the daily access counts from `analyses`, a copy in memory
/// it shares with the worker of the same process (each copy is tens of megabytes on a
/// large dataset).
pub fn app_sharing(store: DynStore, config: Config, analyses: Arc<vigia_app::analysis::Mirror>) -> Router {
    let state = AppState {
        store,
        config: Arc::new(config),
        analyses,
        detections: Arc::default(),
        counts: Arc::default(),
        open_cases: Arc::default(),
        timelines: Arc::default(),
        statement_searches: Arc::new(vigia_app::kept::Kept::new(32)),
        // A part can be a few hundred kilobytes (the analysis page with its map): a
        // thousand keys bound what questions asked in many ways can make it hold.
        parts: Arc::new(vigia_app::kept::Kept::new(1024)),
        // A page kept is at most 256 KiB: 256 of them hold at most 64 MiB.
        pages: Arc::new(vigia_app::kept::Kept::new(256)),
        imports: Arc::default(),
    };
    routes()
        .router
        .fallback(error::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), server::limit_request))
        .layer(axum::middleware::from_fn(kit::frame::frame_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::context))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .with_state(state)
}

/// Binds `addr` (port 0 picks a free one) and serves until the process ends.
pub async fn bind(addr: &str) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until Ctrl-C, then lets open requests finish.
pub async fn serve(listener: tokio::net::TcpListener, app: Router, config: &Config) -> std::io::Result<()> {
    server::run(listener, app, config, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Starts the app on a free loopback port in the background; for tests and benchmarks.
pub async fn spawn(store: DynStore, config: Config) -> std::io::Result<SocketAddr> {
    let (listener, addr) = bind("127.0.0.1:0").await?;
    let analyses = Arc::new(vigia_app::analysis::Mirror::default());
    vigia_app::worker::spawn(store.clone(), config.worker(), analyses.clone());
    let router = app_sharing(store, config.clone(), analyses);
    tokio::spawn(async move { server::run(listener, router, &config, std::future::pending()).await });
    Ok(addr)
}
