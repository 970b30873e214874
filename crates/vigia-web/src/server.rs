//! What the server spends on a client before knowing who it is: a cap on open
//! connections, a deadline for a request's headers, a small body and a deadline for
//! anonymous requests, and each route's own body limit applied while reading.
//!
//! The security review pushed a server from 220 to 1,224 MiB with 50 anonymous
//! connections, because every body was buffered up to the largest any route takes
//! (20 MiB) before the route's own check. Now a body is refused from its declared
//! length before it is read, and cut off while read at the smallest limit that
//! applies; `axum::serve` has neither a header timeout nor a connection cap, hence the
//! accept loop here.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower_service::Service;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::state::{AppState, Config};

/// How long open requests may take to finish once the server is asked to stop.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts connections until `stop` completes, at most `config.max_connections` at a
/// time (the next client waits in the kernel's queue), each with a deadline for its
/// request headers; then lets open requests finish, for up to ten seconds.
pub async fn run(listener: tokio::net::TcpListener, app: Router, config: &Config, stop: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            let mut app = app.clone();
            async move { Ok::<_, Infallible>(app.call(req.map(Body::new)).await.unwrap_or_else(|e| match e {})) }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still open after {} s; stopping anyway", DRAIN.as_secs());
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// A request body that must average at least `rate` bytes a second once `grace` has
/// passed, checked every second while it waits; slower, it ends with an error (the
/// request is answered 400 and the connection closed).
pub struct MinRate {
    inner: Body,
    start: tokio::time::Instant,
    got: u64,
    grace: Duration,
    rate: u64,
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl MinRate {
    pub fn new(inner: Body, grace: Duration, rate: u64) -> Self {
        let start = tokio::time::Instant::now();
        MinRate { inner, start, got: 0, grace, rate, tick: Box::pin(tokio::time::sleep_until(start + grace)) }
    }

    fn too_slow(&self) -> bool {
        let elapsed = self.start.elapsed();
        elapsed >= self.grace && (self.got as f64) < elapsed.as_secs_f64() * self.rate as f64
    }
}

impl http_body::Body for MinRate {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.got += data.len() as u64;
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(other) => return Poll::Ready(other),
            Poll::Pending => {}
        }
        while self.tick.as_mut().poll(cx).is_ready() {
            if self.too_slow() {
                return Poll::Ready(Some(Err(axum::Error::new("the request body arrives too slowly"))));
            }
            let next = tokio::time::Instant::now() + Duration::from_secs(1);
            self.tick.as_mut().reset(next);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a path's `%XX` escapes decode to UTF-8 text (a stray `%` is left as it is).
fn decodes_to_utf8(path: &str) -> bool {
    percent_encoding::percent_decode_str(path).decode_utf8().is_ok()
}

/// Runs after the request context is known. A request without a signed-in user may
/// send at most [`crate::state::ANONYMOUS_LIMIT`] bytes and take `anonymous_timeout` in
/// all; a body whose declared length is over the limit that applies is refused before
/// a byte of it is read (the route's own limit, [`crate::routes::Routes::upload`],
/// still cuts off a body that lies about its length or sends none).
pub async fn limit_request(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let signed_in = req.extensions().get::<Ctx>().is_some_and(|c| c.user.is_some());
    let path = req.uri().path().to_string();
    // A path whose escapes are not UTF-8 matches no route's text: refused here, as a
    // problem or a page like every other error (axum's own refusal is plain text).
    if !decodes_to_utf8(&path) {
        let why = crate::i18n::tr(crate::error::current_locale(), "error-path-not-utf8");
        return crate::error::answer(&path, WebError::BadRequest(why));
    }
    let declared = declared_length(req.headers());
    let resp = if signed_in {
        let streamed = crate::state::STREAMED_PATHS.contains(&path.as_str());
        if !streamed && declared.is_some_and(|n| n > crate::state::CSV_ROUTE_LIMIT as u64) {
            return crate::error::answer(&path, WebError::TooLarge);
        }
        // A signed-in body has no deadline (a photo over a poor connection takes its
        // time) but must keep arriving: one that drips a byte a second would hold a
        // connection for ever (found by this session's own attack pass).
        let (parts, body) = req.into_parts();
        let (grace, rate) = st.config.body_min_rate;
        next.run(Request::from_parts(parts, Body::new(MinRate::new(body, grace, rate)))).await
    } else {
        if declared.is_some_and(|n| n > crate::state::ANONYMOUS_LIMIT as u64) {
            return crate::error::answer(&path, WebError::TooLarge);
        }
        let (parts, body) = req.into_parts();
        let limited = Body::new(http_body_util::Limited::new(body, crate::state::ANONYMOUS_LIMIT));
        match tokio::time::timeout(st.config.anonymous_timeout, next.run(Request::from_parts(parts, limited))).await {
            Ok(resp) => resp,
            Err(_) => return crate::error::answer(&path, WebError::Timeout),
        }
    };
    // A body cut off while read is refused by axum's extractor in plain text; it is
    // answered like every other error.
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return crate::error::answer(&path, WebError::TooLarge);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_decode_to_utf8_or_are_refused() {
        assert!(super::decodes_to_utf8("/facilities/12"));
        assert!(super::decodes_to_utf8("/facilities/Estaci%C3%B3n"));
        assert!(super::decodes_to_utf8("/a%2"), "a stray percent is left as it is");
        assert!(!super::decodes_to_utf8("/facilities/%FF"));
        assert!(!super::decodes_to_utf8("/facilities/%C3"), "a cut sequence");
    }
}
