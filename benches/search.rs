//! Search engine latency over synthetic catalogues of 1k, 10k and 100k platforms: the portal's
//! tantivy search against PostgreSQL full-text search (`unaccent` + GIN on a `tsvector`, ranked
//! with `ts_rank`, top 20 ids). Tantivy is timed twice: the call the catalogue page makes (top 20
//! with the total, the four facet counts and snippets) and the same without facets (what the
//! site-wide search asks for).
//!
//! Run: `cargo bench --bench search` (sizes from `NDP_BENCH_SIZES`, default `1000,10000,100000`).
//! Uses `DATABASE_URL` when set, else a throw-away embedded cluster, stopped at the end. Besides
//! criterion's report it prints p50/p99 per engine and size, the rebuild time of the index, and the
//! type-ahead's p50/p99 over every prefix of the queries as they are typed.
//! `NDP_BENCH_DETAIL=1` adds per-query times; `NDP_BENCH_LOOP=<seconds>` (with `NDP_BENCH_QUERY`
//! for one query, `suggest:<text>` for a suggestion) loops over the tantivy queries first, for a
//! profiler to attach to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, reason = "benchmark")]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ndp::search::{FacetFilter, Outcome, PlatformQuery, Search, SearchSort};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};

/// A fixed mix: short and long, with and without diacritics, a typo, a prefix.
const QUERIES: &[&str] = &[
    "suc khoe",
    "đặt lịch khám bệnh",
    "thanh toan hoa don dien nuoc",
    "hoc truc tuyen cho hoc sinh",
    "ve xe khach",
    "ban do so",
    "dinh danh xac thuc",
    "chữ ký số từ xa",
    "du lich thong minh",
    "thuong mai dien tu nong san",
    "giao thong",
    "thu vien",
    "bao hiem xa hoi",
    "tuyen dung viec lam",
    "quan ly dat dai",
    "phan anh kien nghi",
    "giam sat an toan thong tin",
    "luu tru dam may",
    "hop truc tuyne",
    "dao tao ky nang s",
];

struct Setup {
    size: u32,
    pool: PgPool,
    search: Search,
    rebuild: Duration,
    documents: u64,
    /// The index directory, removed with the setup.
    _data: tempfile::TempDir,
}

/// Where the benchmark's databases live: `DATABASE_URL`, or a throw-away embedded cluster that
/// [`Cluster::finish`] stops and removes.
struct Cluster {
    admin: PgConnectOptions,
    embedded: Option<(ndp::embedded_pg::EmbeddedPg, std::path::PathBuf)>,
}

impl Cluster {
    fn start(runtime: &tokio::runtime::Runtime) -> Self {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Self { admin: url.parse::<PgConnectOptions>().unwrap().database("postgres"), embedded: None };
        }
        let dir = tempfile::Builder::new()
            .prefix("ndp-bench-pg-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let cluster = ndp::embedded_pg::EmbeddedPg::new(&dir, None, "postgres").unwrap();
        runtime.block_on(cluster.start()).unwrap();
        Self { admin: cluster.connect_options("postgres"), embedded: Some((cluster, dir)) }
    }

    fn finish(self, runtime: &tokio::runtime::Runtime) {
        if let Some((cluster, dir)) = self.embedded {
            runtime.block_on(cluster.stop()).unwrap();
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

async fn prepare(admin: &PgConnectOptions, size: u32) -> Setup {
    let name = format!("ndp_bench_{size}");
    ndp::db::create_database_if_missing(admin.clone(), &name).await.unwrap();
    let pool =
        PgPoolOptions::new().max_connections(8).connect_with(admin.clone().database(&name).disable_statement_logging()).await.unwrap();
    ndp::db::migrate(&pool).await.unwrap();
    if ndp::seed::is_empty(&pool).await.unwrap() {
        ndp::seed::load_reference(&pool).await.unwrap();
    }
    let have: i64 = sqlx::query_scalar("select count(*) from platforms where origin = 'synthetic'").fetch_one(&pool).await.unwrap();
    if have < i64::from(size) {
        let started = Instant::now();
        ndp::seed::synthetic::generate(&pool, size - u32::try_from(have).unwrap(), false).await.unwrap();
        println!("size {size}: generated synthetic platforms in {:.1} s", started.elapsed().as_secs_f64());
    }
    prepare_full_text(&pool).await;

    let data = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let documents = ndp::search::rebuild_into(&pool, &ndp::search::index_dir(data.path()), |_| {}).await.unwrap();
    let rebuild = started.elapsed();
    let search = Search::start(pool.clone(), data.path(), 0, 0);
    while !search.is_ready() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The indexer's first reconciliation re-reads the rows changed just before the rebuild (all of
    // them, after the generation) and commits: let it finish before measuring.
    let mut quiet_since = Instant::now();
    let mut commits = search.stats().commits;
    while quiet_since.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = search.stats().commits;
        if now != commits {
            (commits, quiet_since) = (now, Instant::now());
        }
    }
    Setup { size, pool, search, rebuild, documents, _data: data }
}

/// The usual alternative: a folded `tsvector` with a GIN index.
async fn prepare_full_text(pool: &PgPool) {
    sqlx::raw_sql(
        "create extension if not exists unaccent;
         alter table platforms add column if not exists bench_fts tsvector;
         update platforms set bench_fts =
             setweight(to_tsvector('simple', unaccent(coalesce(name, '') || ' ' || coalesce(short_name, ''))), 'A') ||
             setweight(to_tsvector('simple', unaccent(coalesce(summary, ''))), 'B') ||
             setweight(to_tsvector('simple', unaccent(coalesce(description, ''))), 'D')
           where bench_fts is null;
         create index if not exists platforms_bench_fts_idx on platforms using gin (bench_fts);
         analyze platforms;",
    )
    .execute(pool)
    .await
    .unwrap();
}

fn tantivy_query(search: &Search, text: &str) -> usize {
    tantivy_query_with(search, text, true)
}

fn tantivy_query_with(search: &Search, text: &str, facets: bool) -> usize {
    let q =
        PlatformQuery { text: text.to_owned(), filter: FacetFilter::default(), sort: SearchSort::Relevance, offset: 0, limit: 20, facets };
    match search.platforms(&q).unwrap() {
        Outcome::Ready(r) => r.total,
        Outcome::Updating => panic!("index not ready"),
    }
}

async fn postgres_query(pool: &PgPool, text: &str) -> usize {
    let ids: Vec<i64> = sqlx::query_scalar(
        "select id from platforms, plainto_tsquery('simple', unaccent($1)) q
         where bench_fts @@ q order by ts_rank(bench_fts, q) desc limit 20",
    )
    .bind(text)
    .fetch_all(pool)
    .await
    .unwrap();
    ids.len()
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cluster = Cluster::start(&runtime);
    let admin = cluster.admin.clone();
    let sizes: Vec<u32> = std::env::var("NDP_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut report = Vec::new();
    let mut suggest_report = Vec::new();
    for size in sizes {
        let setup = runtime.block_on(prepare(&admin, size));
        if let Some(seconds) = std::env::var("NDP_BENCH_LOOP").ok().and_then(|s| s.parse::<u64>().ok()) {
            // For a profiler attached now: only the tantivy queries, for this long.
            println!("looping over the tantivy queries for {seconds} s (pid {})", std::process::id());
            let only = std::env::var("NDP_BENCH_QUERY").ok();
            let queries: Vec<&str> = only.as_deref().map_or_else(|| QUERIES.to_vec(), |q| vec![q]);
            let until = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < until {
                for q in &queries {
                    // `suggest:<text>` loops over the type-ahead instead.
                    match q.strip_prefix("suggest:") {
                        Some(typed) => std::hint::black_box(matches!(setup.search.suggest(typed, 8).unwrap(), Outcome::Ready(_))),
                        None => std::hint::black_box(tantivy_query(&setup.search, q) > 0),
                    };
                }
            }
        }
        let mut group = c.benchmark_group(format!("search_{size}"));
        group.sample_size(20).measurement_time(Duration::from_secs(5));
        group.bench_function("tantivy (20 queries)", |b| b.iter(|| QUERIES.iter().map(|q| tantivy_query(&setup.search, q)).sum::<usize>()));
        group.bench_function("postgres_fts (20 queries)", |b| b.iter(|| runtime.block_on(async { futures_sum(&setup.pool).await })));
        group.finish();

        let rounds = 100;
        // Each engine (and each kind of tantivy call) in a loop of its own, so that none disturbs
        // the others' measurements.
        let time_tantivy = |facets: bool| {
            let mut samples = Vec::with_capacity(rounds * QUERIES.len());
            for _ in 0..rounds {
                for q in QUERIES {
                    let started = Instant::now();
                    std::hint::black_box(tantivy_query_with(&setup.search, q, facets));
                    samples.push(started.elapsed());
                }
            }
            samples
        };
        let catalogue_samples = time_tantivy(true);
        if std::env::var("NDP_BENCH_DETAIL").is_ok() {
            let mut slowest: Vec<(Duration, &str)> = catalogue_samples.iter().copied().zip(QUERIES.iter().copied().cycle()).collect();
            slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            for (d, q) in slowest.iter().take(25) {
                println!("  slow sample: {:.3} ms {q}", d.as_secs_f64() * 1e3);
            }
        }
        let search_samples = time_tantivy(false);
        let mut p_samples = Vec::with_capacity(rounds * QUERIES.len());
        for _ in 0..rounds {
            for q in QUERIES {
                let started = Instant::now();
                std::hint::black_box(runtime.block_on(postgres_query(&setup.pool, q)));
                p_samples.push(started.elapsed());
            }
        }
        // The type-ahead: every prefix of the mix's queries from two characters on, as typed.
        let typed: Vec<&str> =
            QUERIES.iter().flat_map(|q| q.char_indices().skip(2).map(|(at, _)| &q[..at]).chain(std::iter::once(*q))).collect();
        let mut suggest_samples = Vec::with_capacity(5 * typed.len());
        for _ in 0..5 {
            for q in &typed {
                let started = Instant::now();
                std::hint::black_box(setup.search.suggest(q, 8).unwrap());
                suggest_samples.push(started.elapsed());
            }
        }
        if std::env::var("NDP_BENCH_DETAIL").is_ok() {
            let mut slowest: Vec<(Duration, &str)> = suggest_samples.iter().copied().zip(typed.iter().copied().cycle()).collect();
            slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            for (d, q) in slowest.iter().take(15) {
                println!("  slow suggestion: {:.3} ms {q:?}", d.as_secs_f64() * 1e3);
            }
            // `NDP_BENCH_DETAIL=a,b,c` times those queries instead of the mix.
            let listed = std::env::var("NDP_BENCH_DETAIL").unwrap_or_default();
            let queries: Vec<&str> = if listed.contains(',') { listed.split(',').collect() } else { QUERIES.to_vec() };
            for q in queries {
                let time = |facets: bool| {
                    let mut samples = Vec::new();
                    for _ in 0..30 {
                        let started = Instant::now();
                        std::hint::black_box(tantivy_query_with(&setup.search, q, facets));
                        samples.push(started.elapsed());
                    }
                    percentiles(samples).0.as_secs_f64() * 1e3
                };
                let mut texts = Vec::new();
                for _ in 0..30 {
                    let started = Instant::now();
                    std::hint::black_box(setup.search.texts(q, 20).unwrap());
                    texts.push(started.elapsed());
                }
                println!(
                    "  {q:32} with facets {:.3} ms, without {:.3} ms, other sections {:.3} ms, {} matches",
                    time(true),
                    time(false),
                    percentiles(texts).0.as_secs_f64() * 1e3,
                    tantivy_query(&setup.search, q)
                );
            }
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (c50, c99) = percentiles(catalogue_samples);
        let (s50, s99) = percentiles(search_samples);
        let (p50, p99) = percentiles(p_samples);
        let typed_count = typed.len();
        let (g50, g99) = percentiles(suggest_samples);
        suggest_report.push(format!("| {} | {typed_count} | {:.3} / {:.3} ms |", setup.size, ms(g50), ms(g99)));
        report.push(format!(
            "| {} | {} | {:.3} / {:.3} ms | {:.3} / {:.3} ms | {:.3} / {:.3} ms | {:.0}× / {:.0}× | {:.0}× / {:.0}× | {:.1} s ({:.0} docs/s) |",
            setup.size,
            setup.documents,
            ms(c50),
            ms(c99),
            ms(s50),
            ms(s99),
            ms(p50),
            ms(p99),
            ms(p50) / ms(c50),
            ms(p99) / ms(c99),
            ms(p50) / ms(s50),
            ms(p99) / ms(s99),
            setup.rebuild.as_secs_f64(),
            setup.documents as f64 / setup.rebuild.as_secs_f64(),
        ));
        runtime.block_on(async {
            setup.search.shutdown().await;
            setup.pool.close().await;
        });
    }
    cluster.finish(&runtime);
    println!(
        "\n| platforms | documents | tantivy, catalogue call p50 / p99 | tantivy, without facets p50 / p99 | PostgreSQL FTS p50 / p99 | faster than PostgreSQL, catalogue call p50 / p99 | without facets p50 / p99 | index rebuild |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for line in report {
        println!("{line}");
    }
    println!("\n| platforms | typed prefixes | suggestions (`Search::suggest`, 8) p50 / p99 |");
    println!("|---|---|---|");
    for line in suggest_report {
        println!("{line}");
    }
}

async fn futures_sum(pool: &PgPool) -> usize {
    let mut total = 0;
    for q in QUERIES {
        total += postgres_query(pool, q).await;
    }
    total
}

criterion_group!(benches, bench);
criterion_main!(benches);
