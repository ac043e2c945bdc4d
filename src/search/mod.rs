//! Search over the catalogue, documents, news and Q&A, with tantivy.
//!
//! PostgreSQL is the source of truth; the index under `<data>/search/v<SCHEMA_VERSION>` is derived
//! data. On start it is opened, or rebuilt from PostgreSQL when missing, corrupt or of another
//! version, while the portal serves (search answers "updating" until it is ready). One indexer task
//! per process owns the only writer: it applies the changes the database announces with
//! `NOTIFY ndp_search` and reconciles periodically, so several processes on one database each keep
//! their own index current.

mod best_of;
mod collect;
mod dense;
mod documents;
mod fast;
mod indexer;
mod query;
mod rerank;
pub mod schema;
mod tables;
mod tokenizer;

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sqlx::PgPool;
use tantivy::IndexReader;
use tokio::sync::mpsc;

pub use indexer::{RebuildProgress, rebuild_into};
pub use query::{FacetFilter, Hit, PlatformQuery, PlatformResults, SearchSort, Suggestion, TextHit};
use schema::Fields;

/// How often the indexer compares the index with the database even without notifications.
pub const RECONCILE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// An answer, or the news that the index is being rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The index answered.
    Ready(T),
    /// The index is being rebuilt; try again shortly.
    Updating,
}

/// Figures of the search service, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Whether the index is open and answering.
    pub ready: bool,
    /// Documents in the index.
    pub documents: u64,
    /// Index commits applied since the start.
    pub commits: u64,
    /// Lookups answered from the results cache.
    pub cache_hits: u64,
    /// Lookups the cache could not answer.
    pub cache_misses: u64,
}

/// The search service: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Search {
    shared: Arc<Shared>,
}

struct Shared {
    fields: Fields,
    live: RwLock<Option<Live>>,
    changes: mpsc::UnboundedSender<indexer::Change>,
    indexer: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Bumped by every commit of the index: cached results of an older generation are dropped.
    generation: Arc<AtomicU64>,
    cache: std::sync::Mutex<ResultCache>,
    /// Decoded per-segment columns, built when the reader reloads.
    tables: Arc<tables::DocTables>,
}

/// Results of recent searches, valid for one index generation, within a memory budget.
///
/// Two maps of up to half the budget each: new results go into `recent`; when it is full it
/// becomes `older` (the previous `older` is dropped). A hit in `older` moves back into `recent`.
/// So a result asked for again before half the budget of new results has arrived stays, one-off
/// queries leave, and memory stays bounded: a cheap approximation of least-recently-used.
struct ResultCache {
    /// Bytes for both maps (each result weighed by its estimated size and its key).
    budget: usize,
    generation: u64,
    recent: HashMap<String, Cached>,
    recent_bytes: usize,
    older: HashMap<String, Cached>,
    hits: u64,
    misses: u64,
    /// Maps left behind, freed by the caller once the lock is released: freeing thousands of
    /// results takes milliseconds, and every search would wait for it.
    garbage: Vec<HashMap<String, Cached>>,
}

#[derive(Clone)]
struct Cached {
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

impl ResultCache {
    fn new(budget: usize) -> Self {
        Self {
            budget,
            generation: 0,
            recent: HashMap::new(),
            recent_bytes: 0,
            older: HashMap::new(),
            hits: 0,
            misses: 0,
            garbage: Vec::new(),
        }
    }

    /// Drops everything of an older index generation.
    fn align(&mut self, generation: u64) {
        if self.generation != generation {
            self.garbage.push(std::mem::take(&mut self.recent));
            self.garbage.push(std::mem::take(&mut self.older));
            self.recent_bytes = 0;
            self.generation = generation;
        }
    }

    fn get(&mut self, generation: u64, key: &str) -> Option<Arc<dyn Any + Send + Sync>> {
        self.align(generation);
        let found = match self.recent.get(key) {
            Some(cached) => Some(cached.value.clone()),
            None => self.older.remove_entry(key).map(|(key, cached)| {
                let value = cached.value.clone();
                self.insert(key, cached);
                value
            }),
        };
        if found.is_some() {
            self.hits += 1
        } else {
            self.misses += 1
        }
        found
    }

    fn insert(&mut self, key: String, cached: Cached) {
        let half = self.budget / 2;
        let bytes = cached.bytes.saturating_add(key.len());
        if bytes > half {
            return;
        }
        if let Some(old) = self.recent.remove(&key) {
            self.recent_bytes -= old.bytes.saturating_add(key.len()).min(self.recent_bytes);
        }
        if self.recent_bytes + bytes > half {
            let older = std::mem::replace(&mut self.older, std::mem::take(&mut self.recent));
            self.garbage.push(older);
            self.recent_bytes = 0;
        }
        self.recent_bytes += bytes;
        self.recent.insert(key, cached);
    }
}

#[derive(Clone)]
struct Live {
    reader: IndexReader,
}

impl Search {
    /// Starts the search service for the index under `data_dir`: opens or rebuilds the index in
    /// the background and keeps it current from the database's notifications.
    /// `cache_bytes` bounds the memory of the results kept until the index changes (0: none).
    pub fn start(pool: PgPool, data_dir: &Path, cache_bytes: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (_, fields) = Fields::build();
        let cache = ResultCache::new(cache_bytes);
        let tables = Arc::new(tables::DocTables::new(Some(fields.all)));
        let shared = Shared {
            fields,
            live: RwLock::new(None),
            changes: tx,
            indexer: std::sync::Mutex::new(None),
            generation: Arc::new(AtomicU64::new(0)),
            cache: std::sync::Mutex::new(cache),
            tables,
        };
        let search = Self { shared: Arc::new(shared) };
        let dir = index_dir(data_dir);
        tokio::spawn(indexer::listen(pool.clone(), search.shared.changes.clone()));
        let handle = tokio::spawn(indexer::run(search.clone(), pool, dir, rx, search.shared.generation.clone()));
        if let Ok(mut slot) = search.shared.indexer.lock() {
            *slot = Some(handle);
        }
        search
    }

    /// Stops the indexer (committing nothing half-done) and releases the index writer.
    pub async fn shutdown(&self) {
        let (hits, misses) = self.cache_counts();
        tracing::info!(search.cache_hits = hits, search.cache_misses = misses, "search results cache at shutdown");
        let _ = self.shared.changes.send(indexer::Change::Shutdown);
        let handle = self.shared.indexer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    /// A result cached under `key` for the current index generation.
    pub fn cached<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let (found, garbage) = {
            let mut cache = self.shared.cache.lock().ok()?;
            if cache.budget == 0 {
                return None;
            }
            (cache.get(generation, key), std::mem::take(&mut cache.garbage))
        };
        dispose(garbage);
        found.and_then(|v| v.downcast::<T>().ok())
    }

    /// Keeps a result of about `bytes` until the index changes (or until it is among the least
    /// recently used when the cache is full): bounded, and never stale.
    pub fn remember<T: Any + Send + Sync>(&self, key: String, value: Arc<T>, bytes: usize) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let garbage = {
            let Ok(mut cache) = self.shared.cache.lock() else { return };
            cache.align(generation);
            cache.insert(key, Cached { value, bytes });
            std::mem::take(&mut cache.garbage)
        };
        dispose(garbage);
    }

    /// Lookups answered from the results cache, and those that were not, since the start.
    pub fn cache_counts(&self) -> (u64, u64) {
        self.shared.cache.lock().map_or((0, 0), |c| (c.hits, c.misses))
    }

    /// Figures for monitoring.
    pub fn stats(&self) -> Stats {
        let (cache_hits, cache_misses) = self.cache_counts();
        let live = self.live();
        Stats {
            ready: live.is_some(),
            documents: live.map_or(0, |l| l.reader.searcher().num_docs()),
            commits: self.shared.generation.load(Ordering::Acquire),
            cache_hits,
            cache_misses,
        }
    }

    /// Whether the index is open and answering.
    pub fn is_ready(&self) -> bool {
        self.live().is_some()
    }

    /// Asks the indexer to compare the index with the database now.
    pub fn reconcile(&self) {
        let _ = self.shared.changes.send(indexer::Change::Reconcile);
    }

    fn live(&self) -> Option<Live> {
        self.shared.live.read().ok().and_then(|l| l.clone())
    }

    fn set_live(&self, live: Live) {
        if let Ok(mut slot) = self.shared.live.write() {
            *slot = Some(live);
        }
    }

    /// Platforms matching a query, with facet counts and highlighted snippets.
    pub fn platforms(&self, q: &PlatformQuery) -> tantivy::Result<Outcome<PlatformResults>> {
        match self.live() {
            Some(live) => Ok(Outcome::Ready(query::platforms(&live.reader.searcher(), &self.shared.fields, &self.shared.tables, q)?)),
            None => Ok(Outcome::Updating),
        }
    }

    /// Documents, news and Q&A matching a query.
    pub fn texts(&self, text: &str, limit: usize) -> tantivy::Result<Outcome<Vec<TextHit>>> {
        match self.live() {
            Some(live) => Ok(Outcome::Ready(query::texts(&live.reader.searcher(), &self.shared.fields, &self.shared.tables, text, limit)?)),
            None => Ok(Outcome::Updating),
        }
    }

    /// Type-ahead suggestions: names starting with what was typed, all sections.
    pub fn suggest(&self, text: &str, limit: usize) -> tantivy::Result<Outcome<Vec<Suggestion>>> {
        match self.live() {
            Some(live) => Ok(Outcome::Ready(query::suggest(&live.reader.searcher(), &self.shared.fields, text, limit)?)),
            None => Ok(Outcome::Updating),
        }
    }
}

/// Frees maps the cache left behind, on a blocking thread when there is much to free, so that the
/// request at hand does not wait either.
fn dispose(garbage: Vec<HashMap<String, Cached>>) {
    let entries: usize = garbage.iter().map(HashMap::len).sum();
    if entries < 64 {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(move || drop(garbage));
    }
}

/// Where the index of the current schema version lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search").join(format!("v{}", schema::SCHEMA_VERSION))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(n: u32) -> Cached {
        Cached { value: Arc::new(n), bytes: 100 }
    }

    #[test]
    fn results_asked_for_again_stay_while_one_off_queries_leave() {
        // Room for about eight results.
        let mut cache = ResultCache::new(8 * 110);
        cache.insert("popular".into(), value(0));
        for n in 0..100 {
            cache.insert(format!("once {n}"), value(n));
            if n % 3 == 0 {
                assert!(cache.get(0, "popular").is_some(), "after {n} one-off queries");
            }
            assert!(cache.recent.len() + cache.older.len() <= 8, "bounded");
            assert!(cache.recent_bytes <= cache.budget / 2);
        }
        assert!(cache.get(0, "once 0").is_none(), "an old one-off query is gone");
        assert!(cache.get(0, "once 99").is_some());
    }

    #[test]
    fn a_new_index_generation_empties_the_cache_and_a_zero_budget_keeps_nothing() {
        let mut cache = ResultCache::new(1000);
        cache.insert("q".into(), value(1));
        assert!(cache.get(0, "q").is_some());
        assert!(cache.get(1, "q").is_none(), "the index changed");
        let mut none = ResultCache::new(0);
        none.insert("q".into(), value(1));
        assert!(none.get(0, "q").is_none());
        assert_eq!((cache.hits, cache.misses), (1, 1));
        let mut small = ResultCache::new(150);
        small.insert("big".into(), value(2));
        assert!(small.get(0, "big").is_none(), "a result larger than half the budget is not kept");
    }
}
