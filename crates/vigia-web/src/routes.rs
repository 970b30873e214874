//! Building the router while recording every (method, path) it serves, so tests can
//! walk the real route list: the authorization matrix and the OpenAPI document are
//! checked against exactly what the router answers.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

pub struct Routes {
    pub router: Router<AppState>,
    pub list: Vec<(&'static str, &'static str)>,
}

impl Default for Routes {
    fn default() -> Self {
        Self { router: Router::new(), list: Vec::new() }
    }
}

impl Routes {
    pub fn get<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.router = self.router.route(path, get(h));
        self.list.push(("GET", path));
        self
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.router = self.router.route(path, post(h));
        self.list.push(("POST", path));
        self
    }

    /// A POST that takes a file: its body may be up to `limit` bytes, read as it
    /// arrives; every other route takes at most [`crate::state::FORM_LIMIT`] (and anonymous
    /// requests [`crate::state::ANONYMOUS_LIMIT`]).
    pub fn upload<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H, limit: usize) -> Self {
        self.router = self.router.route(path, post(h).layer(DefaultBodyLimit::max(limit)));
        self.list.push(("POST", path));
        self
    }

    /// A POST whose body is read as it arrives with no size limit (an import of a
    /// million rows): the handler must consume it as a stream, bounded by what it
    /// accepts (rows, row length), never buffer it. Listed in
    /// [`crate::state::STREAMED_PATHS`] so the declared-length check lets it through.
    pub fn streamed<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        debug_assert!(crate::state::STREAMED_PATHS.contains(&path), "{path} is not listed as streamed");
        self.router = self.router.route(path, post(h).layer(DefaultBodyLimit::disable()));
        self.list.push(("POST", path));
        self
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.router = self.router.route(path, put(h));
        self.list.push(("PUT", path));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }
}
