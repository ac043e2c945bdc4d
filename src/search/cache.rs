//! What the search keeps in memory until the index changes: whole results (a page of platforms,
//! the other sections, suggestions) and the rows they show (a platform's card, a document's title),
//! each within its own memory budget.
//!
//! Both are valid for one index generation: every commit of the index empties them. The database
//! announces every change to the rows the search shows, and the indexer commits after applying it,
//! so nothing kept outlives a change by more than the time the indexer takes. A value computed
//! from reads that began before a commit is not kept (see [`Ticket`]): it may hold what the commit
//! replaced.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The index generation when a piece of work began. Values are kept only if no commit happened
/// since: what was read from the database before the commit may be out of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(pub(super) u64);

/// The two caches and their counters.
pub(super) struct Caches {
    pub results: Mutex<GenerationCache>,
    pub rows: Mutex<GenerationCache>,
}

impl Caches {
    pub fn new(results_bytes: usize, rows_bytes: usize) -> Self {
        Self { results: Mutex::new(GenerationCache::new(results_bytes)), rows: Mutex::new(GenerationCache::new(rows_bytes)) }
    }
}

/// The value kept under `key` in `cache` for `generation`.
pub(super) fn lookup<T: Any + Send + Sync>(cache: &Mutex<GenerationCache>, generation: u64, key: &str) -> Option<Arc<T>> {
    let (found, garbage) = {
        let mut cache = cache.lock().ok()?;
        if cache.budget == 0 {
            return None;
        }
        (cache.get(generation, key), std::mem::take(&mut cache.garbage))
    };
    dispose(garbage);
    found.and_then(|v| v.downcast::<T>().ok())
}

/// Keeps `value` (about `bytes`) in `cache`, unless the index changed since `ticket`.
pub(super) fn keep<T: Any + Send + Sync>(
    cache: &Mutex<GenerationCache>,
    generation: u64,
    ticket: Ticket,
    key: String,
    value: Arc<T>,
    bytes: usize,
) {
    if ticket.0 != generation {
        return;
    }
    let garbage = {
        let Ok(mut cache) = cache.lock() else { return };
        if cache.budget == 0 {
            return;
        }
        cache.align(generation);
        cache.insert(key, Cached { value, bytes });
        std::mem::take(&mut cache.garbage)
    };
    dispose(garbage);
}

/// Values valid for one index generation, within a memory budget.
///
/// Two maps of up to half the budget each: new values go into `recent`; when it is full it
/// becomes `older` (the previous `older` is dropped). A hit in `older` moves back into `recent`.
/// So a value asked for again before half the budget of new values has arrived stays, one-off
/// values leave, and memory stays bounded: a cheap approximation of least-recently-used.
pub(super) struct GenerationCache {
    /// Bytes for both maps (each value weighed by its estimated size and its key).
    budget: usize,
    generation: u64,
    recent: HashMap<String, Cached>,
    recent_bytes: usize,
    older: HashMap<String, Cached>,
    pub hits: u64,
    pub misses: u64,
    /// Maps left behind, freed by the caller once the lock is released: freeing thousands of
    /// values takes milliseconds, and every search would wait for it.
    garbage: Vec<HashMap<String, Cached>>,
}

#[derive(Clone)]
struct Cached {
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

impl GenerationCache {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value(n: u32) -> Cached {
        Cached { value: Arc::new(n), bytes: 100 }
    }

    #[test]
    fn results_asked_for_again_stay_while_one_off_queries_leave() {
        // Room for about eight results.
        let mut cache = GenerationCache::new(8 * 110);
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
        let mut cache = GenerationCache::new(1000);
        cache.insert("q".into(), value(1));
        assert!(cache.get(0, "q").is_some());
        assert!(cache.get(1, "q").is_none(), "the index changed");
        let mut none = GenerationCache::new(0);
        none.insert("q".into(), value(1));
        assert!(none.get(0, "q").is_none());
        assert_eq!((cache.hits, cache.misses), (1, 1));
        let mut small = GenerationCache::new(150);
        small.insert("big".into(), value(2));
        assert!(small.get(0, "big").is_none(), "a result larger than half the budget is not kept");
    }

    #[test]
    fn a_value_computed_before_a_commit_is_not_kept() {
        let cache = Mutex::new(GenerationCache::new(1000));
        let before = Ticket(3);
        // The index committed (generation 4) while the value was being computed from the database.
        keep(&cache, 4, before, "card:1".into(), Arc::new(7_u32), 10);
        assert!(lookup::<u32>(&cache, 4, "card:1").is_none(), "it may hold what the commit replaced");
        keep(&cache, 4, Ticket(4), "card:1".into(), Arc::new(8_u32), 10);
        assert_eq!(lookup::<u32>(&cache, 4, "card:1").as_deref(), Some(&8));
        assert!(lookup::<String>(&cache, 4, "card:1").is_none(), "a value of another type is not returned");
        assert!(lookup::<u32>(&cache, 5, "card:1").is_none(), "the next commit empties the cache");
    }
}
