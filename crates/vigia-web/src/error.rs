//! Errors of the web layer and how they answer: RFC 9457 problem details for the API,
//! an HTML page for people. Internal causes are logged, never sent.

use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use vigia_domain::account::Locale;
use vigia_domain::import::RowError;
use vigia_domain::ValidationErrors;
use vigia_store::StoreError;

use crate::i18n::{field_error, tr, tr_args};

tokio::task_local! {
    /// The locale of the request being answered, set by the context layer.
    pub static LOCALE: Locale;
}

/// Draws an error page (its message and what to do) inside the site's frame, for the
/// person and page of the request being answered; `None` if it cannot.
pub type Frame = std::sync::Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

tokio::task_local! {
    /// The frame of the request being answered, set by the kit's frame layer
    /// (`kit::frame::frame_errors`), so an error page keeps the menu of the person
    /// reading it. Errors know nothing of pages; pages know errors.
    pub static FRAME: Frame;
}

pub fn current_locale() -> Locale {
    LOCALE.try_with(|l| *l).unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF check failed")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    TooLarge,
    /// A request without a signed-in user took longer than it may.
    #[error("request timeout")]
    Timeout,
    #[error("too many attempts")]
    TooManyAttempts { minutes: u64 },
    /// As many imports as the server takes at once are under way.
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("import rejected")]
    Import(Vec<RowError>),
    /// A spreadsheet refused: every cell that could not be placed (sheet, row, column).
    #[error("spreadsheet rejected")]
    Sheets(Vec<vigia_domain::statistics::bulletin::Problem>),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The case's personal data was erased (issue #20 part 3).
    #[error("erased")]
    Erased,
    #[error("unavailable")]
    Unavailable,
    /// The organization requires two-factor sign-in and this user has not set it up.
    #[error("two-factor sign-in required")]
    TwoFactorRequired,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<vigia_domain::clock::ClockError> for WebError {
    fn from(e: vigia_domain::clock::ClockError) -> Self {
        WebError::BadRequest(e.to_string())
    }
}

impl From<vigia_app::AppError> for WebError {
    fn from(e: vigia_app::AppError) -> Self {
        match e {
            vigia_app::AppError::Invalid(v) => WebError::Invalid(v),
            vigia_app::AppError::Store(s) => s.into(),
            vigia_app::AppError::Internal(m) => WebError::Internal(m),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Conflict(what) => WebError::Conflict(what),
            StoreError::Erased => WebError::Erased,
            StoreError::Invalid(v) => WebError::Invalid(v),
            StoreError::Integrity(what) => {
                tracing::error!(%what, "a security record fails its integrity check: written without the master key");
                WebError::Unavailable
            }
            StoreError::Vault(vigia_store::VaultError::Rotated) => {
                tracing::error!("the master key was rotated while this server ran: restart it to write again");
                WebError::Unavailable
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::Csrf | WebError::TwoFactorRequired => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Timeout => StatusCode::REQUEST_TIMEOUT,
            WebError::TooManyAttempts { .. } | WebError::Busy => StatusCode::TOO_MANY_REQUESTS,
            WebError::Invalid(_) | WebError::Import(_) | WebError::Sheets(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Erased => StatusCode::GONE,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            WebError::NotFound => "not-found",
            WebError::Unauthorized => "unauthorized",
            WebError::Forbidden => "forbidden",
            WebError::Csrf => "csrf",
            WebError::BadRequest(_) => "bad-request",
            WebError::UnsupportedMediaType => "unsupported-media-type",
            WebError::TooLarge => "too-large",
            WebError::Timeout => "timeout",
            WebError::TooManyAttempts { .. } => "too-many-attempts",
            WebError::Busy => "busy",
            WebError::Invalid(_) => "validation",
            WebError::Import(_) | WebError::Sheets(_) => "import-rejected",
            WebError::Conflict(_) => "conflict",
            WebError::Erased => "erased",
            WebError::Unavailable => "unavailable",
            WebError::TwoFactorRequired => "two-factor-required",
            WebError::Internal(_) => "internal",
        }
    }

    /// A sentence for people, in their language.
    pub fn message(&self, l: Locale) -> String {
        match self {
            WebError::NotFound => tr(l, "error-not-found"),
            WebError::Unauthorized => tr(l, "error-unauthorized"),
            WebError::Forbidden => tr(l, "error-forbidden"),
            WebError::Csrf => tr(l, "error-csrf"),
            WebError::BadRequest(r) => tr_args(l, "error-bad-request", &[("reason", r.clone())]),
            WebError::UnsupportedMediaType => tr_args(l, "error-bad-request", &[("reason", "Content-Type".into())]),
            WebError::TooLarge => tr(l, "error-too-large"),
            WebError::Timeout => tr(l, "error-timeout"),
            WebError::TooManyAttempts { minutes } => tr_args(l, "login-locked", &[("minutes", minutes.to_string())]),
            WebError::Busy => tr(l, "err-busy"),
            WebError::Invalid(v) => tr_args(l, "form-errors", &[("count", v.0.len().to_string())]),
            WebError::Import(rows) => tr_args(l, "form-errors", &[("count", rows.len().to_string())]),
            WebError::Sheets(cells) => tr_args(l, "form-errors", &[("count", cells.len().to_string())]),
            WebError::Conflict(what) => {
                if what == "version" {
                    tr(l, "form-conflict")
                } else {
                    tr_args(l, "error-conflict", &[("what", what.clone())])
                }
            }
            WebError::Erased => tr(l, "error-erased"),
            WebError::Unavailable | WebError::Internal(_) => tr(l, "error-internal"),
            WebError::TwoFactorRequired => tr(l, "error-two-factor-required"),
        }
    }

    fn log(&self) {
        if let WebError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
    }

    /// The RFC 9457 problem document.
    pub fn problem(&self, l: Locale) -> serde_json::Value {
        let status = self.status();
        let mut p = serde_json::json!({
            "type": format!("https://vigia.invalid/problems/{}", self.slug()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.message(l),
        });
        match self {
            WebError::Invalid(v) => {
                p["errors"] =
                    v.0.iter()
                        .map(|e| serde_json::json!({"field": e.field, "code": e.code, "message": field_error(l, e)}))
                        .collect();
            }
            WebError::Import(rows) => {
                p["error_count"] = rows.len().into();
                p["errors"] = rows
                    .iter()
                    .take(vigia_domain::import::LISTED_PROBLEMS)
                    .map(|r| {
                        serde_json::json!({"line": r.line, "field": r.column, "code": r.code, "message": field_error(l, &r.as_field_error())})
                    })
                    .collect();
            }
            WebError::Sheets(cells) => {
                p["error_count"] = cells.len().into();
                p["errors"] = cells
                    .iter()
                    .map(|c| {
                        // `field` names the cell as a spreadsheet does ("A20"), or the file.
                        let field =
                            if c.sheet.is_empty() { "file".to_string() } else { format!("{}{}", c.column, c.row) };
                        serde_json::json!({"field": field, "sheet": c.sheet, "row": c.row, "column": c.column,
                            "code": c.code, "message": crate::i18n::sheet_problem(l, c)})
                    })
                    .collect();
            }
            _ => {}
        }
        p
    }
}

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let body = self.0.problem(current_locale());
        let mut resp = (self.0.status(), body.to_string()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        if matches!(self.0, WebError::Unauthorized) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        if matches!(self.0, WebError::Unauthorized) {
            return axum::response::Redirect::to("/login").into_response();
        }
        let l = current_locale();
        let message = self.0.message(l);
        let todo = what_to_do(l, self.0.slug());
        let framed = FRAME.try_with(|frame| frame(&message, &todo)).ok().flatten();
        let page = framed.unwrap_or_else(|| render_error(l, &tr(l, "error-title"), &message));
        (self.0.status(), Html(page)).into_response()
    }
}

/// An error answered as a problem under `/api`, as a page elsewhere.
pub fn answer(path: &str, e: WebError) -> Response {
    if path.starts_with("/api/") {
        ApiError(e).into_response()
    } else {
        PageError(e).into_response()
    }
}

/// Unknown paths: a problem under `/api`, a page elsewhere.
pub async fn fallback(uri: Uri) -> Response {
    answer(uri.path(), WebError::NotFound)
}

/// What a person can do about an error, in words.
fn what_to_do(l: Locale, slug: &str) -> String {
    let key = format!("error-do-{slug}");
    let said = tr(l, &key);
    if said == key {
        tr(l, "error-do-other")
    } else {
        said
    }
}

/// The error page, in the reader's language.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'a str,
    title: &'a str,
    message: &'a str,
    back: String,
}

pub fn render_error(l: Locale, title: &str, message: &str) -> String {
    use askama::Template;
    ErrorPage { lang: l.as_str(), title, message, back: tr(l, "error-back") }
        .render()
        .unwrap_or_else(|_| message.to_string())
}
