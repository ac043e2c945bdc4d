//! Search over the catalogue, documents, news and Q&A, with tantivy.
//!
//! PostgreSQL is the source of truth; the index under `<data>/search/v<SCHEMA_VERSION>` is derived
//! data. On start it is opened, or rebuilt from PostgreSQL when missing, corrupt or of another
//! version, while the portal serves (search answers "updating" until it is ready). One indexer task
//! per process owns the only writer: it applies the changes the database announces with
//! `NOTIFY ndp_search` and reconciles periodically, so several processes on one database each keep
//! their own index current.

mod documents;
mod indexer;
mod query;
pub mod schema;

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
}

/// Results of recent searches, valid for one index generation.
struct ResultCache {
    capacity: usize,
    generation: u64,
    entries: HashMap<String, Arc<dyn Any + Send + Sync>>,
}

#[derive(Clone)]
struct Live {
    reader: IndexReader,
}

impl Search {
    /// Starts the search service for the index under `data_dir`: opens or rebuilds the index in
    /// the background and keeps it current from the database's notifications.
    /// `cache_entries` bounds the results kept until the index changes (0: none).
    pub fn start(pool: PgPool, data_dir: &Path, cache_entries: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (_, fields) = Fields::build();
        let cache = ResultCache { capacity: cache_entries, generation: 0, entries: HashMap::new() };
        let shared = Shared {
            fields,
            live: RwLock::new(None),
            changes: tx,
            indexer: std::sync::Mutex::new(None),
            generation: Arc::new(AtomicU64::new(0)),
            cache: std::sync::Mutex::new(cache),
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
        let _ = self.shared.changes.send(indexer::Change::Shutdown);
        let handle = self.shared.indexer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    /// A result cached under `key` for the current index generation.
    pub fn cached<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let cache = self.shared.cache.lock().ok()?;
        if cache.generation != generation {
            return None;
        }
        cache.entries.get(key).cloned().and_then(|v| v.downcast::<T>().ok())
    }

    /// Keeps a result until the index changes. Results of an older generation are dropped, and
    /// when the cache is full it is emptied: simple, bounded, and never stale.
    pub fn remember<T: Any + Send + Sync>(&self, key: String, value: Arc<T>) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let Ok(mut cache) = self.shared.cache.lock() else { return };
        if cache.capacity == 0 {
            return;
        }
        if cache.generation != generation || cache.entries.len() >= cache.capacity {
            cache.entries.clear();
            cache.generation = generation;
        }
        cache.entries.insert(key, value);
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
            Some(live) => Ok(Outcome::Ready(query::platforms(&live.reader.searcher(), &self.shared.fields, q)?)),
            None => Ok(Outcome::Updating),
        }
    }

    /// Documents, news and Q&A matching a query.
    pub fn texts(&self, text: &str, limit: usize) -> tantivy::Result<Outcome<Vec<TextHit>>> {
        match self.live() {
            Some(live) => Ok(Outcome::Ready(query::texts(&live.reader.searcher(), &self.shared.fields, text, limit)?)),
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

/// Where the index of the current schema version lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search").join(format!("v{}", schema::SCHEMA_VERSION))
}
