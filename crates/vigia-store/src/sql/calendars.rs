use super::*;

#[async_trait::async_trait]
impl crate::Calendars for SqlStore {
    async fn add_calendar_rule(&self, actor: &Actor, rule: CalendarRule) -> Result<CalendarRule> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO calendar_rules (calendar, start_date, end_date, label_es, label_en, source, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&rule.calendar)
        .bind(&rule.start_date)
        .bind(&rule.end_date)
        .bind(&rule.label_es)
        .bind(&rule.label_en)
        .bind(&rule.source)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let r = CalendarRule { id, ..rule };
        w.audit(actor, actor.org_id, "create", RecordType::CalendarRule, id, &r.content_json()).await?;
        w.commit().await?;
        Ok(r)
    }

    async fn calendar_rules(&self) -> Result<Vec<CalendarRule>> {
        let rows = sqlx::query(
            "SELECT id, calendar, start_date, end_date, label_es, label_en, source FROM calendar_rules ORDER BY start_date, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarRule {
                    id: r.try_get("id")?,
                    calendar: r.try_get("calendar")?,
                    start_date: r.try_get("start_date")?,
                    end_date: r.try_get("end_date")?,
                    label_es: r.try_get("label_es")?,
                    label_en: r.try_get("label_en")?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }
}
