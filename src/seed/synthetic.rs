//! Synthetic catalogues for load and search tests (`ndp seed --synthetic N`).
//!
//! Every generated row has `origin = 'synthetic'`, shown on pages as "Dữ liệu mẫu", and its
//! summary says it is generated. Generation is deterministic for a given starting number, and
//! inserts in batches with `unnest` so that 100 000 platforms take seconds, not minutes.

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use sqlx::PgPool;

const BATCH: usize = 5_000;

const PREFIXES: &[&str] = &["Nền tảng", "Hệ thống", "Cổng", "Ứng dụng", "Dịch vụ", "Sàn"];
const SUBJECTS: &[&str] = &[
    "quản lý hồ sơ sức khỏe điện tử",
    "đặt lịch khám chữa bệnh",
    "tư vấn khám bệnh từ xa",
    "học trực tuyến cho học sinh phổ thông",
    "đào tạo kỹ năng số",
    "thanh toán hóa đơn điện, nước",
    "ví điện tử và chuyển tiền",
    "đặt vé xe khách liên tỉnh",
    "gọi xe và giao hàng",
    "thương mại điện tử nông sản",
    "du lịch thông minh",
    "tra cứu thông tin thời tiết nông vụ",
    "định danh và xác thực điện tử",
    "chữ ký số từ xa",
    "hóa đơn điện tử",
    "bản đồ số và địa chỉ số",
    "họp trực tuyến",
    "lưu trữ đám mây",
    "giám sát an toàn thông tin mạng",
    "phản ánh kiến nghị của người dân",
    "quản lý văn bản và điều hành",
    "dữ liệu mở",
    "tuyển dụng và việc làm",
    "bảo hiểm xã hội điện tử",
    "tin tức và báo chí điện tử",
    "thư viện số",
    "quản lý đất đai",
    "giao thông thông minh",
];
const AUDIENCES: &[&str] = &[
    "cho người dân",
    "cho doanh nghiệp nhỏ và vừa",
    "cho hợp tác xã",
    "cho giáo viên",
    "cho cơ quan nhà nước",
    "cho người cao tuổi",
    "cho nông dân",
    "cho khách du lịch",
];
const PROVINCES: &[&str] = &[
    "Hà Nội",
    "Thành phố Hồ Chí Minh",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Huế",
    "Quảng Ninh",
    "Nghệ An",
    "Thanh Hóa",
    "Đắk Lắk",
    "Lâm Đồng",
    "Khánh Hòa",
    "Bắc Ninh",
    "Đồng Nai",
    "An Giang",
    "Lào Cai",
];
const COMPANY_WORDS: &[&str] =
    &["Sao Việt", "Trường Sơn", "Hồng Hà", "Cửu Long", "Phương Nam", "Đại Việt", "Thăng Long", "Tây Nguyên", "Biển Đông", "Ánh Dương"];
const COMPANY_KINDS: &[&str] = &["Công ty cổ phần Công nghệ", "Công ty TNHH Giải pháp số", "Công ty cổ phần Dịch vụ số"];
const KINDS: &[&str] = &["national", "potential_national", "citizen_serving", "ministry_deployed", "sector_shared"];
const STATUSES: &[Option<&str>] = &[None, Some("registered"), Some("trial"), Some("in_use"), Some("in_use")];

/// Refuses to add synthetic rows to a database that holds real contributions unless forced.
async fn holds_real_data(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from users) or exists (select 1 from ratings) or exists (select 1 from feedback)
               or exists (select 1 from questions) or exists (select 1 from revisions)
               or exists (select 1 from monthly_reports) or exists (select 1 from platforms where origin = 'portal')
               as "real!""#
    )
    .fetch_one(pool)
    .await
}

/// Generates `n` synthetic platforms (with synthetic agencies and enterprises to link them to).
/// Returns the number of platforms created.
pub async fn generate(pool: &PgPool, n: u32, force: bool) -> anyhow::Result<u64> {
    if !force && holds_real_data(pool).await? {
        anyhow::bail!(
            "this database holds real data (accounts, contributions or listings entered through the portal); \
             synthetic platforms would mix with it. Use a fresh database, or add --force if you are sure"
        );
    }
    let start: i64 = sqlx::query_scalar!(r#"select count(*) as "n!" from platforms where origin = 'synthetic'"#).fetch_one(pool).await?;
    let mut rng = StdRng::seed_from_u64(0x4e44_5000 + start as u64);
    let mut tx = pool.begin().await?;
    let agencies = synthetic_agencies(&mut tx).await?;
    let enterprises = synthetic_enterprises(&mut tx).await?;
    let need_groups: Vec<i64> = sqlx::query_scalar!("select id from need_groups order by position").fetch_all(&mut *tx).await?;
    let total = i64::from(n);
    let mut made = 0u64;
    let mut number = start;
    while number < start + total {
        let end = (number + BATCH as i64).min(start + total);
        let rows: Vec<Row> = (number..end).map(|i| Row::random(&mut rng, i + 1, &agencies, &enterprises, &need_groups)).collect();
        made += insert_batch(&mut tx, &rows).await?;
        number = end;
    }
    tx.commit().await?;
    // Fresh statistics, or the planner keeps assuming the tables are as small as before the load.
    sqlx::raw_sql("analyze platforms, platform_enterprises, platform_need_groups, agencies, enterprises").execute(pool).await?;
    Ok(made)
}

struct Row {
    slug: String,
    name: String,
    summary: String,
    description: String,
    kind: &'static str,
    status: Option<&'static str>,
    agency: i64,
    enterprise: i64,
    need: Option<i64>,
}

impl Row {
    fn random(rng: &mut StdRng, number: i64, agencies: &[i64], enterprises: &[i64], needs: &[i64]) -> Self {
        let pick = |rng: &mut StdRng, list: &[&'static str]| *list.choose(rng).unwrap_or(&"");
        let subject = pick(rng, SUBJECTS);
        let name = format!("{} {} {}", pick(rng, PREFIXES), subject, pick(rng, AUDIENCES));
        let province = pick(rng, PROVINCES);
        Self {
            slug: format!("mau-{number}-{}", crate::domain::text::slugify(subject)),
            summary: format!("Dữ liệu mẫu do công cụ sinh ra để kiểm thử: {} tại {province}.", subject),
            description: format!(
                "Nền tảng **mẫu** số {number}, không có thật. Mô phỏng dịch vụ {subject} triển khai tại {province}, \
                 phục vụ khoảng {} người dùng mỗi tháng.",
                rng.random_range(1_000..2_000_000)
            ),
            name,
            kind: pick(rng, KINDS),
            status: *STATUSES.choose(rng).unwrap_or(&None),
            agency: *agencies.choose(rng).unwrap_or(&0),
            enterprise: *enterprises.choose(rng).unwrap_or(&0),
            need: needs.choose(rng).copied(),
        }
    }
}

async fn synthetic_agencies(tx: &mut sqlx::PgConnection) -> anyhow::Result<Vec<i64>> {
    for province in PROVINCES {
        let name = format!("Sở Khoa học và Công nghệ {province} (dữ liệu mẫu)");
        let slug = format!("mau-so-khcn-{}", crate::domain::text::slugify(province));
        sqlx::query!(
            "insert into agencies (slug, name, kind, description, origin) values ($1, $2, 'province', $3, 'synthetic')
             on conflict (slug) do nothing",
            slug,
            name,
            "Cơ quan mẫu do công cụ sinh dữ liệu tạo ra, không có thật."
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(sqlx::query_scalar!("select id from agencies where origin = 'synthetic' order by id").fetch_all(&mut *tx).await?)
}

async fn synthetic_enterprises(tx: &mut sqlx::PgConnection) -> anyhow::Result<Vec<i64>> {
    for kind in COMPANY_KINDS {
        for word in COMPANY_WORDS {
            let name = format!("{kind} {word} (dữ liệu mẫu)");
            let slug = format!("mau-{}", crate::domain::text::slugify(&format!("{kind} {word}")));
            sqlx::query!(
                "insert into enterprises (slug, name, description, origin) values ($1, $2, $3, 'synthetic')
                 on conflict (slug) do nothing",
                slug,
                name,
                "Doanh nghiệp mẫu do công cụ sinh dữ liệu tạo ra, không có thật."
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(sqlx::query_scalar!("select id from enterprises where origin = 'synthetic' order by id").fetch_all(&mut *tx).await?)
}

async fn insert_batch(tx: &mut sqlx::PgConnection, rows: &[Row]) -> anyhow::Result<u64> {
    let column = |f: fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let slugs = column(|r| r.slug.clone());
    let ids: Vec<i64> = sqlx::query_scalar!(
        "insert into platforms (slug, name, summary, description, kind, status, host_agency_id, origin)
         select slug, name, summary, description, kind, status, agency, 'synthetic'
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
              as t(slug, name, summary, description, kind, status, agency)
         returning id",
        &slugs,
        &column(|r| r.name.clone()),
        &column(|r| r.summary.clone()),
        &column(|r| r.description.clone()),
        &column(|r| r.kind.to_owned()),
        &rows.iter().map(|r| r.status.map(str::to_owned)).collect::<Vec<Option<String>>>() as &[Option<String>],
        &rows.iter().map(|r| r.agency).collect::<Vec<i64>>()
    )
    .fetch_all(&mut *tx)
    .await
    .context("inserting synthetic platforms")?;
    let enterprises: Vec<i64> = rows.iter().map(|r| r.enterprise).collect();
    sqlx::query!(
        "insert into platform_enterprises (platform_id, enterprise_id, role)
         select p, e, 'developer' from unnest($1::bigint[], $2::bigint[]) as t(p, e)",
        &ids,
        &enterprises
    )
    .execute(&mut *tx)
    .await?;
    let (with_need, needs): (Vec<i64>, Vec<i64>) = ids.iter().zip(rows).filter_map(|(id, r)| r.need.map(|n| (*id, n))).unzip();
    sqlx::query!(
        "insert into platform_need_groups (platform_id, need_group_id) select p, n from unnest($1::bigint[], $2::bigint[]) as t(p, n)",
        &with_need,
        &needs
    )
    .execute(&mut *tx)
    .await?;
    Ok(ids.len() as u64)
}
