//! The single writer of a process's index: opening or rebuilding it, applying the changes the
//! database announces, and periodic reconciliation with PostgreSQL.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};
use tokio::sync::mpsc;

use super::schema::{self, Fields};
use super::tables::DocTables;
use super::{Live, Search, documents};
use crate::db::search_source;

/// Memory budget of the index writer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Rows read from PostgreSQL per batch during a rebuild.
const REBUILD_BATCH: i64 = 2_000;
/// Changes are gathered for this long before one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// Decompressed blocks of stored text the reader keeps (tantivy's default is 100).
const STORE_CACHE_BLOCKS: usize = 2_048;

/// What the indexer is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A row changed: `<table>:<id>` as sent by the database triggers.
    Row(String, i64),
    /// Compare the whole index with the database, key by key.
    Reconcile,
    /// The periodic check: counts and recent changes; a full comparison when the counts differ.
    Tick,
    /// Stop: the process is shutting down.
    Shutdown,
}

/// Listens on `ndp_search` and forwards every notification; after a lost connection (when
/// notifications may have been missed) it asks for a reconciliation.
pub async fn listen(pool: PgPool, changes: mpsc::UnboundedSender<Change>) {
    loop {
        if pool.is_closed() || changes.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "search listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen("ndp_search").await {
            tracing::warn!(error = %e, "search listener cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        loop {
            let received = tokio::select! {
                () = changes.closed() => return,
                r = listener.try_recv() => r,
            };
            match received {
                Ok(Some(n)) => {
                    if let Some((table, id)) = n.payload().split_once(':')
                        && let Ok(id) = id.parse()
                        && changes.send(Change::Row(table.to_owned(), id)).is_err()
                    {
                        return;
                    }
                }
                Ok(None) => {
                    tracing::warn!("search listener lost its connection; reconciling in full");
                    if changes.send(Change::Reconcile).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search listener failed; reconnecting");
                    let _ = changes.send(Change::Reconcile);
                    break;
                }
            }
        }
    }
}

/// The indexer task: open or rebuild, then apply changes until the channel closes.
pub async fn run(
    search: Search,
    pool: PgPool,
    dir: PathBuf,
    mut changes: mpsc::UnboundedReceiver<Change>,
    generation: Arc<std::sync::atomic::AtomicU64>,
) {
    let fields = search.shared.fields.clone();
    let tables = search.shared.tables.clone();
    let (index, reader) = match open_existing(&dir, &tables) {
        Ok(opened) => {
            tracing::info!(dir = %dir.display(), "search index opened");
            opened
        }
        Err(reason) => {
            tracing::warn!(dir = %dir.display(), %reason, "search index missing or unusable; rebuilding from PostgreSQL");
            loop {
                match rebuild_in_place(&pool, &dir, &tables).await {
                    Ok(opened) => break opened,
                    Err(e) => {
                        tracing::error!(error = %e, "search index rebuild failed; retrying in 5 s");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
            }
        }
    };
    let writer = match index.writer_with_num_threads::<tantivy::TantivyDocument>(1, WRITER_MEMORY) {
        Ok(w) => Arc::new(Mutex::new(w)),
        Err(e) => {
            tracing::error!(error = %e, "cannot open the search index writer; search stays read-only");
            search.set_live(Live { reader });
            return;
        }
    };
    search.set_live(Live { reader: reader.clone() });
    // Rows changed after the index's last commit may have been missed while no process ran.
    let last_commit = std::fs::metadata(dir.join("meta.json")).and_then(|m| m.modified()).ok();
    let indexer = Indexer {
        fields,
        pool,
        writer,
        reader,
        synced_at: std::sync::Mutex::new(last_commit.unwrap_or_else(std::time::SystemTime::now)),
        generation,
    };
    if changes.is_closed() {
        return;
    }
    if let Err(e) = indexer.reconcile(true).await {
        tracing::warn!(error = %e, "first reconciliation failed");
    }
    let mut ticks = 0u32;
    let mut tick = tokio::time::interval(super::RECONCILE_EVERY);
    tick.tick().await;
    loop {
        let first = tokio::select! {
            change = changes.recv() => match change { Some(c) => c, None => return },
            _ = tick.tick() => Change::Tick,
        };
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
        while let Ok(Some(c)) = tokio::time::timeout_at(deadline, changes.recv()).await {
            batch.push(c);
            if batch.len() >= 5_000 {
                break;
            }
        }
        let stop = batch.contains(&Change::Shutdown);
        let result = if batch.contains(&Change::Reconcile) {
            indexer.reconcile(true).await
        } else if batch.contains(&Change::Tick) {
            ticks = ticks.wrapping_add(1);
            // Every tenth tick compares every key, for what the counts cannot show.
            indexer.reconcile(ticks.is_multiple_of(10)).await
        } else {
            indexer.apply(&batch).await
        };
        if stop {
            if let Err(e) = result {
                tracing::warn!(error = %e, "last search index update failed");
            }
            tracing::info!("search indexer stopped");
            return;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "search index update failed; reconciling soon");
        }
    }
}

struct Indexer {
    fields: Fields,
    pool: PgPool,
    writer: Arc<Mutex<IndexWriter>>,
    reader: IndexReader,
    /// When the index last matched the database: reconciliation re-reads what changed since.
    synced_at: Mutex<std::time::SystemTime>,
    /// Bumped after each commit, so cached results are dropped.
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Indexer {
    /// Re-reads the changed rows and upserts or deletes their documents, then commits once.
    async fn apply(&self, batch: &[Change]) -> anyhow::Result<()> {
        let mut by_section: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        for change in batch {
            let Change::Row(table, id) = change else { continue };
            let section = match table.as_str() {
                "platforms" => "platform",
                "documents" => "document",
                "news" => "news",
                "questions" => "qa",
                "agencies" | "enterprises" => {
                    let ids = search_source::platforms_naming(&self.pool, table, *id).await?;
                    by_section.entry("platform").or_default().extend(ids);
                    continue;
                }
                _ => continue,
            };
            by_section.entry(section).or_default().insert(*id);
        }
        for (section, ids) in by_section {
            self.upsert(section, &ids.into_iter().collect::<Vec<_>>()).await?;
        }
        self.commit().await
    }

    /// Replaces the documents of `ids` in `section` by their current rows; ids without a row are deleted.
    async fn upsert(&self, section: &str, ids: &[i64]) -> anyhow::Result<()> {
        let docs: Vec<(i64, tantivy::TantivyDocument)> = if section == "platform" {
            let mut out = Vec::new();
            for chunk in ids.chunks(REBUILD_BATCH as usize) {
                let rows = search_source::platforms(&self.pool, 0, chunk.len() as i64, Some(chunk)).await?;
                out.extend(rows.iter().map(|p| (p.id, documents::platform(&self.fields, p))));
            }
            out
        } else {
            let rows = search_source::texts(&self.pool, Some((section, ids))).await?;
            rows.iter().map(|t| (t.id, documents::text(&self.fields, t))).collect()
        };
        let writer = self.writer.lock().map_err(|_| anyhow::anyhow!("index writer lock poisoned"))?;
        for id in ids {
            writer.delete_term(documents::key_term(&self.fields, section, *id));
        }
        for (_, doc) in docs {
            writer.add_document(doc)?;
        }
        Ok(())
    }

    async fn commit(&self) -> anyhow::Result<()> {
        let writer = self.writer.clone();
        let reader = self.reader.clone();
        // Off the async threads: the commit writes files, and the reload builds the tables of
        // new segments (after a merge, one of the size of the index).
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            writer.lock().map_err(|_| anyhow::anyhow!("index writer lock poisoned"))?.commit()?;
            reader.reload()?;
            Ok(())
        })
        .await??;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// Makes the index match the database: re-reads everything changed since the last
    /// reconciliation (notifications may have been lost) and, in full or when the counts differ,
    /// adds what is missing and deletes what is gone.
    async fn reconcile(&self, full: bool) -> anyhow::Result<()> {
        let started = std::time::SystemTime::now();
        let since = self.synced_at.lock().map(|t| *t).unwrap_or(started);
        // A margin covers clock skew between this host and the database and in-flight commits.
        let window = started.duration_since(since).unwrap_or_default() + Duration::from_secs(5);
        let counts_differ = search_source::count(&self.pool).await?.unsigned_abs() != self.reader.searcher().num_docs();
        let (wanted, present): (HashSet<String>, HashSet<String>) = if full || counts_differ {
            (search_source::all_keys(&self.pool).await?.into_iter().collect(), indexed_keys(&self.reader)?)
        } else {
            (HashSet::new(), HashSet::new())
        };
        let mut upserts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for key in wanted.difference(&present) {
            if let Some((section, id)) = key.split_once(':').and_then(|(s, i)| i.parse().ok().map(|i| (s.to_owned(), i))) {
                upserts.entry(section).or_default().push(id);
            }
        }
        for key in search_source::changed_since(&self.pool, window.as_secs_f64()).await? {
            if let Some((section, id)) = key.split_once(':').and_then(|(s, i)| i.parse().ok().map(|i| (s.to_owned(), i))) {
                upserts.entry(section).or_default().push(id);
            }
        }
        let stale: Vec<&String> = present.difference(&wanted).collect();
        if upserts.is_empty() && stale.is_empty() {
            self.mark_synced(started);
            return Ok(());
        }
        tracing::info!(
            missing_or_changed = upserts.values().map(Vec::len).sum::<usize>(),
            stale = stale.len(),
            "reconciling the search index"
        );
        {
            let writer = self.writer.lock().map_err(|_| anyhow::anyhow!("index writer lock poisoned"))?;
            for key in stale {
                writer.delete_term(tantivy::schema::Term::from_field_text(self.fields.key, key));
            }
        }
        for (section, ids) in upserts {
            self.upsert(&section, &ids).await?;
        }
        self.commit().await?;
        self.mark_synced(started);
        Ok(())
    }

    fn mark_synced(&self, at: std::time::SystemTime) {
        if let Ok(mut t) = self.synced_at.lock() {
            *t = at;
        }
    }
}

/// Every key in the index, read from the fast fields (no stored documents are loaded).
fn indexed_keys(reader: &IndexReader) -> tantivy::Result<HashSet<String>> {
    let searcher = reader.searcher();
    let mut keys = HashSet::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(section), Ok(id)) = (fast.str("section")?, fast.u64("id")) else { continue };
        let alive = segment.alive_bitset();
        let mut name = String::new();
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let (Some(ord), Some(row)) = (section.term_ords(doc).next(), id.first(doc)) else { continue };
            name.clear();
            if section.ord_to_str(ord, &mut name)? {
                keys.insert(format!("{name}:{row}"));
            }
        }
    }
    Ok(keys)
}

/// Opens the index in `dir` and checks it is whole: every segment readable, the version marker present.
/// The reader builds the segment tables of every new segment as it reloads.
fn open_existing(dir: &Path, tables: &Arc<DocTables>) -> anyhow::Result<(Index, IndexReader)> {
    anyhow::ensure!(dir.join(MARKER).is_file(), "no complete index of schema version {}", schema::SCHEMA_VERSION);
    let index = Index::open(MmapDirectory::open(dir)?)?;
    let (expected, _) = Fields::build();
    anyhow::ensure!(index.schema() == expected, "the index was built with another schema");
    schema::register(&index);
    let warmer: Arc<dyn tantivy::Warmer> = tables.clone();
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .warmers(vec![Arc::downgrade(&warmer)])
        // Blocks of stored text kept decompressed (2 kB each, see `schema::settings`): the
        // platforms shown most often are read from memory, not decompressed on every search.
        .doc_store_cache_num_blocks(STORE_CACHE_BLOCKS)
        .try_into()?;
    let searcher = reader.searcher();
    for segment in searcher.segment_readers() {
        // Touch every part of every segment so a truncated file is found now, not during a search.
        let store = segment.get_store_reader(1)?;
        for doc in 0..segment.max_doc().min(1) {
            store.get::<tantivy::TantivyDocument>(doc)?;
        }
        segment.fast_fields().u64("id")?;
        for field in [expected.get_field("name")?, expected.get_field("summary")?] {
            segment.inverted_index(field)?;
        }
    }
    Ok((index, reader))
}

/// Marks a complete index of this schema version.
const MARKER: &str = "ndp-index-complete";

/// Rebuilds into a fresh directory beside `dir`, then swaps it in.
async fn rebuild_in_place(pool: &PgPool, dir: &Path, tables: &Arc<DocTables>) -> anyhow::Result<(Index, IndexReader)> {
    let parent = dir.parent().context("index directory has no parent")?;
    std::fs::create_dir_all(parent)?;
    let building = parent.join(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    rebuild_into(pool, &building, |_| {}).await?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&building, dir)?;
    open_existing(dir, tables)
}

/// Progress of a rebuild, reported after every batch.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    /// Documents written so far.
    pub done: u64,
    /// Documents to write in all.
    pub total: u64,
}

/// Builds a complete index of the database in `dir` (which must not hold one). Returns the
/// number of documents.
pub async fn rebuild_into(pool: &PgPool, dir: &Path, mut progress: impl FnMut(RebuildProgress)) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = Fields::build();
    let index = Index::builder().schema(schema).settings(schema::settings()).create_in_dir(dir)?;
    schema::register(&index);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, WRITER_MEMORY * threads)?;
    let total = search_source::count(pool).await?.unsigned_abs();
    let mut done = 0u64;
    let mut after = 0i64;
    loop {
        let rows = search_source::platforms(pool, after, REBUILD_BATCH, None).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for p in &rows {
            writer.add_document(documents::platform(&fields, p))?;
        }
        done += rows.len() as u64;
        progress(RebuildProgress { done, total });
    }
    for t in search_source::texts(pool, None).await? {
        writer.add_document(documents::text(&fields, &t))?;
        done += 1;
    }
    progress(RebuildProgress { done, total: total.max(done) });
    let segments_index = index.clone();
    let writer = tokio::task::spawn_blocking(move || -> tantivy::Result<IndexWriter> {
        writer.commit()?;
        // One segment searches fastest; the merge is part of the rebuild's cost, not of queries'.
        let segments = segments_index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        Ok(writer)
    })
    .await??;
    tokio::task::spawn_blocking(move || writer.wait_merging_threads()).await??;
    std::fs::write(dir.join(MARKER), format!("schema version {}\n", schema::SCHEMA_VERSION))?;
    Ok(done)
}
