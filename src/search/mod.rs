//! Search over the catalogue, documents, news and Q&A, with tantivy.
//!
//! PostgreSQL is the source of truth; the index under `<data>/search/v<SCHEMA_VERSION>` is derived
//! data. On start it is opened, or rebuilt from PostgreSQL when missing, corrupt or of another
//! version, while the portal serves (search answers "updating" until it is ready). One indexer task
//! per process owns the only writer: it applies the changes the database announces with
//! `NOTIFY ndp_search` and reconciles periodically, so several processes on one database each keep
//! their own index current.

mod best_of;
mod cache;
mod collect;
mod dense;
mod documents;
mod fast;
mod indexer;
mod query;
mod rerank;
pub mod schema;
mod suggest;
mod tables;
#[cfg(test)]
mod testing;
mod tokenizer;

use std::any::Any;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sqlx::PgPool;
use tantivy::IndexReader;
use tokio::sync::mpsc;

pub use cache::Ticket;
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
    /// Rows (cards, titles) found in the row cache.
    pub row_hits: u64,
    /// Rows read from the database instead.
    pub row_misses: u64,
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
    caches: cache::Caches,
    /// Decoded per-segment columns, built when the reader reloads.
    tables: Arc<tables::DocTables>,
}

#[derive(Clone)]
struct Live {
    reader: IndexReader,
}

impl Search {
    /// Starts the search service for the index under `data_dir`: opens or rebuilds the index in
    /// the background and keeps it current from the database's notifications.
    /// `results_bytes` bounds the memory of the results kept until the index changes, `rows_bytes`
    /// that of the rows they show (0: none).
    pub fn start(pool: PgPool, data_dir: &Path, results_bytes: usize, rows_bytes: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (_, fields) = Fields::build();
        let tables = Arc::new(tables::DocTables::new(&[fields.all, fields.name, fields.aka]));
        let shared = Shared {
            fields,
            live: RwLock::new(None),
            changes: tx,
            indexer: std::sync::Mutex::new(None),
            generation: Arc::new(AtomicU64::new(0)),
            caches: cache::Caches::new(results_bytes, rows_bytes),
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

    /// The index generation now: take it before reading what is to be kept, and give it to
    /// [`remember`](Self::remember) or [`rows`](Self::rows).
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation())
    }

    fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// A result cached under `key` for the current index generation.
    pub fn cached<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        cache::lookup(&self.shared.caches.results, self.generation(), key)
    }

    /// Keeps a result of about `bytes` until the index changes (or until it is among the least
    /// recently used when the cache is full): bounded, and never stale. Nothing is kept when the
    /// index changed since `ticket` was taken.
    pub fn remember<T: Any + Send + Sync>(&self, ticket: Ticket, key: String, value: Arc<T>, bytes: usize) {
        cache::keep(&self.shared.caches.results, self.generation(), ticket, key, value, bytes);
    }

    /// The rows of `keys`, in their order: those in the row cache from there, the others from
    /// `fetch` (given the positions of the missing keys, it reads them in one query), kept for
    /// the next page that shows them. Keys without a row are left out.
    pub async fn rows<T, E, Fut>(&self, keys: &[String], fetch: impl FnOnce(Vec<usize>) -> Fut) -> Result<Vec<T>, E>
    where
        T: Row,
        Fut: Future<Output = Result<Vec<T>, E>>,
    {
        let ticket = self.ticket();
        let rows = &self.shared.caches.rows;
        let mut found: Vec<Option<T>> =
            keys.iter().map(|k| cache::lookup::<T>(rows, ticket.0, k).map(|row| row.as_ref().clone())).collect();
        let missing: Vec<usize> = found.iter().enumerate().filter(|(_, row)| row.is_none()).map(|(i, _)| i).collect();
        if !missing.is_empty() {
            for row in fetch(missing).await? {
                let key = row.key();
                if let Some(i) = keys.iter().position(|k| *k == key) {
                    let bytes = row.approx_bytes();
                    cache::keep(rows, self.generation(), ticket, key, Arc::new(row.clone()), bytes);
                    found[i] = Some(row);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Lookups answered from the results cache, and those that were not, since the start.
    pub fn cache_counts(&self) -> (u64, u64) {
        self.shared.caches.results.lock().map_or((0, 0), |c| (c.hits, c.misses))
    }

    /// Rows found in the row cache, and those read from the database, since the start.
    pub fn row_counts(&self) -> (u64, u64) {
        self.shared.caches.rows.lock().map_or((0, 0), |c| (c.hits, c.misses))
    }

    /// Figures for monitoring.
    pub fn stats(&self) -> Stats {
        let (cache_hits, cache_misses) = self.cache_counts();
        let (row_hits, row_misses) = self.row_counts();
        let live = self.live();
        Stats {
            ready: live.is_some(),
            documents: live.map_or(0, |l| l.reader.searcher().num_docs()),
            commits: self.shared.generation.load(Ordering::Acquire),
            cache_hits,
            cache_misses,
            row_hits,
            row_misses,
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
            Some(live) => {
                Ok(Outcome::Ready(suggest::suggest(&live.reader.searcher(), &self.shared.fields, &self.shared.tables, text, limit)?))
            }
            None => Ok(Outcome::Updating),
        }
    }
}

/// A row the search pages show (a platform's card, a document's title), kept by
/// [`Search::rows`].
pub trait Row: Any + Send + Sync + Clone {
    /// Its key in the row cache (the same for the key asked for and the row read).
    fn key(&self) -> String;
    /// Roughly the memory it holds.
    fn approx_bytes(&self) -> usize;
}

/// Where the index of the current schema version lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search").join(format!("v{}", schema::SCHEMA_VERSION))
}
