use super::*;
use crate::{Request, RequestEvent, RequestLink, StoredRegime};
use vigia_domain::transparency::{
    AnswerType, Channel, EventDraft, EventKind, LinkDraft, LinkKind, Outcome, Regime, RequestDraft,
};

pub(super) const REQUEST_COLUMNS: &str =
    "id, org_id, authority, folio, filed_on, question, channel, filed_by, regime, created_by, created_at";
pub(super) const EVENT_COLUMNS: &str =
    "id, org_id, request_id, kind, on_date, answer_type, outcome, note, created_by, created_at";
pub(super) const LINK_COLUMNS: &str = "id, org_id, request_id, kind, reference, created_by, created_at";
pub(super) const REGIME_COLUMNS: &str = "id, name, spec, created_by, created_at";

fn corrupt(what: &str, v: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("transparency {what} {v:?}"))
}

fn date(s: &str) -> Result<jiff::civil::Date> {
    s.parse().map_err(|_| corrupt("date", s))
}

pub(super) fn request_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Request> {
    let channel: String = r.try_get("channel")?;
    let filed: String = r.try_get("filed_on")?;
    Ok(Request {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        draft: RequestDraft {
            authority: r.try_get("authority")?,
            folio: r.try_get("folio")?,
            filed_on: date(&filed)?,
            question: r.try_get("question")?,
            channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
            filed_by: r.try_get("filed_by")?,
            regime: r.try_get("regime")?,
        },
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn event_from_row(r: &<Db as sqlx::Database>::Row) -> Result<RequestEvent> {
    let kind: String = r.try_get("kind")?;
    let on: String = r.try_get("on_date")?;
    let answer: Option<String> = r.try_get("answer_type")?;
    let outcome: Option<String> = r.try_get("outcome")?;
    Ok(RequestEvent {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        request_id: r.try_get("request_id")?,
        draft: EventDraft {
            kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
            on: date(&on)?,
            answer_type: answer.map(|a| AnswerType::parse(&a).ok_or_else(|| corrupt("answer type", &a))).transpose()?,
            outcome: outcome.map(|o| Outcome::parse(&o).ok_or_else(|| corrupt("outcome", &o))).transpose()?,
            note: r.try_get("note")?,
        },
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn link_from_row(r: &<Db as sqlx::Database>::Row) -> Result<RequestLink> {
    let kind: String = r.try_get("kind")?;
    Ok(RequestLink {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        request_id: r.try_get("request_id")?,
        kind: LinkKind::parse(&kind).ok_or_else(|| corrupt("link kind", &kind))?,
        reference: r.try_get("reference")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn regime_from_row(r: &<Db as sqlx::Database>::Row) -> Result<StoredRegime> {
    let spec: String = r.try_get("spec")?;
    Ok(StoredRegime {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        regime: serde_json::from_str(&spec).map_err(|_| corrupt("regime", &spec))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn insert_event(
    w: &mut WriteTx,
    actor: &Actor,
    org_id: i64,
    request_id: i64,
    draft: EventDraft,
) -> Result<RequestEvent> {
    let id: i64 = sqlx::query(
        "INSERT INTO transparency_events (org_id, request_id, kind, on_date, answer_type, outcome, note, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org_id)
    .bind(request_id)
    .bind(draft.kind.as_str())
    .bind(draft.on.to_string())
    .bind(draft.answer_type.map(|a| a.as_str()))
    .bind(draft.outcome.map(|o| o.as_str()))
    .bind(&draft.note)
    .bind(actor.user_id)
    .bind(w.now)
    .fetch_one(&mut *w.tx)
    .await
    .map_err(unique_to_conflict("already_recorded"))?
    .try_get("id")?;
    let e = RequestEvent { id, org_id, request_id, draft, created_by: actor.user_id, created_at: w.now };
    w.audit(actor, Some(org_id), "create", RecordType::TransparencyEvent, id, &e.content_json()).await?;
    Ok(e)
}

#[async_trait::async_trait]
impl crate::Transparency for SqlStore {
    async fn create_requests(
        &self,
        actor: &Actor,
        org_id: i64,
        items: Vec<(RequestDraft, Vec<EventDraft>)>,
    ) -> Result<Vec<Request>> {
        let mut w = self.begin().await?;
        let mut out = Vec::with_capacity(items.len());
        for (d, events) in items {
            let id: i64 = sqlx::query(
                "INSERT INTO transparency_requests (org_id, authority, folio, filed_on, question, channel, filed_by, \
                 regime, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(org_id)
            .bind(&d.authority)
            .bind(&d.folio)
            .bind(d.filed_on.to_string())
            .bind(&d.question)
            .bind(d.channel.as_str())
            .bind(&d.filed_by)
            .bind(&d.regime)
            .bind(actor.user_id)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("request_exists"))?
            .try_get("id")?;
            let r = Request { id, org_id, draft: d, created_by: actor.user_id, created_at: w.now };
            w.audit(actor, Some(org_id), "create", RecordType::TransparencyRequest, id, &r.content_json()).await?;
            for e in events {
                insert_event(&mut w, actor, org_id, id, e).await?;
            }
            out.push(r);
        }
        w.commit().await?;
        Ok(out)
    }

    async fn requests(&self, org_id: i64) -> Result<Vec<Request>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM transparency_requests WHERE org_id = $1 ORDER BY filed_on DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(request_from_row).collect()
    }

    async fn request(&self, org_id: i64, id: i64) -> Result<Option<Request>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM transparency_requests WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(request_from_row).transpose()
    }

    async fn request_events(&self, org_id: i64, request_id: Option<i64>) -> Result<Vec<RequestEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM transparency_events WHERE org_id = $1 AND ($2 IS NULL OR request_id = $2) \
             ORDER BY request_id, on_date, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(request_id).fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn add_request_event(
        &self,
        actor: &Actor,
        org_id: i64,
        request_id: i64,
        check: crate::EventCheck,
    ) -> Result<RequestEvent> {
        let mut w = self.begin().await?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM transparency_events WHERE org_id = $1 AND request_id = $2 ORDER BY on_date, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(request_id).fetch_all(&mut *w.tx).await?;
        let before: Vec<EventDraft> = rows.iter().map(|r| event_from_row(r).map(|e| e.draft)).collect::<Result<_>>()?;
        let draft = check(&before).map_err(StoreError::Invalid)?;
        let e = insert_event(&mut w, actor, org_id, request_id, draft).await?;
        w.commit().await?;
        Ok(e)
    }

    async fn link_request(&self, actor: &Actor, org_id: i64, request_id: i64, link: LinkDraft) -> Result<RequestLink> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO transparency_links (org_id, request_id, kind, reference, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org_id)
        .bind(request_id)
        .bind(link.kind.as_str())
        .bind(&link.reference)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("link_exists"))?
        .try_get("id")?;
        let l = RequestLink {
            id,
            org_id,
            request_id,
            kind: link.kind,
            reference: link.reference,
            created_by: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "create", RecordType::TransparencyLink, id, &l.content_json()).await?;
        w.commit().await?;
        Ok(l)
    }

    async fn request_links(&self, org_id: i64, request_id: Option<i64>) -> Result<Vec<RequestLink>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM transparency_links WHERE org_id = $1 AND ($2 IS NULL OR request_id = $2) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(request_id).fetch_all(&self.pool).await?;
        rows.iter().map(link_from_row).collect()
    }

    async fn add_regime(&self, actor: &Actor, regime: &Regime) -> Result<StoredRegime> {
        let mut w = self.begin().await?;
        let spec = serde_json::to_string(regime).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id: i64 = sqlx::query(
            "INSERT INTO transparency_regimes (name, spec, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&regime.name)
        .bind(&spec)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("regime_exists"))?
        .try_get("id")?;
        let r = StoredRegime {
            id,
            name: regime.name.clone(),
            regime: regime.clone(),
            created_by: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, None, "create", RecordType::TransparencyRegime, id, &r.content_json()).await?;
        w.commit().await?;
        Ok(r)
    }

    async fn regimes(&self) -> Result<Vec<StoredRegime>> {
        let sql = format!("SELECT {REGIME_COLUMNS} FROM transparency_regimes ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(regime_from_row).collect()
    }
}
