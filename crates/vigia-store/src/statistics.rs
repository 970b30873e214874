//! Official statistics (issue #18 part 1): each imported table is a dataset version
//! with its provenance and the file it came from, kept as evidence. Versions are shared
//! by every organization (the figures are the State's, published for all); who imported
//! each one is recorded and audited.

use crate::*;
use vigia_domain::statistics::bulletin::Table;
use vigia_domain::statistics::{Dimension, Figure, Measure, Provenance, RowKind};

/// An uploaded file, as received.
#[derive(Debug, Clone)]
pub struct StatFile {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// One imported table: a version of the dataset (table number, year).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatVersion {
    pub id: i64,
    pub code: String,
    pub year: i16,
    pub measure: Measure,
    pub dimension: Dimension,
    pub title: String,
    pub sheet: String,
    pub months: Vec<u8>,
    pub row_count: i64,
    pub file_name: String,
    pub media_type: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub provenance: Provenance,
    pub figures_sha256: String,
    pub org_id: i64,
    pub imported_by: Option<i64>,
    pub imported_at: Micros,
}

impl StatVersion {
    /// What the audit chain records: everything but the rows, whose SHA-256 stands for
    /// them (recomputed from the stored rows when verified).
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "code": self.code, "year": self.year, "measure": self.measure,
            "dimension": self.dimension, "title": self.title, "sheet": self.sheet, "months": self.months,
            "row_count": self.row_count, "file_name": self.file_name, "media_type": self.media_type, "file_sha256": self.file_sha256,
            "file_size": self.file_size, "provenance": self.provenance, "figures_sha256": self.figures_sha256,
            "org_id": self.org_id, "imported_by": self.imported_by,
        })
        .to_string()
    }
}

/// One row of a stored version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatRow {
    pub key: String,
    pub label: String,
    pub kind: RowKind,
    pub values: Vec<(u8, i64)>,
}

#[async_trait::async_trait]
pub trait Statistics: Send + Sync {
    /// Stores the file once (by content) and each table read from it as a new version,
    /// with one audit entry each, in one transaction. Conflict `stats_already_imported`
    /// when the same file's same sheet was imported before.
    async fn import_statistics(
        &self,
        actor: &Actor,
        org_id: i64,
        file: StatFile,
        provenance: Provenance,
        tables: Vec<Table>,
    ) -> Result<Vec<StatVersion>>;
    /// Every version, newest first.
    async fn stat_versions(&self) -> Result<Vec<StatVersion>>;
    async fn stat_version(&self, id: i64) -> Result<Option<StatVersion>>;
    /// A version's rows in the file's order.
    async fn stat_rows(&self, version_id: i64) -> Result<Vec<StatRow>>;
    /// The figures of some versions, optionally of one row key only: (version, figure).
    async fn stat_figures(&self, version_ids: &[i64], key: Option<&str>) -> Result<Vec<(i64, Figure)>>;
    /// The file a version was read from: name, media type and bytes, checked against
    /// their hash on the way out.
    async fn stat_file(&self, version_id: i64) -> Result<Option<(String, String, Vec<u8>)>>;
}
