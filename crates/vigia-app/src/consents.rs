//! Consent per purpose, enforced (issue #20 part 2): recording a person's consent, the
//! decision standing for each purpose, and sharing a case's sealed data with a partner
//! organization — refused without the person's consent to share with that partner, and
//! closed to the partner the moment that consent is withdrawn.

use jiff::civil::Date;
use vigia_domain::case::{Case, Person};
use vigia_domain::consent::{self, Decision, Purpose};
use vigia_domain::input::RawInput;
use vigia_domain::{FieldError, ValidationErrors};
use vigia_store::{Actor, CaseShare, ConsentRecord, DynStore, StoreError};

use crate::AppError;

/// Records a consent read from a form, a JSON body or the CLI.
pub async fn record(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
    raw: &RawInput,
    today: Date,
) -> Result<ConsentRecord, AppError> {
    let draft = consent::validate_consent(raw, today)?;
    Ok(store.record_consent(actor, org_id, case_id, draft).await?)
}

/// One purpose (and partner): the decision standing, and the latest record by day.
pub type Standing<'a> = (Purpose, Option<i64>, Option<Decision>, Option<&'a ConsentRecord>);

/// The decision standing for each purpose (and each partner asked), with the latest
/// record by day (what the page shows as "since"): what the case page shows. The
/// decision is [`consent::current`]'s, which fails closed.
pub fn standing(records: &[ConsentRecord]) -> Vec<Standing<'_>> {
    let mut out = Vec::new();
    for p in Purpose::ALL {
        let partners: Vec<Option<i64>> = if *p == Purpose::SharePartner {
            let mut v: Vec<Option<i64>> =
                records.iter().filter(|r| r.draft.purpose == *p).map(|r| r.draft.partner_org_id).collect();
            v.sort_unstable();
            v.dedup();
            v
        } else {
            vec![None]
        };
        for partner in partners {
            let decision = consent::current(ordered(records), *p, partner);
            let latest = records
                .iter()
                .filter(|r| r.draft.purpose == *p && (*p != Purpose::SharePartner || r.draft.partner_org_id == partner))
                .max_by_key(|r| (r.draft.on, r.id));
            out.push((*p, partner, decision, latest));
        }
    }
    out
}

fn ordered(records: &[ConsentRecord]) -> impl Iterator<Item = consent::Ordered<'_>> {
    records.iter().map(|r| (r.draft.on, r.id, &r.draft))
}

/// Whether the case's records allow the purpose (for that partner) now. The records
/// are the audit history's, and must match the table's: a row deleted, added or changed
/// behind the app's back (a withdrawal removed to reopen a share) refuses, and is logged.
pub async fn allowed(
    store: &DynStore,
    org_id: i64,
    case_id: i64,
    purpose: Purpose,
    partner: Option<i64>,
) -> Result<bool, AppError> {
    let records = checked_records(store, org_id, case_id).await?;
    Ok(consent::allows(ordered(&records), purpose, partner))
}

/// The case's consent records as the history keeps them, if the table agrees; none (so
/// every purpose fails closed) if it does not.
async fn checked_records(store: &DynStore, org_id: i64, case_id: i64) -> Result<Vec<ConsentRecord>, AppError> {
    let table = store.consents(org_id, Some(case_id)).await?;
    let audited = store.audited_consents(org_id, case_id).await?;
    if table != audited {
        tracing::error!(case = case_id, "a case's consent records differ from their audit history: refused");
        return Ok(Vec::new());
    }
    Ok(audited)
}

/// Shares a case with a partner organization: refused (`consent_required` on
/// `partner_org_id`) unless the person's consent to share with that partner stands.
pub async fn share(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
    raw: &RawInput,
) -> Result<CaseShare, AppError> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["partner_org_id"], &mut errs);
    let partner = raw.integer("partner_org_id", 1, i64::MAX, &mut errs);
    if partner.is_none() && errs.for_field("partner_org_id").is_none() {
        errs.push(FieldError::new("partner_org_id", "required"));
    }
    let partner = errs.into_result(partner)?.unwrap_or_default();
    if store.case(org_id, case_id).await?.is_none() {
        return Err(StoreError::NotFound.into());
    }
    if !allowed(store, org_id, case_id, Purpose::SharePartner, Some(partner)).await? {
        return Err(AppError::Invalid(ValidationErrors::single("partner_org_id", "consent_required")));
    }
    Ok(store.share_case(actor, org_id, case_id, partner).await?)
}

/// A case as a partner organization sees it through a share: its plain fields and the
/// person's sealed data (the read recorded in the owner's audit history).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SharedCase {
    pub share: CaseShare,
    pub case: Case,
    pub person: Person,
}

/// Whether a share is open to the viewer's organization now: it matches its audit
/// history (else it is left out, and logged) and the person's consent still stands.
async fn open_to(store: &DynStore, s: &CaseShare, viewer_org: i64) -> Result<bool, AppError> {
    if s.partner_org_id != viewer_org || s.ended_at.is_some() {
        return Ok(false);
    }
    if store.audited_share(s.id).await?.as_ref() != Some(s) {
        tracing::error!(share = s.id, "a case share differs from its audit history: refused");
        return Ok(false);
    }
    allowed(store, s.org_id, s.case_id, Purpose::SharePartner, Some(viewer_org)).await
}

/// The shares open to the viewer's organization whose consent still stands.
pub async fn shared_with(store: &DynStore, viewer_org: i64) -> Result<Vec<CaseShare>, AppError> {
    let mut out = Vec::new();
    for s in store.shares_with(viewer_org).await? {
        if open_to(store, &s, viewer_org).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// Opens a case shared with the viewer's organization: `None` (the same answer as a
/// missing id) unless the share is open to it and the person's consent still stands.
/// Only the person's data is opened, and the read is recorded with the share.
pub async fn open_shared(
    store: &DynStore,
    actor: &Actor,
    viewer_org: i64,
    share_id: i64,
) -> Result<Option<SharedCase>, AppError> {
    // Only the share asked for is checked, not every share of the organization.
    let Some(share) = store.shares_with(viewer_org).await?.into_iter().find(|s| s.id == share_id) else {
        return Ok(None);
    };
    if !open_to(store, &share, viewer_org).await? {
        return Ok(None);
    }
    let Some(case) = store.case(share.org_id, share.case_id).await? else { return Ok(None) };
    let withheld = contact_withheld(store, share.org_id, share.case_id).await?;
    let mut person = store.read_shared_person(actor, &share).await?;
    if withheld {
        // Contacting the person after release is what their consent to contact covers,
        // for the partner as for the organization.
        person.contact = None;
    }
    Ok(Some(SharedCase { share, case, person }))
}

/// The decision's label key, for pages.
pub fn decision_key(d: Option<Decision>) -> &'static str {
    match d {
        Some(Decision::Given) => "consent-given",
        Some(Decision::Withdrawn) => "consent-withdrawn",
        None => "consent-not-asked",
    }
}

/// Everything Vigía holds about the person a case follows, as one file for them (an
/// ARCO access request under Mexico's data-protection law): the case's fields, their
/// sealed data, the events with their notes, the documents themselves, the consents and
/// the shares. Each sealed read is recorded as usual, and the export itself is recorded
/// in the case's history with what the file held and its SHA-256.
pub async fn arco_export(store: &DynStore, actor: &Actor, org_id: i64, case_id: i64) -> Result<Vec<u8>, AppError> {
    use base64::Engine;
    let case = store.case(org_id, case_id).await?.ok_or(StoreError::NotFound)?;
    let sealed = store.read_case_sealed(actor, org_id, case_id).await?;
    let events: Vec<serde_json::Value> = store
        .case_events(org_id, case_id)
        .await?
        .iter()
        .map(|e| {
            serde_json::json!({"id": e.id, "kind": e.draft.kind, "on": e.draft.on.to_string(),
                "note": sealed.notes.get(&e.id), "voided": e.voided_at.is_some(), "void_reason": e.void_reason})
        })
        .collect();
    let mut documents = Vec::new();
    for d in store.case_documents(org_id, case_id).await? {
        let (a, bytes) = store.read_case_document(actor, org_id, d.id).await?;
        documents.push(serde_json::json!({"filename": a.filename, "content_type": a.content_type, "sha256": a.sha256,
            "size": a.size, "base64": base64::engine::general_purpose::STANDARD.encode(&bytes)}));
    }
    let consents = store.consents(org_id, Some(case_id)).await?;
    let shares = store.case_shares(org_id, case_id).await?;
    let org = store.list_orgs().await?.into_iter().find(|o| o.id == org_id).map(|o| o.name).unwrap_or_default();
    let file = serde_json::json!({
        "about": {
            "es": "Todo lo que esta organización guarda sobre usted en Vigía, entregado a petición suya (derecho de acceso, derechos ARCO): sus datos, los hechos de su caso con sus notas, los documentos, sus consentimientos y con quién se compartió su caso.",
            "en": "Everything this organization holds about you in Vigía, given to you at your request (right of access, ARCO rights): your data, the events of your case with their notes, the documents, your consents and whom your case was shared with."
        },
        "organization": org,
        "made_at": vigia_domain::format_instant(jiff::Timestamp::now().as_microsecond()),
        "case": case,
        "person": sealed.person,
        "events": events,
        "documents": documents,
        "consents": consents,
        "shares": shares,
    });
    let bytes = serde_json::to_vec_pretty(&file).map_err(|e| AppError::Internal(e.to_string()))?;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let content = serde_json::json!({"case_id": case_id, "org_id": org_id, "reader_user_id": actor.user_id,
        "fields": ["person", "event_notes", "documents", "consents", "shares"], "events": events.len(),
        "documents": documents.len(), "consents": consents.len(), "sha256": sha})
    .to_string();
    store.record_arco_export(actor, org_id, case_id, &content).await?;
    Ok(bytes)
}

/// Whether the case's detention ended: a live (not voided) release, deportation or
/// forced return is recorded.
async fn released(store: &DynStore, org_id: i64, case_id: i64) -> Result<bool, AppError> {
    Ok(store.case_events(org_id, case_id).await?.iter().any(|e| !e.is_voided() && e.draft.kind.ends_detention()))
}

/// Whether the person's contact details are withheld from the organization
/// ([`consent::contact_withheld`]), decided on the audited consents.
pub async fn contact_withheld(store: &DynStore, org_id: i64, case_id: i64) -> Result<bool, AppError> {
    if !released(store, org_id, case_id).await? {
        return Ok(false);
    }
    let records = checked_records(store, org_id, case_id).await?;
    Ok(consent::contact_withheld(true, ordered(&records)))
}

/// Opens the case's sealed data for the organization's own pages and API (the read is
/// recorded): the person's contact details left out while they are withheld. Returns
/// whether they were.
pub async fn read_for_view(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
) -> Result<(vigia_store::SealedCase, bool), AppError> {
    let withheld = contact_withheld(store, org_id, case_id).await?;
    let mut sealed = store.read_case_sealed(actor, org_id, case_id).await?;
    if withheld {
        sealed.person.contact = None;
    }
    Ok((sealed, withheld))
}

/// Before a correction of the case: while the person's contact details are withheld
/// the form and the API do not show them, so a correction that leaves them out keeps
/// the stored ones (nothing entered is lost); one that gives new ones records them.
pub async fn keep_withheld_contact(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
    person: &mut Person,
) -> Result<(), AppError> {
    if person.contact.is_none() && contact_withheld(store, org_id, case_id).await? {
        person.contact = store.read_case_sealed(actor, org_id, case_id).await?.person.contact;
    }
    Ok(())
}
