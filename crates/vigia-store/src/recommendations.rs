//! UN recommendations (issue #18 part 2): shared by every organization as imported from
//! the UHRI (re-imports update by annotation id, each change a new version in the audit
//! chain); each organization's evidence links and assessments are its own.

use crate::*;
use vigia_domain::recommendation::{AssessmentDraft, EvidenceKind, LinkDraft, RecommendationDraft};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recommendation {
    pub id: i64,
    #[serde(flatten)]
    pub draft: RecommendationDraft,
    pub version: i64,
    pub updated_at: Micros,
}

impl Recommendation {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::to_value(&self.draft).unwrap_or_default();
        v["id"] = self.id.into();
        v["version"] = self.version.into();
        v.to_string()
    }
}

/// A piece of an organization's evidence linked to a recommendation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecLink {
    pub id: i64,
    pub org_id: i64,
    pub recommendation_id: i64,
    pub kind: EvidenceKind,
    pub reference: String,
    pub note: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl RecLink {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "recommendation_id": self.recommendation_id, "kind": self.kind,
            "reference": self.reference, "note": self.note, "created_by": self.created_by,
            "created_at": self.created_at,
        })
        .to_string()
    }
}

/// An organization's assessment of a recommendation at a date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    pub id: i64,
    pub org_id: i64,
    pub recommendation_id: i64,
    #[serde(flatten)]
    pub draft: AssessmentDraft,
    /// The version of the recommendation's text it judged.
    pub recommendation_version: i64,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl Assessment {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "recommendation_id": self.recommendation_id,
            "status": self.draft.status, "assessed_on": self.draft.assessed_on, "reasoning": self.draft.reasoning,
            "evidence": self.draft.evidence, "recommendation_version": self.recommendation_version,
            "created_by": self.created_by, "created_at": self.created_at,
        })
        .to_string()
    }
}

/// What a re-import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct RecImport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[async_trait::async_trait]
pub trait Recommendations: Send + Sync {
    /// Creates or updates each recommendation by its annotation id, in one transaction
    /// with an audit entry for every one created or changed.
    async fn import_recommendations(
        &self,
        actor: &Actor,
        org_id: i64,
        drafts: Vec<RecommendationDraft>,
    ) -> Result<RecImport>;
    /// Every recommendation, newest document first.
    async fn recommendations(&self) -> Result<Vec<Recommendation>>;
    async fn recommendation(&self, id: i64) -> Result<Option<Recommendation>>;
    /// Links a piece of the organization's evidence (checked by the caller to be
    /// visible to it). Conflict `link_exists` for the same evidence twice.
    async fn link_evidence(
        &self,
        actor: &Actor,
        org_id: i64,
        recommendation_id: i64,
        link: LinkDraft,
    ) -> Result<RecLink>;
    /// The organization's links, of one recommendation or all, oldest first.
    async fn evidence_links(&self, org_id: i64, recommendation_id: Option<i64>) -> Result<Vec<RecLink>>;
    /// Records an assessment; every evidence id must be one of the organization's links
    /// to this recommendation (else invalid `evidence`).
    async fn assess(
        &self,
        actor: &Actor,
        org_id: i64,
        recommendation_id: i64,
        draft: AssessmentDraft,
    ) -> Result<Assessment>;
    /// The organization's assessments, of one recommendation or all, oldest first.
    async fn assessments(&self, org_id: i64, recommendation_id: Option<i64>) -> Result<Vec<Assessment>>;
}
