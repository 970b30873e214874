//! The shared kit every feature's pages use: the page frame (`Chrome`), rendering and
//! error pages, forms and their field views, safe redirects, record histories with
//! their sealed text opened for those allowed, and file uploads. It imports nothing
//! from any feature, so features depend on it and never on each other through it
//! (issue #15: the router root, `ui.rs`, used to hold all of this).

pub mod alerts;
pub mod chart;
pub mod document;
pub mod frame;
pub mod json;
pub mod kept;
pub mod listing;
pub mod map;
pub mod records;

use crate::auth::{Ctx, CSRF_FIELD};
use crate::error::{PageError, WebError};
use crate::i18n::{field_error, tr, tr_args};
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::import::RowError;
use vigia_domain::ValidationErrors;

pub(crate) type PageResult = Result<Response, PageError>;
/// What every page's frame needs.
pub struct Chrome {
    pub locale: Locale,
    pub csrf: String,
    pub user: Option<String>,
    pub path: String,
    pub can_audit: bool,
    pub can_manage_users: bool,
    pub can_cases: bool,
    pub can_reports: bool,
    pub can_requests: bool,
    pub can_erase: bool,
    pub can_publish: bool,
    pub flash: Option<String>,
    /// Unread alerts, shown in the menu ("99+" past 99).
    pub unread: String,
}

impl Chrome {
    pub(crate) fn new(ctx: &Ctx, path: &str) -> Self {
        let user = ctx.user.as_ref().map(|u| {
            tr_args(
                ctx.locale,
                "signed-in-as",
                &[
                    ("name", u.display_name.clone()),
                    ("org", ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default()),
                    ("role", tr(ctx.locale, &format!("role-{}", u.role.as_str()))),
                ],
            )
        });
        Self {
            locale: ctx.locale,
            csrf: ctx.csrf.clone(),
            user,
            path: path.to_string(),
            can_audit: ctx.can(Permission::ReadAudit),
            can_manage_users: ctx.can(Permission::ManageUsers),
            can_cases: ctx.can(Permission::ReadCases),
            can_reports: ctx.can(Permission::MakeReports),
            can_requests: ctx.can(Permission::TrackRequests),
            can_erase: ctx.can(Permission::EraseCaseData),
            can_publish: ctx.can(Permission::Publish),
            flash: None,
            unread: match ctx.unread_alerts {
                n if n <= 0 => String::new(),
                n if n > 99 => "99+".to_string(),
                n => n.to_string(),
            },
        }
    }

    pub(crate) fn flash(mut self, msg: Option<String>) -> Self {
        self.flash = msg;
        self
    }

    pub fn t(&self, key: &str) -> String {
        tr(self.locale, key)
    }

    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.locale {
            Locale::Es => "en",
            Locale::En => "es",
        }
    }

    pub fn other_lang_name(&self) -> String {
        let other = Locale::parse(self.other_lang()).unwrap_or_default();
        tr(other, "lang-name")
    }
}

/// The words of a part of a page rendered once and kept for everyone of an organization
/// who reads that language (`c.t(…)` in its template, as in a whole page's): nothing of
/// the frame, which is each person's.
pub struct Words {
    pub locale: Locale,
}

impl Words {
    pub fn t(&self, key: &str) -> String {
        tr(self.locale, key)
    }
}

pub(crate) fn render<T: Template>(status: StatusCode, t: &T) -> PageResult {
    let body = t.render().map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((status, Html(body)).into_response())
}

/// Form fields as pairs, with the CSRF token taken out.
pub(crate) struct FormBody {
    pub(crate) pairs: Vec<(String, String)>,
    csrf: Option<String>,
}

impl FormBody {
    fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, WebError> {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(WebError::UnsupportedMediaType);
        }
        if body.len() > crate::state::FORM_LIMIT {
            return Err(WebError::TooLarge);
        }
        let all: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| WebError::BadRequest(e.to_string()))?;
        let mut csrf = None;
        let pairs = all
            .into_iter()
            .filter_map(|(k, v)| {
                if k == CSRF_FIELD {
                    csrf = Some(v);
                    None
                } else {
                    Some((k, v))
                }
            })
            .collect();
        Ok(Self { pairs, csrf })
    }

    /// The pairs as validators read them: a field a form repeats (checkboxes) joined
    /// with commas, and the form's `version` left out (it travels apart).
    pub(crate) fn joined(&self, list_field: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in self.pairs.iter().filter(|(k, _)| k != "version") {
            match out.iter_mut().find(|(ok, _)| ok == k && k == list_field) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(v);
                }
                None => out.push((k.clone(), v.clone())),
            }
        }
        out
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    pub(crate) fn checked(headers: &HeaderMap, body: &Bytes, ctx: &Ctx) -> Result<Self, WebError> {
        let form = Self::parse(headers, body)?;
        ctx.check_form(form.csrf.as_deref(), headers)?;
        Ok(form)
    }
}

/// Only same-site paths are followed after sign-in, re-authentication or a language
/// change. The value arrives decoded, and browsers drop tabs and newlines from a
/// `Location` and read `\\` as `/` (`/\t/evil.example` becomes `//evil.example`), so
/// anything but printable ASCII without `\\` is refused, then anything starting `//`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_same_site_path(n) => without_reveal(n),
        _ => "/".to_string(),
    }
}

/// The path without a `reveal` parameter: arriving after sign-in is not a deliberate
/// request to open sealed data (a link to `/login?next=/cases/7?reveal=1` from another
/// site would otherwise open it with the sign-in's same-site redirect); the page shows
/// its button instead.
pub(crate) fn without_reveal(n: &str) -> String {
    let Some((path, query)) = n.split_once('?') else { return n.to_string() };
    let (query, fragment) = query.split_once('#').map_or((query, None), |(q, f)| (q, Some(f)));
    let kept: Vec<&str> = query.split('&').filter(|p| p.split('=').next() != Some("reveal")).collect();
    let mut out = path.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

pub(crate) fn is_same_site_path(n: &str) -> bool {
    n.starts_with('/') && !n.starts_with("//") && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

pub(crate) fn parse_id(s: &str) -> Result<i64, WebError> {
    s.parse::<i64>().ok().filter(|id| *id > 0).ok_or(WebError::NotFound)
}
#[derive(Clone)]
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Clone)]
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub input: &'static str,
    pub value: String,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub options: Vec<OptionView>,
}

impl FieldView {
    /// A field labelled by the catalogue's `label_key`, with the hint `{label_key}-hint`
    /// when the catalogue has one, and the reason for `name`'s error, if any.
    /// A form's field labelled `{prefix}{name}`, holding what was typed for it in
    /// `values` (nothing yet when absent).
    pub fn typed(
        l: Locale,
        prefix: &str,
        name: &'static str,
        input: &'static str,
        values: &HashMap<String, String>,
        required: bool,
        errors: &ValidationErrors,
    ) -> Self {
        let value = values.get(name).cloned().unwrap_or_default();
        Self::new(l, name, &format!("{prefix}{name}"), input, value, required, errors)
    }

    pub fn new(
        l: Locale,
        name: &'static str,
        label_key: &str,
        input: &'static str,
        value: String,
        required: bool,
        errors: &ValidationErrors,
    ) -> Self {
        let hint_key = format!("{label_key}-hint");
        FieldView {
            name,
            label: tr(l, label_key),
            input,
            value,
            required,
            hint: Some(tr(l, &hint_key)).filter(|h| *h != hint_key),
            error: errors.for_field(name).map(|e| field_error(l, e)),
            options: Vec::new(),
        }
    }
}

pub struct FormView {
    pub title: String,
    pub action: String,
    pub submit: String,
    pub version: Option<i64>,
    pub summary: Option<String>,
    pub fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "form.html")]
pub(crate) struct FormPage {
    pub(crate) c: Chrome,
    pub(crate) form: FormView,
}

pub struct VersionView {
    pub action: String,
    pub when: String,
    pub who: String,
    pub hash: String,
    pub changes: Vec<(String, Option<String>, String)>,
}

#[derive(Template)]
#[template(path = "history.html")]
pub(crate) struct HistoryPage {
    pub(crate) c: Chrome,
    pub(crate) title: String,
    pub(crate) versions: Vec<VersionView>,
    /// Says how many versions the viewer's organization may not read (never shared with it).
    pub(crate) withheld: Option<String>,
}

/// Names for the ids a history holds (center, organization, user), so a version reads
/// "Centro: Siglo XXI (#1)" rather than "Centro: 1". Each distinct id is looked up once.
pub(crate) struct IdNames(HashMap<(&'static str, i64), String>);

pub(crate) fn id_kind(field: &str) -> Option<&'static str> {
    match field {
        "facility_id" => Some("facility"),
        "org_id" => Some("org"),
        "lawyer_user_id" | "user_id" => Some("user"),
        _ => None,
    }
}

impl IdNames {
    async fn of(st: &AppState, contents: &[JsonMap]) -> Result<IdNames, WebError> {
        let mut wanted = std::collections::BTreeSet::new();
        for (k, v) in contents.iter().flatten() {
            if let (Some(kind), Some(id)) = (id_kind(k), v.as_i64()) {
                wanted.insert((kind, id));
            }
        }
        let mut names = HashMap::new();
        for (kind, id) in wanted {
            let name = match kind {
                "facility" => st.store.facility(id).await?.map(|f| f.draft.name),
                "org" => st.store.org(id).await?.map(|o| o.name),
                _ => st.store.user(id).await?.map(|u| u.display_name),
            };
            if let Some(name) = name {
                names.insert((kind, id), name);
            }
        }
        Ok(IdNames(names))
    }

    fn name(&self, field: &str, id: i64) -> Option<String> {
        let kind = id_kind(field)?;
        self.0.get(&(kind, id)).map(|n| format!("{n} (#{id})"))
    }
}

/// A recorded value as people read it: instants (fields named `…_at`, in
/// microseconds) as UTC times, the codes of attempts' choices in the reader's
/// language, ids by name; anything else as it was stored.
pub(crate) fn show_json(l: Locale, names: &IdNames, field: &str, v: &serde_json::Value) -> String {
    let choice = |code: &str| match field {
        "purpose" | "outcome" | "visibility" => label(l, field, code),
        "reason_category" => label(l, "reason", code),
        "restrictions" => label(l, "restriction", code),
        _ => code.to_string(),
    };
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => choice(s),
        serde_json::Value::Number(n) if field.ends_with("_at") => n.as_i64().map_or_else(|| n.to_string(), when),
        serde_json::Value::Number(n) if id_kind(field).is_some() => {
            n.as_i64().and_then(|id| names.name(field, id)).unwrap_or_else(|| n.to_string())
        }
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => {
            let shown: Vec<String> = items.iter().filter_map(|i| i.as_str()).map(choice).collect();
            if shown.is_empty() {
                "—".into()
            } else {
                shown.join(", ")
            }
        }
        other => other.to_string(),
    }
}

pub(crate) type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Each version with the fields that changed from the one before, ids named.
/// Free text sealed where the audit history keeps it (security review finding 11): the
/// key in a version's content and the sealed field it was written as.
pub(crate) const SEALED_TEXT: [(&str, &str); 7] = [
    ("reference", "case.reference"),
    ("filename", "case.document_name"),
    ("sha256", "case.document_sha256"),
    ("reason_text", "attempt.reason_text"),
    ("official", "attempt.official"),
    ("notes", "attempt.notes"),
    ("void_reason", "case_event.void_reason"),
];

/// What each history entry's sealed text says, for a reader the version is shown to:
/// `(key, text)` pairs per entry. The entries keep what the audit history holds, so
/// their hashes still check.
pub async fn opened_text(st: &AppState, entries: &[vigia_store::HistoryEntry]) -> Result<Vec<JsonMap>, WebError> {
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let content: JsonMap = serde_json::from_str(&e.content).unwrap_or_default();
        let org = content.get("org_id").and_then(serde_json::Value::as_i64).unwrap_or_default();
        let mut opened = JsonMap::new();
        for (key, field) in SEALED_TEXT {
            if let Some(text) = content.get(key).and_then(serde_json::Value::as_str) {
                if !vigia_store::vault::is_sealed_text(text) {
                    continue;
                }
                if field.starts_with("case.document") || field == "case_event.void_reason" {
                    // A case's personal text opens with the case's key, and nothing of
                    // an erased case opens (issue #20 part 3): shown as a dash.
                    let case = content.get("case_id").or_else(|| content.get("record_id"));
                    let case = case.and_then(serde_json::Value::as_i64).unwrap_or_default();
                    let text = st.store.open_case_history_text(org, case, field, e.record_id, text).await?;
                    opened.insert(key.into(), text.unwrap_or_else(|| "—".into()).into());
                } else {
                    // Sealed for the record the version is of.
                    opened.insert(key.into(), st.store.open_recorded_text(org, field, e.record_id, text).await?.into());
                }
            }
        }
        out.push(opened);
    }
    Ok(out)
}

/// The entries with their sealed text opened, for a page that shows what changed.
pub async fn with_text_opened(
    st: &AppState,
    entries: &[vigia_store::HistoryEntry],
) -> Result<Vec<vigia_store::HistoryEntry>, WebError> {
    let opened = opened_text(st, entries).await?;
    Ok(entries
        .iter()
        .zip(opened)
        .map(|(e, text)| {
            let mut content: JsonMap = serde_json::from_str(&e.content).unwrap_or_default();
            content.extend(text);
            vigia_store::HistoryEntry { content: serde_json::Value::Object(content).to_string(), ..e.clone() }
        })
        .collect())
}

pub async fn version_views(
    st: &AppState,
    l: Locale,
    entries: &[vigia_store::HistoryEntry],
) -> Result<Vec<VersionView>, WebError> {
    let contents: Vec<JsonMap> = entries.iter().map(|e| serde_json::from_str(&e.content).unwrap_or_default()).collect();
    let names = &IdNames::of(st, &contents).await?;
    // Each version is compared with the version before it of the same record: a page
    // may interleave a case's entries with its events'.
    let mut last: HashMap<(&str, i64), JsonMap> = HashMap::new();
    let mut out = Vec::new();
    for (e, content) in entries.iter().zip(contents) {
        let prev = last.get(&(e.record_type.as_str(), e.record_id));
        let mut changes = Vec::new();
        for (k, v) in &content {
            if k == "id" || k == "version" {
                continue;
            }
            let old = prev.and_then(|p| p.get(k));
            if old == Some(v) {
                continue;
            }
            if prev.is_none() && v.is_null() {
                continue;
            }
            // Sealed bytes say nothing to a reader, and change whenever they are sealed
            // again: shown as sealed, and not as a change when only they changed.
            let shown = |v: &serde_json::Value| match k.ends_with("_sealed") && !v.is_null() {
                true => tr(l, "history-sealed"),
                false => show_json(l, names, k, v),
            };
            let (old, new) = (old.map(shown), shown(v));
            if old.as_ref() == Some(&new) {
                continue;
            }
            changes.push((label(l, "field", k), old, new));
        }
        out.push(VersionView {
            action: tr(l, &format!("action-{}", e.action)),
            when: when(e.at),
            who: e.actor_name.clone().unwrap_or_else(|| tr(l, "history-system")),
            hash: e.entry_hash.clone(),
            changes,
        });
        last.insert((e.record_type.as_str(), e.record_id), content);
    }
    out.reverse();
    Ok(out)
}

/// The CSRF token, the file name and the bytes of a multipart upload form.
pub(crate) async fn read_upload(
    multipart: axum::extract::Multipart,
) -> Result<(Option<String>, String, Bytes), WebError> {
    let (csrf, name, file, _) = read_upload_with_fields(multipart).await?;
    Ok((csrf, name, file))
}

/// [`read_upload`], with the form's other text fields (a file's provenance, say).
pub(crate) async fn read_upload_with_fields(
    mut multipart: axum::extract::Multipart,
) -> Result<(Option<String>, String, Bytes, Vec<(String, String)>), WebError> {
    let bad = |e: axum::extract::multipart::MultipartError| WebError::BadRequest(e.body_text());
    let (mut csrf, mut name, mut file, mut fields) = (None, String::new(), Bytes::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().map(str::to_string).as_deref() {
            Some("csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("file") => {
                name = field.file_name().unwrap_or("").to_string();
                file = field.bytes().await.map_err(bad)?;
            }
            Some(other) if fields.len() < 32 => {
                let other = other.to_string();
                let text = field.text().await.map_err(bad)?;
                if text.len() > 4096 {
                    return Err(WebError::TooLarge);
                }
                fields.push((other, text));
            }
            _ => {}
        }
    }
    Ok((csrf, name, file, fields))
}

/// What an import page imports: its path and the catalogue keys of its texts.
pub(crate) struct ImportKind {
    pub path: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub columns: &'static str,
    pub done: &'static str,
    /// Where the page asks how far an upload has come (followed by its key), for an
    /// import read as it arrives; the page then shows a progress bar.
    pub progress: Option<&'static str>,
}

/// The texts a progress bar shows, with `%ROWS%`-style slots its script fills in.
pub(crate) struct ProgressTexts {
    pub api: &'static str,
    pub label: String,
    pub sending: String,
    pub reading: String,
    pub storing: String,
    pub failed: String,
}

#[derive(Template)]
#[template(path = "import.html")]
pub(crate) struct ImportPage {
    c: Chrome,
    title: String,
    intro: String,
    columns: String,
    action: &'static str,
    summary: Option<String>,
    rows: Vec<(u64, String, String)>,
    progress: Option<ProgressTexts>,
}

/// What an upload came to: the arguments of the kind's `done` message, or every bad row.
pub(crate) type ImportOutcome<'a> = Result<Vec<(&'a str, String)>, Vec<RowError>>;

/// The import page, empty or with the outcome of an upload: what was imported, or
/// every bad row with its line, column and reason (and nothing imported).
pub(crate) fn import_page_for(ctx: &Ctx, kind: &ImportKind, outcome: Option<ImportOutcome>) -> PageResult {
    let l = ctx.locale;
    let (status, flash, summary, rows) = match outcome {
        None => (StatusCode::OK, None, None, Vec::new()),
        Some(Ok(args)) => (StatusCode::OK, Some(tr_args(l, kind.done, &args)), None, Vec::new()),
        Some(Err(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(tr_args(l, "import-rejected", &[("count", errors.len().to_string())])),
            errors
                .iter()
                .take(vigia_domain::import::LISTED_PROBLEMS)
                .map(|r| (r.line, r.column.clone(), field_error(l, &r.as_field_error())))
                .collect(),
        ),
    };
    let page = ImportPage {
        c: Chrome::new(ctx, kind.path).flash(flash),
        title: tr(l, kind.title),
        intro: tr(l, kind.intro),
        columns: tr(l, kind.columns),
        action: kind.path,
        summary,
        rows,
        progress: kind.progress.map(|api| {
            let slot = |name: &str| format!("%{}%", name.to_uppercase());
            let slots = |names: &[&'static str]| names.iter().map(|n| (*n, slot(n))).collect::<Vec<_>>();
            ProgressTexts {
                api,
                label: tr(l, "import-progress-label"),
                sending: tr(l, "import-progress-sending"),
                reading: tr_args(l, "import-progress-reading", &slots(&["rows", "rate", "problems"])),
                storing: tr_args(l, "import-progress-storing", &slots(&["stored", "rows", "rate"])),
                failed: tr(l, "import-progress-failed"),
            }
        }),
    };
    render(status, &page)
}

/// The catalogue's name for a code (`{prefix}-{value}`), or the code itself when the
/// catalogue has none (authorities and topics organizations add themselves).
pub fn label(l: Locale, prefix: &str, value: &str) -> String {
    let key = format!("{prefix}-{value}");
    let t = tr(l, &key);
    if t == key {
        value.to_string()
    } else {
        t
    }
}

/// The catalogue's names for codes ([`label`]), each looked up once: a download of a
/// million rows names the same few dozen codes again and again.
pub struct Labels {
    l: Locale,
    seen: HashMap<(&'static str, &'static str), String>,
}

impl Labels {
    pub fn new(l: Locale) -> Self {
        Labels { l, seen: HashMap::new() }
    }

    /// `label(l, prefix, value)`.
    pub fn of(&mut self, prefix: &'static str, value: &'static str) -> String {
        let l = self.l;
        self.seen.entry((prefix, value)).or_insert_with(|| label(l, prefix, value)).clone()
    }
}

/// Evidence files as the pages list them.
pub fn file_rows(list: Vec<vigia_store::Attachment>) -> Vec<FileRow> {
    list.into_iter()
        .map(|f| FileRow {
            id: f.id,
            name: f.filename,
            kind: f.content_type,
            size: if f.size >= 1024 * 1024 {
                format!("{:.1} MiB", f.size as f64 / 1048576.0)
            } else {
                format!("{:.0} KiB", (f.size as f64 / 1024.0).ceil())
            },
            sha256: f.sha256,
        })
        .collect()
}

/// The reason an upload was refused, from the `file_error` the upload redirected with.
pub fn file_error(l: Locale, q: &HashMap<String, String>) -> Option<String> {
    q.get("file_error").map(|code| {
        let code: &'static str = match code.as_str() {
            "file_too_large" => "file_too_large",
            "required" => "required",
            _ => "file_type",
        };
        field_error(
            l,
            &vigia_domain::FieldError::new("file", code).with("max", vigia_domain::evidence::MAX_BYTES / 1048576),
        )
    })
}

pub struct FileRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
}

/// An instant as people read it: the civil time where the law counts (Mexico City),
/// with its abbreviation, e.g. `2020-01-28 11:05 CST`. JSON keeps UTC.
pub fn when(at: vigia_domain::Micros) -> String {
    vigia_domain::format_local(at, vigia_domain::geo::LEGAL_TIME_ZONE)
}

/// "Personal data erased on … by … (why)", as a case page and the retention list say it.
pub fn erased_words(l: Locale, e: &vigia_store::Erasure) -> String {
    let partial = if e.partial { format!(" {}", crate::i18n::tr(l, "case-erased-partial")) } else { String::new() };
    let words = crate::i18n::tr_args(
        l,
        "case-erased",
        &[
            ("when", when(e.at)),
            ("who", e.by_name.clone().unwrap_or_else(|| crate::i18n::tr(l, "erase-by-system"))),
            ("reason", crate::i18n::tr(l, &format!("erase-reason-{}", e.reason.as_str()))),
        ],
    );
    words + &partial
}

/// The civil date now in Mexico City, the zone legal deadlines are counted in.
/// A form's problems in the reader's words, for a page's error summary: each field's
/// label and why.
pub fn form_problems(l: Locale, errs: &vigia_domain::ValidationErrors) -> String {
    errs.0
        .iter()
        .map(|e| format!("{}: {}", label(l, "field", &e.field), crate::i18n::field_error(l, e)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn today() -> jiff::civil::Date {
    vigia_app::today()
}

/// Text made safe to put inside HTML or an attribute.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// How sure a suspected suspension is, in plain words: "Evidencia muy fuerte: si nada
/// hubiera cambiado, tantos rechazos se verían menos de una vez en 1 000 000 periodos
/// como este. Se ve mejor en ventanas de 28 días." (the analysis and the reports).
pub fn sureness(l: Locale, certainty: vigia_domain::suspension::Certainty, one_in: u64, days: i64) -> String {
    tr_args(
        l,
        "analysis-sureness",
        &[
            ("word", tr(l, &format!("analysis-certainty-{}", certainty.as_str()))),
            ("odds", grouped(one_in)),
            ("days", days.to_string()),
        ],
    )
}

/// A whole number with its thousands apart, as both languages read them: `1 000 000`
/// (no-break spaces, the SI way, so neither a comma nor a point is misread).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(ch);
    }
    out
}

/// The page a role's work starts on.
pub fn landing(user: &vigia_domain::account::User) -> &'static str {
    match user.role {
        vigia_domain::account::Role::Lawyer => "/today",
        vigia_domain::account::Role::Coordinator => "/overview",
        vigia_domain::account::Role::Monitor => "/start",
        vigia_domain::account::Role::Admin | vigia_domain::account::Role::Analyst => "/facilities",
    }
}

pub fn options<T: Copy>(
    l: Locale,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    selected: Option<&str>,
) -> Vec<OptionView> {
    all.iter()
        .map(|v| OptionView {
            value: code(*v).into(),
            label: label(l, prefix, code(*v)),
            selected: selected == Some(code(*v)),
        })
        .collect()
}

/// Checkboxes, one per code, labelled from the catalogue's `{prefix}-{code}`, ticked
/// when the code is among `chosen`.
pub fn checkboxes<T: Copy>(
    l: Locale,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    chosen: &[&str],
) -> Vec<OptionView> {
    all.iter()
        .map(|v| OptionView {
            value: code(*v).into(),
            label: label(l, prefix, code(*v)),
            selected: chosen.contains(&code(*v)),
        })
        .collect()
}

/// An evidence file as the JSON API lists it.
pub fn attachment_json(a: &vigia_store::Attachment) -> serde_json::Value {
    serde_json::json!({
        "id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
        "sha256": a.sha256, "created_at": vigia_domain::format_instant(a.created_at), "download": format!("/api/v1/files/{}", a.id),
    })
}

/// A visit as a row of a list (the visits list, a facility's page).
#[derive(Clone)]
pub struct VisitRow {
    pub id: i64,
    pub on: String,
    pub facility: String,
    pub occupancy: String,
    pub flags: Vec<String>,
}

#[cfg(test)]
mod tests {
    /// The kit is what features share: it must not reach back into any of them, or
    /// features would depend on each other through it (issue #15). Every file of the
    /// kit's folder, against every feature folder beside it.
    #[test]
    fn the_kit_imports_no_feature() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let features: Vec<String> = std::fs::read_dir(&src)
            .expect("src")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir() && e.file_name() != "kit")
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(features.len() >= 10, "the feature folders are found: {features:?}");
        for entry in std::fs::read_dir(src.join("kit")).expect("kit") {
            let path = entry.expect("entry").path();
            let source = std::fs::read_to_string(&path).expect("read");
            let code = &source[..source.find("#[cfg(test)]").unwrap_or(source.len())];
            for f in &features {
                for pattern in [format!("crate::{f}::"), format!("crate::{f};"), format!("crate::{{{f}")] {
                    assert!(!code.contains(&pattern), "{} uses the {f} feature ({pattern})", path.display());
                }
            }
        }
    }

    #[test]
    fn thousands_stand_apart() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1\u{a0}000");
        assert_eq!(super::grouped(1_000_000_000), "1\u{a0}000\u{a0}000\u{a0}000");
    }
}
