//! What every page needs from the site itself: the health check and the stylesheet.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default().get("/healthz", healthz).get("/static/app.css", css)
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"unavailable"}"#,
        )
            .into_response(),
    }
}

/// The site's style, then the reports' (one file, shared with the standalone report).
static CSS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{}\n{}", include_str!("../static/app.css"), vigia_report::html::CSS));

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS.as_str())
        .into_response()
}
