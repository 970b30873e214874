//! Part of the shared kit (imports no feature): parts of answers kept until the data
//! change (issue #19). A feature keeps what it worked out — a JSON body, an SVG, the
//! calendar of a page — under its own name and a key saying what else the part depends
//! on (the viewer's organization, the language, the question asked); the next request
//! with the same key at the same data version reads it instead of working it out again.
//! The kit holds parts of any type, so it never names a feature's.

use std::any::Any;
use std::future::Future;

use crate::error::WebError;
use crate::state::AppState;

/// What the cache holds: any feature's part.
pub type Part = Box<dyn Any + Send + Sync>;

/// The part `name` for `key` at the data's current version: the kept one, or
/// `compute`'s (then kept). `key` must name everything the part depends on besides the
/// recorded data, the viewer's organization first when the part depends on it (the
/// calendars and a facility do not): a part is never shared across keys.
pub async fn kept<T, F, Fut>(st: &AppState, name: &'static str, key: String, compute: F) -> Result<T, WebError>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, WebError>>,
{
    let part =
        st.parts.get(&st.store, (name, key), || async move { compute().await.map(|t| Box::new(t) as Part) }).await?;
    part.downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| WebError::Internal(format!("the kept part {name} is of another type")))
}

/// A question's query string as a key: its pairs sorted, so the same question asked in
/// another order is the same key.
pub fn query_key(q: &std::collections::HashMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = q.iter().collect();
    pairs.sort();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}
