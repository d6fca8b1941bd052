//! The framework catalogue, shared by every tenant.

use tracing::instrument;

use crate::{Error, Store};

/// One framework of the rule book, as listed in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FrameworkRow {
    /// Rule book folder name (`eu-ai-act`).
    pub slug: String,
    /// Display title.
    pub title: String,
    /// Version of the framework text the rules follow.
    pub version: String,
    /// Short description shown at onboarding.
    pub description: String,
}

impl Store {
    /// Inserts or updates the catalogue in one statement; rows whose values
    /// are unchanged are not written.
    #[instrument(skip_all, name = "store.frameworks.upsert", fields(frameworks.count = rows.len()))]
    pub async fn upsert_frameworks(&self, rows: &[FrameworkRow]) -> Result<(), Error> {
        let slugs: Vec<&str> = rows.iter().map(|row| row.slug.as_str()).collect();
        let titles: Vec<&str> = rows.iter().map(|row| row.title.as_str()).collect();
        let versions: Vec<&str> = rows.iter().map(|row| row.version.as_str()).collect();
        let descriptions: Vec<&str> = rows.iter().map(|row| row.description.as_str()).collect();
        sqlx::query(
            "INSERT INTO frameworks (slug, title, version, description) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
             ON CONFLICT (slug) DO UPDATE SET title = excluded.title, version = excluded.version, \
                 description = excluded.description, updated_at = now() \
             WHERE (frameworks.title, frameworks.version, frameworks.description) \
                 IS DISTINCT FROM (excluded.title, excluded.version, excluded.description)",
        )
        .bind(slugs)
        .bind(titles)
        .bind(versions)
        .bind(descriptions)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Lists the catalogue, ordered by slug.
    #[instrument(skip_all, name = "store.frameworks.list")]
    pub async fn list_frameworks(&self) -> Result<Vec<FrameworkRow>, Error> {
        let rows = sqlx::query_as(
            "SELECT slug, title, version, description FROM frameworks ORDER BY slug",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }
}
