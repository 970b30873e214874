//! Answers kept until the data change (issue #19).
//!
//! Many reads depend only on the recorded data, who asks and a few parameters:
//! contradictions, the lawyer's "today", the statistics timeline. Worked out on every
//! request they cost tens or hundreds of milliseconds of CPU each, and at 50 clients on
//! two cores that is seconds of waiting. [`Kept`] keeps each answer with the data's
//! version ([`vigia_store::Access::data_version`], which moves with every recorded
//! change, since every change writes the audit chain) and works it out again only when
//! the version has moved.
//!
//! Each key has its own lock: clients asking the same thing together after a write wait
//! for one computation; other keys do not wait for it. What is kept is bounded by the
//! number of keys; past it, the whole cache starts again.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use vigia_store::DynStore;

/// [`vigia_store::Access::data_version`].
pub type DataVersion = (i64, i64, i64);

tokio::task_local! {
    /// The data version a request has already read (with who is asking, in one
    /// query), with this process's count of changes
    /// ([`vigia_store::Access::local_changes`]) from before it was read.
    static READ_AT: (DataVersion, u64);
}

/// Runs `f` with `version` as the data version of every kept answer it asks for, on
/// PostgreSQL a round trip saved per answer; `changes_before` is
/// [`vigia_store::Access::local_changes`] taken before `version` was read. An answer is
/// worked out after its version was read, so it holds at least that version's data; a
/// change by another process during the request makes the next request work it out
/// again, and once this process has written (the request itself, say) the version is
/// read again.
pub async fn at<F: Future>(version: DataVersion, changes_before: u64, f: F) -> F::Output {
    READ_AT.scope((version, changes_before), f).await
}

/// The data version: the one the request read (see [`at`]) while this process has
/// written nothing since, else the store's now.
pub async fn version(store: &DynStore) -> Result<DataVersion, vigia_store::StoreError> {
    match READ_AT.try_with(|v| *v) {
        Ok((v, changes)) if changes == store.local_changes() => Ok(v),
        _ => store.data_version().await,
    }
}

type Slot<V> = Arc<tokio::sync::Mutex<Option<(DataVersion, Arc<V>)>>>;

/// Answers by key, each with the data version it was worked out at.
pub struct Kept<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
    max_keys: usize,
}

impl<K, V> Kept<K, V> {
    /// A cache of at most `max_keys` answers.
    pub fn new(max_keys: usize) -> Self {
        Kept { slots: Mutex::new(HashMap::new()), max_keys: max_keys.max(1) }
    }
}

impl<K: Hash + Eq + Clone, V> Kept<K, V> {
    /// The answer for `key` at the data's current version: the kept one, or `compute`'s
    /// (then kept). An error is returned, not kept.
    pub async fn get<E, F, Fut>(&self, store: &DynStore, key: K, compute: F) -> Result<Arc<V>, E>
    where
        E: From<vigia_store::StoreError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let version = version(store).await?;
        self.get_at(version, key, compute).await
    }

    /// As [`Kept::get`], at a version the caller read.
    pub async fn get_at<E, F, Fut>(&self, version: DataVersion, key: K, compute: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= self.max_keys && !slots.contains_key(&key) {
                // Answers of an older version go first (they would be worked out again
                // anyway, and can hold what has since been erased); only when every
                // answer is current does the cache start again.
                slots.retain(|_, slot| {
                    slot.try_lock().map_or(true, |kept| kept.as_ref().is_some_and(|(v, _)| *v == version))
                });
                if slots.len() >= self.max_keys {
                    slots.clear();
                }
            }
            slots.entry(key).or_default().clone()
        };
        let mut kept = slot.lock().await;
        if let Some((v, answer)) = kept.as_ref() {
            if *v == version {
                return Ok(answer.clone());
            }
        }
        let answer = Arc::new(compute().await?);
        *kept = Some((version, answer.clone()));
        Ok(answer)
    }

    /// How many keys have a slot (kept answers, or ones being worked out).
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn an_answer_is_worked_out_once_per_version_and_key() {
        let kept: Kept<&str, usize> = Kept::new(2);
        let runs = AtomicUsize::new(0);
        let work = |n: usize| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(n) }
        };
        assert_eq!(*kept.get_at((1, 1, 1), "a", || work(10)).await.expect("a"), 10);
        assert_eq!(*kept.get_at((1, 1, 1), "a", || work(11)).await.expect("a again"), 10, "kept");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(*kept.get_at((2, 1, 1), "a", || work(12)).await.expect("a moved"), 12, "the data moved");
        assert_eq!(*kept.get_at((2, 1, 1), "b", || work(20)).await.expect("b"), 20, "another key");
        assert_eq!(kept.len(), 2);
        // A third key starts the cache again rather than growing it.
        assert_eq!(*kept.get_at((2, 1, 1), "c", || work(30)).await.expect("c"), 30);
        assert_eq!(kept.len(), 1);
        // At the bound, answers of an older version are dropped first: "c" is kept.
        assert_eq!(*kept.get_at((2, 1, 1), "b", || work(21)).await.expect("b again"), 21);
        assert_eq!(*kept.get_at((5, 1, 1), "d", || work(40)).await.expect("d"), 40);
        assert_eq!(kept.len(), 1, "b and c were of an older version");
        assert_eq!(*kept.get_at((5, 1, 1), "d", || work(41)).await.expect("d kept"), 40);
        assert_eq!(*kept.get_at((2, 1, 1), "a", || work(12)).await.expect("a back"), 12);
        // An error is told, not kept.
        assert!(kept.get_at((3, 1, 1), "a", || async { Err::<usize, _>("down".to_string()) }).await.is_err());
        assert_eq!(*kept.get_at((3, 1, 1), "a", || work(14)).await.expect("a later"), 14);
        assert_eq!(runs.load(Ordering::SeqCst), 8);
    }

    /// A request's version holds while this process writes nothing; its own write (or
    /// any other of this process) makes the version be read again. Two stores on one
    /// database stand for two servers.
    #[tokio::test]
    async fn a_request_reads_the_version_once_until_this_process_writes() {
        let db = vigia_store::testing::TestDb::sqlite();
        let key = vigia_store::MasterKey::generate().expect("key");
        let here = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store");
        let there = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("other store");
        let system = vigia_store::Actor::SYSTEM;
        let v0 = here.data_version().await.expect("version");
        at(v0, here.local_changes(), async {
            assert_eq!(version(&here).await.expect("v"), v0);
            there.create_org(&system, "otra", "Otra").await.expect("another server writes");
            assert_eq!(version(&here).await.expect("v"), v0, "another server's write: the request's version");
            here.create_org(&system, "esta", "Esta").await.expect("this server writes");
            let v = version(&here).await.expect("v");
            assert!(v != v0 && v == here.data_version().await.expect("now"), "read again after a write here");
        })
        .await;
        // Outside a request, always the store's now.
        assert_eq!(version(&here).await.expect("v"), here.data_version().await.expect("now"));
    }

    #[tokio::test]
    async fn clients_asking_together_wait_for_one_computation() {
        let kept: Arc<Kept<i64, usize>> = Arc::new(Kept::new(8));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (kept, runs) = (kept.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                kept.get_at((1, 1, 1), 7, || async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok::<_, String>(42)
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(*t.await.expect("join").expect("answer"), 42);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
