//! The OpenAPI 3.1 document. Written by hand from the domain's own constants (kinds,
//! states, limits) so it says exactly what the validators accept; a test checks that
//! every route the router serves is documented and nothing else is.

use serde_json::{json, Value};
use vigia_domain::facility::{FacilityKind, MAX_CAPACITY};
use vigia_domain::{geo, note};

fn problem_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn json_response(desc: &str, schema: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

/// A downloaded evidence file: served with the type read from its bytes.
fn file_download() -> Value {
    let binary = json!({"schema": {"type": "string", "format": "binary"}});
    let content: serde_json::Map<String, Value> =
        vigia_domain::evidence::CONTENT_TYPES.iter().map(|t| (t.to_string(), binary.clone())).collect();
    json!({"description": "The file; X-Content-SHA256 names its hash", "content": content})
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}})
}

fn clock_params(extra: &[(&str, Value)]) -> Value {
    let calendars: Vec<String> = vigia_domain::clock::Calendars::builtin().names().map(str::to_string).collect();
    let mut v = vec![
        json!({"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date"}}),
        json!({"name": "calendar", "in": "query", "required": false, "schema": {"type": "string", "enum": calendars, "default": vigia_domain::clock::DEFAULT_CALENDAR}}),
        json!({"name": "explain", "in": "query", "required": false, "schema": {"type": "boolean"}}),
    ];
    for (name, schema) in extra {
        v.push(json!({"name": name, "in": "query", "required": true, "schema": schema}));
    }
    Value::Array(v)
}

fn errors(extra: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("401".into(), problem_response("Not signed in, or the token is not valid"));
    for (code, desc) in extra {
        m.insert((*code).into(), problem_response(desc));
    }
    m
}

fn with(mut base: serde_json::Map<String, Value>, code: &str, resp: Value) -> Value {
    base.insert(code.into(), resp);
    Value::Object(base)
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

/// Adds the answer for a case whose personal data was erased (issue #20 part 3).
fn gone(mut e: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    e.insert("410".into(), problem_response("The case's personal data was erased"));
    e
}

/// Paths and schemas of legal-aid cases, merged into the document.
fn case_parts() -> (Value, Value) {
    use vigia_domain::case::{AgeGroup, CaseStatus, DecisionOutcome, EventKind, ExtensionGround, Sex, Vulnerability};
    let codes = |v: Vec<&'static str>| Value::from(v);
    let nationalities: Vec<Value> = vigia_domain::names::countries(vigia_domain::account::Locale::En)
        .iter()
        .flat_map(|(code, _)| [Value::from(*code), Value::from(code.to_ascii_lowercase())])
        .chain([Value::from(""), Value::Null])
        .collect();
    let nullable_enum = |v: Vec<&'static str>| json!({"type": ["string", "null"], "enum": v.into_iter().map(Value::from).chain([Value::Null]).collect::<Vec<_>>()});
    let text = |max: usize| json!({"type": ["string", "null"], "maxLength": max});
    let write_errors = |what: &str| {
        errors(&[
            ("400", "Malformed JSON"),
            ("403", "The role may not edit cases"),
            ("404", what),
            ("413", "Body too large"),
            ("415", "Body is not JSON"),
            ("422", "A field is invalid"),
        ])
    };
    let versioned = |mut e: serde_json::Map<String, Value>| {
        e.insert("409".into(), problem_response("The version moved on"));
        e
    };
    let list = |schema: &str| json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}}}});
    // A list read a page at a time (keyset): how many match, and the next page's cursor.
    let paged = |schema: &str| {
        json!({"type": "object", "required": ["items", "total", "next"], "properties": {
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}},
            "total": {"type": "integer", "minimum": 0, "description": "How many rows match the filters, on every page"},
            "next": {"type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last page"}
        }})
    };
    let page_params = || {
        vec![
            json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}, "description": "Rows on this page (default 500)"}),
            json!({"name": "after", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^-?[0-9]+_[0-9]+$"}, "description": "The `next` of the previous page: the page starts after that row (keyset, stable while rows are added)"}),
        ]
    };
    let with_page = |mut v: Vec<Value>| {
        v.extend(page_params());
        v
    };
    let scope = |vals: Vec<&str>| json!({"name": "scope", "in": "query", "required": false, "schema": {"type": "string", "enum": vals}});
    let paths = json!({
        "/api/v1/cases": {
            "get": {
                "operationId": "listCases", "summary": "Your organization's cases (plain fields; analysts get pseudonyms, no reference), newest first, a page at a time",
                "parameters": with_page(vec![
                    json!({"name": "status", "in": "query", "required": false, "schema": {"type": "string", "enum": ["open", "closed", "all"]}}),
                    json!({"name": "lawyer_user_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}}),
                    json!({"name": "facility_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}})
                ]),
                "responses": with(errors(&[("403", "The role may not see cases"), ("422", "A filter is invalid")]), "200", json_response("Cases", "CaseList"))
            },
            "post": {
                "operationId": "createCase", "summary": "Open a case; the person's data is sealed at rest",
                "requestBody": body("CaseInput"),
                "responses": with(write_errors("A facility or lawyer does not exist"), "201", json_response("Created", "Case"))
            }
        },
        "/api/v1/cases/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getCase", "summary": "A case with its events (notes sealed) and its deadlines as of today",
                "responses": with(errors(&[("403", "The role may not see cases"), ("404", "No such case in your organization")]), "200", json_response("The case", "CaseDetail"))
            },
            "put": {
                "operationId": "updateCase", "summary": "Correct a case: a new version",
                "parameters": [{"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,18}\"?$"}}],
                "requestBody": body("CaseInput"),
                "responses": with(gone(versioned(write_errors("No such case in your organization"))), "200", json_response("The new version", "Case"))
            }
        },
        "/api/v1/cases/{id}/sealed": {
            "parameters": [id_param()],
            "get": {
                "operationId": "readCaseSealed", "summary": "Open the person's data and event notes; the read is recorded in the audit history",
                "responses": with(errors(&[("403", "The role may not read personal data"), ("404", "No such case in your organization"), ("410", "The case's personal data was erased")]), "200", json_response("Sealed fields", "SealedCase"))
            }
        },
        "/api/v1/cases/{id}/events": {
            "parameters": [id_param()],
            "post": {
                "operationId": "addCaseEvent", "summary": "Record an event on the case's timeline (in any order; deadlines follow dates)",
                "requestBody": body("CaseEventInput"),
                "responses": with(gone(write_errors("No such case in your organization")), "201", json_response("Recorded", "CaseEvent"))
            }
        },
        "/api/v1/cases/{id}/void": {
            "parameters": [id_param()],
            "post": {
                "operationId": "voidCaseEvent", "summary": "Mark an event as a mistake, with a reason; it stays on the record",
                "requestBody": body("VoidInput"),
                "responses": with(
                    {
                        let mut e = write_errors("No such case or event");
                        e.insert("409".into(), problem_response("The event was already voided"));
                        gone(e)
                    },
                    "200",
                    json_response("The voided event", "CaseEvent"),
                )
            }
        },
        "/api/v1/cases/{id}/documents": {
            "parameters": [id_param()],
            "get": {
                "operationId": "listCaseDocuments", "summary": "A case's sealed documents (metadata)",
                "responses": with(errors(&[("403", "The role may not read personal data"), ("404", "No such case in your organization")]), "200", json_response("Documents", "FileList"))
            },
            "post": {
                "operationId": "uploadCaseDocument",
                "summary": "Attach a document to a case, sealed with your organization's key (the body is the file; its type is read from its bytes)",
                "parameters": [{"name": "filename", "in": "query", "required": false, "description": "Paths are stripped; long names are shortened", "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": with(errors(&[
                    ("403", "The role may not edit cases"), ("404", "No such case in your organization"),
                    ("413", "Over 10 MiB"), ("422", "Not an accepted file type, or empty"), ("410", "The case's personal data was erased")
                ]), "201", json_response("Attached", "File"))
            }
        },
        "/api/v1/case-documents/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "downloadCaseDocument", "summary": "A case document, opened; the read is recorded in the audit history",
                "responses": with(errors(&[("403", "The role may not read personal data"), ("404", "No such document in your organization"), ("410", "The case's personal data was erased")]), "200", file_download())
            }
        },
        "/api/v1/statements": {
            "get": {
                "operationId": "listStatements", "summary": "Official statements with their claims, newest published first, a page at a time; q searches by stem, ignoring accents and case",
                "parameters": with_page(vec![json!({"name": "q", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 200}})]),
                "responses": with(errors(&[("422", "The query is invalid")]), "200", json_response("Statements", "StatementList"))
            },
            "post": {
                "operationId": "createStatement", "summary": "Record an official statement",
                "requestBody": body("StatementInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not record statements"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "201", json_response("Recorded", "Statement"))
            }
        },
        "/api/v1/visits": {
            "get": {
                "operationId": "listVisits", "summary": "Your organization's monitoring visits with indicators and flags, newest first, a page at a time",
                "parameters": with_page(vec![json!({"name": "facility_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}})]),
                "responses": with(errors(&[("422", "A filter is invalid")]), "200", json_response("Visits", "VisitList"))
            },
            "post": {
                "operationId": "recordVisit",
                "summary": "Record a visit; the same Idempotency-Key again returns the stored visit (200) or, with a different report, 409",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,100}$"}}],
                "requestBody": body("VisitInput"),
                "responses": with({
                    let mut e = errors(&[("400", "Malformed JSON"), ("403", "The role may not record visits"), ("409", "A different report was sent under this key"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]);
                    e.insert("200".into(), json_response("Already recorded under this key", "Visit"));
                    e
                }, "201", json_response("Recorded", "Visit"))
            }
        },
        "/api/v1/visits/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getVisit", "summary": "A visit with its indicators and flags (interview notes stay sealed)",
                "responses": with(errors(&[("404", "No such visit in your organization")]), "200", json_response("The visit", "Visit"))
            }
        },
        "/api/v1/visits/{id}/files": {
            "parameters": [id_param()],
            "post": {
                "operationId": "uploadVisitFile", "summary": "Attach a photo, PDF or audio file to a visit (the body is the file; its type is read from its bytes)",
                "parameters": [{"name": "filename", "in": "query", "required": false, "description": "Paths are stripped; long names are shortened", "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": with(errors(&[("403", "The role may not record visits"), ("404", "No such visit in your organization"), ("413", "Over 10 MiB"), ("422", "Not an accepted file type, or empty")]), "201", json_response("Attached", "File"))
            }
        },
        "/api/v1/visits/{id}/notes": {
            "parameters": [id_param()],
            "get": {
                "operationId": "readVisitNotes", "summary": "Open the sealed interview notes (coordinators and lawyers; the read is recorded)",
                "responses": with(errors(&[("403", "The role may not read interview notes"), ("404", "No such visit in your organization")]), "200", json_response("Notes", "VisitNotes"))
            }
        },
        "/api/v1/statements/{id}/files": {
            "parameters": [id_param()],
            "get": {
                "operationId": "listStatementFiles", "summary": "Evidence of a statement (screenshots, letters): a public record",
                "responses": with(errors(&[("404", "No such statement")]), "200", json_response("Files", "FileList"))
            },
            "post": {
                "operationId": "uploadStatementFile", "summary": "Attach a screenshot or PDF to a statement (the body is the file; its type is read from its bytes)",
                "parameters": [{"name": "filename", "in": "query", "required": false, "description": "Paths are stripped; long names are shortened", "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": with(errors(&[("403", "The role may not record statements"), ("404", "No such statement"), ("413", "Over 10 MiB"), ("422", "Not an accepted file type, or empty")]), "201", json_response("Attached", "File"))
            }
        },
        "/api/v1/statements/import": {
            "post": {
                "operationId": "importStatements",
                "summary": "Import statements: CSV (one statement and at most one claim per row) or a JSON array with claims; all or none",
                "requestBody": {"required": true, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                }},
                "responses": with(errors(&[("403", "The role may not record statements"), ("413", "Over 20 MiB"), ("415", "Neither CSV nor JSON"), ("422", "Rows are invalid: nothing was imported")]), "201", json_response("Imported", "ImportResult"))
            }
        },
        "/api/v1/statements/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getStatement", "summary": "One statement with its claims",
                "responses": with(errors(&[("404", "No such statement")]), "200", json_response("The statement", "Statement"))
            },
            "put": {
                "operationId": "updateStatement", "summary": "Correct a statement: a new version (claims stay)",
                "parameters": [{"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,18}\"?$"}}],
                "requestBody": body("StatementInput"),
                "responses": with(versioned(errors(&[("400", "Malformed JSON or If-Match"), ("403", "The role may not record statements"), ("404", "No such statement"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")])), "200", json_response("The new version", "Statement"))
            }
        },
        "/api/v1/statements/{id}/claims": {
            "parameters": [id_param()],
            "post": {
                "operationId": "addClaim", "summary": "Add a claim to a statement",
                "requestBody": body("ClaimInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not record statements"), ("404", "No such statement"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "201", json_response("The statement with its claims", "Statement"))
            }
        },
        "/api/v1/contradictions": {
            "get": {
                "operationId": "listContradictions", "summary": "Conflicts, reversals and words against practice, with the rule, the evidence and each organization's review; by key, a page at a time",
                "parameters": [
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}, "description": "Rows on this page (default 500)"},
                    {"name": "after", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 100, "pattern": "^[a-z0-9_:]+$"}, "description": "The `next` of the previous page: the key of its last contradiction"}
                ],
                "responses": with(errors(&[("422", "A page parameter is invalid")]), "200", json_response("Detections, with how many there are and the next page's key", "DetectionList"))
            }
        },
        "/api/v1/contradictions/review": {
            "post": {
                "operationId": "reviewContradiction", "summary": "Confirm or dismiss a detection, with a reason (audited)",
                "requestBody": body("ReviewInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not review"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid or no such detection")]), "200", json_response("The review", "Review"))
            }
        },
        "/api/v1/today": {
            "get": {
                "operationId": "today", "summary": "Deadlines overdue and due soon, people held past the limit, children detained",
                "parameters": [scope(vec!["mine", "org"]), {"name": "days", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 60, "default": 5}}],
                "responses": with(errors(&[("403", "The role may not see cases"), ("422", "A parameter is invalid")]), "200", json_response("Today", "Today"))
            }
        },
        "/api/v1/publications": {
            "get": {
                "operationId": "listPublications", "summary": "The organization's proposed, approved and rejected publications, newest first",
                "responses": with(errors(&[("403", "The role may not publish")]), "200", json!({"description": "The publications", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Publication"}}}}}}}))
            },
            "post": {
                "operationId": "proposePublication", "summary": "Freeze a whole year's public aggregates as a proposal for another person to decide (four eyes)",
                "description": "Only finished years (year_not_finished otherwise). Counts of people from 1 to 10, and those that would let them be worked out, are hidden (null) in the frozen content.",
                "requestBody": body("PublicationInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not publish"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "201", json_response("The proposal", "Publication"))
            }
        },
        "/api/v1/publications/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getPublication", "summary": "One publication with its frozen content",
                "responses": with(errors(&[("403", "The role may not publish"), ("404", "No such publication in the organization")]), "200", json_response("The publication", "Publication"))
            }
        },
        "/api/v1/publications/{id}/decision": {
            "parameters": [id_param()],
            "post": {
                "operationId": "decidePublication", "summary": "Approve or reject another person's proposal",
                "description": "409 when the one deciding proposed it (four eyes), when it is decided already, or when its year already has an approved publication (a second set of the same year could be subtracted from the first).",
                "requestBody": body("PublicationDecision"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not publish"), ("404", "No such publication in the organization"), ("409", "Four eyes, decided already, or the year is published"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "200", json_response("The decided publication", "Publication"))
            }
        },
        "/api/v1/statistics/imports": {"post": {
            "operationId": "importStatistics",
            "summary": "Import a table of the UPM bulletin (XLS, XLSX or CSV; the body is the file) as new dataset versions",
            "description": "Every table in the file becomes a version with this provenance, or nothing is stored and every cell that could not be placed is listed with its sheet, row (1-based) and column letter. Figures are events, not people. The same file imported again is a conflict.",
            "parameters": [
                {"name": "file_name", "in": "query", "required": false, "schema": {"type": "string"}},
                {"name": "publisher", "in": "query", "required": true, "schema": {"type": "string", "pattern": "\\S"}},
                {"name": "source_url", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^\\s*(https?://\\S+)?\\s*$"}},
                {"name": "retrieved_on", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$"}},
                {"name": "published_on", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^\\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\\s*$"}}
            ],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": with(errors(&[
                ("403", "The role may not import statistics"), ("409", "This file was imported already"),
                ("413", "Body too large"), ("422", "Provenance invalid, or cells that could not be placed")
            ]), "201", json_response("The versions stored", "StatImportResult"))
        }},
        "/api/v1/statistics/versions": {"get": {
            "operationId": "listStatVersions", "summary": "Every imported version, newest first; latest marks what series use",
            "responses": with(errors(&[]), "200", json_response("Versions", "StatVersionList"))
        }},
        "/api/v1/statistics/versions/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getStatVersion", "summary": "One version: provenance, rows, and its revisions against the version before it",
                "responses": with(errors(&[("404", "No such version")]), "200", json_response("The version", "StatVersion"))
            }
        },
        "/api/v1/statistics/series": {"get": {
            "operationId": "statSeries", "summary": "A monthly series from the latest versions, with its spikes and breaks",
            "parameters": [
                {"name": "table", "in": "query", "required": false, "description": "The bulletin's table number; absent: the table of this measure and breakdown imported for the most years", "schema": {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){1,3}$"}},
                {"name": "measure", "in": "query", "required": false, "schema": {"type": "string", "enum": ["presented", "channelled", "returned"], "default": "returned"}},
                {"name": "dimension", "in": "query", "required": false, "schema": {"type": "string", "enum": ["nationality", "state", "age", "sex", "minors"], "default": "nationality"}},
                {"name": "key", "in": "query", "required": false, "description": "ISO 3166-1 alpha-3 (HND), state:07, region:america-central, total…", "schema": {"type": "string", "pattern": "^[A-Za-z0-9:+_-]{1,40}$", "default": "total"}}
            ],
            "responses": with(errors(&[("422", "A parameter is invalid")]), "200", json_response("The series", "StatSeries"))
        }},
        "/api/v1/statistics/timeline": {"get": {
            "operationId": "statTimeline", "summary": "Returns and presentations of one nationality next to the access refusals, suspected suspensions and statements your organization can see, month by month",
            "parameters": [
                {"name": "key", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[A-Za-z0-9:+_-]{1,40}$", "default": "total"}},
                {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
                {"name": "until", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}
            ],
            "responses": with(errors(&[("422", "A parameter is invalid")]), "200", json_response("Months", "StatTimeline"))
        }},
        "/api/v1/recommendations/imports": {"post": {
            "operationId": "importRecommendations",
            "summary": "Import the OHCHR Universal Human Rights Index export (XLSX; the body is the file): recommendations are created or updated by their annotation id",
            "description": "Every row is read or nothing is stored and every cell that could not be read is listed with its sheet, row and column. The paragraph is read from the start of the text.",
            "parameters": [{"name": "language", "in": "query", "required": false, "schema": {"type": "string", "enum": ["en", "es", "fr"], "default": "en"}}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": with(errors(&[
                ("403", "The role may not import official sources"), ("413", "Body too large"), ("422", "Cells that could not be read")
            ]), "200", json_response("What the import did", "RecImport"))
        }},
        "/api/v1/recommendations": {"get": {
            "operationId": "listRecommendations", "summary": "Every recommendation, newest document first, with your organization's current assessment",
            "parameters": [{"name": "theme", "in": "query", "required": false, "schema": {"type": "string"}}],
            "responses": with(errors(&[("422", "A parameter is invalid")]), "200", json_response("Recommendations", "RecommendationList"))
        }},
        "/api/v1/recommendations/follow-up": {"get": {
            "operationId": "recommendationFollowUp", "summary": "Your organization's assessments and links since a date (by default the last review of Mexico by a treaty body)",
            "parameters": [{"name": "since", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}],
            "responses": with(errors(&[("422", "A parameter is invalid")]), "200", json_response("Follow-up", "RecFollowUp"))
        }},
        "/api/v1/recommendations/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getRecommendation", "summary": "One recommendation with your organization's links, assessments and suggested evidence",
                "responses": with(errors(&[("404", "No such recommendation")]), "200", json_response("The recommendation", "Recommendation"))
            }
        },
        "/api/v1/recommendations/{id}/links": {
            "parameters": [id_param()],
            "post": {
                "operationId": "linkRecommendationEvidence", "summary": "Link a piece of your organization's evidence (an attempt it can see, its visit, a statement, a count of its cases)",
                "requestBody": body("RecLinkInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not track recommendations"), ("404", "No such recommendation"), ("409", "Already linked"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid, or the record is not one you can see")]), "201", json_response("The link", "RecLink"))
            }
        },
        "/api/v1/recommendations/{id}/assessments": {
            "parameters": [id_param()],
            "post": {
                "operationId": "assessRecommendation", "summary": "Record your organization's assessment of its implementation, resting on its links",
                "requestBody": body("AssessmentInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not track recommendations"), ("404", "No such recommendation"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "201", json_response("The assessment", "Assessment"))
            }
        },
        "/api/v1/cases/{id}/consents": {
            "parameters": [id_param()],
            "get": {
                "operationId": "listConsents", "summary": "A case's consent records, the decision standing for each purpose (and partner), and its shares",
                "responses": with(errors(&[("403", "The role may not read cases"), ("404", "No such case in your organization")]), "200", json_response("Consents", "ConsentList"))
            },
            "post": {
                "operationId": "recordConsent", "summary": "Record that the person gave or withdrew consent for one purpose (a partner for sharing)",
                "requestBody": body("ConsentInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not edit cases"), ("404", "No such case in your organization"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid, or the partner or document is not one you can name")]), "201", json_response("The record", "ConsentRecord"))
            }
        },
        "/api/v1/cases/{id}/arco-export": {
            "parameters": [id_param()],
            "get": {
                "operationId": "arcoExport", "summary": "Everything held about the case's person, as one JSON file for them (ARCO access): their data, events with notes, documents (base64), consents, shares; recorded in the case's history",
                "responses": with(errors(&[("403", "The role may not read sealed data, or the read was not deliberate"), ("404", "No such case in your organization"), ("410", "The case's personal data was erased")]), "200", json_response("The person's file", "ArcoExport"))
            }
        },
        "/api/v1/cases/{id}/shares": {
            "parameters": [id_param()],
            "post": {
                "operationId": "shareCase", "summary": "Share the case's sealed data with a partner organization: refused (422 consent_required) unless the person's consent to share with it stands",
                "requestBody": body("ShareInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not edit cases"), ("404", "No such case in your organization"), ("409", "Already shared with that partner"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "No consent, or a field is invalid"), ("410", "The case's personal data was erased")]), "201", json_response("The share", "CaseShare"))
            }
        },
        "/api/v1/case-shares/{id}/end": {
            "parameters": [id_param()],
            "post": {
                "operationId": "endCaseShare", "summary": "Stop sharing a case with a partner",
                "responses": with(errors(&[("403", "The role may not edit cases"), ("404", "No open share of your organization")]), "200", json_response("The share, ended", "CaseShare"))
            }
        },
        "/api/v1/shared-cases": {"get": {
            "operationId": "listSharedCases", "summary": "Cases other organizations shared with yours whose consent still stands",
            "responses": with(errors(&[("403", "The role may not read sealed data")]), "200", json_response("Shares", "ShareList"))
        }},
        "/api/v1/shared-cases/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getSharedCase", "summary": "A case shared with your organization, with the person's data (the read is recorded in the owner's history); 404 once the consent is withdrawn",
                "responses": with(errors(&[("403", "The role may not read sealed data"), ("404", "No such share open to your organization")]), "200", json_response("The shared case", "SharedCase"))
            }
        },
        "/api/v1/retention": {"get": {
            "operationId": "listRetention", "summary": "Your organization's retention rule and every case with where it stands under it today (open, kept until, due, held by a recorded appeal or amparo, erased)",
            "responses": with(errors(&[("403", "The role may not manage retention")]), "200", json_response("The rule and the cases", "RetentionList"))
        }},
        "/api/v1/retention/due": {"get": {
            "operationId": "listRetentionDue", "summary": "The cases whose personal data is due for erasure today, for a coordinator to confirm (nothing is erased on its own)",
            "responses": with(errors(&[("403", "The role may not manage retention")]), "200", json_response("Due cases", "RetentionDue"))
        }},
        "/api/v1/retention/rule": {"put": {
            "operationId": "setRetentionRule", "summary": "Set your organization's rule: personal data erased this many months after a case is closed, held while an appeal or amparo is recorded unless said otherwise",
            "requestBody": body("RetentionRuleInput"),
            "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not manage retention"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "200", json_response("The rule", "RetentionRule"))
        }},
        "/api/v1/cases/{id}/erasure": {
            "parameters": [id_param()],
            "post": {
                "operationId": "eraseCaseData", "summary": "Erase the case's personal data (its own key destroyed: what the history, the write-ahead log or a later backup kept no longer opens). Refused while the case is open, before the rule makes it due (reason retention), or while an appeal or amparo is recorded unless litigation_ended. Cannot be undone",
                "requestBody": body("ErasureInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not erase personal data"), ("404", "No such case in your organization"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "Refused: the field says why (case_open, not_due, no_rule, litigation_open, already_erased)")]), "201", json_response("The erasure", "Erasure"))
            }
        },
        "/api/v1/requests": {
            "get": {
                "operationId": "listRequests", "summary": "Your organization's access-to-information requests, newest filing first, each with its events, links, deadlines today and stage",
                "responses": with(errors(&[("403", "The role may not track requests"), ("422", "A parameter is invalid")]), "200", json_response("Requests", "RequestList"))
            },
            "post": {
                "operationId": "createRequest", "summary": "Record a request: counted under the general law in force on its filing date unless a state regime is named",
                "requestBody": body("RequestInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not track requests"), ("409", "A request with that authority and folio exists"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")]), "201", json_response("The request, judged today", "Request"))
            }
        },
        "/api/v1/requests/imports": {"post": {
            "operationId": "importRequests", "summary": "Import a requests log (CSV; the body is the file): every row or none, problems by line and column",
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
            "responses": with(errors(&[("403", "The role may not track requests"), ("409", "A request with that authority and folio exists"), ("413", "Body too large"), ("422", "Rows are invalid: nothing was imported")]), "200", json_response("How many were imported", "RequestImport"))
        }},
        "/api/v1/requests/today": {"get": {
            "operationId": "requestsToday", "summary": "What to act on: answers and resolutions overdue, appeal windows open, deadlines due within five working days",
            "responses": with(errors(&[("403", "The role may not track requests"), ("422", "A parameter is invalid")]), "200", json_response("Today", "RequestsToday"))
        }},
        "/api/v1/requests/analysis": {"get": {
            "operationId": "requestsAnalysis", "summary": "Response times and answer types by authority and year (shares of inexistent and classified answers)",
            "responses": with(errors(&[("403", "The role may not track requests"), ("422", "A parameter is invalid")]), "200", json_response("By authority and year", "RequestAnalysis"))
        }},
        "/api/v1/requests/regimes": {"get": {
            "operationId": "requestRegimes", "summary": "The laws requests are counted under, with each deadline's days, article and quoted words, and what could not be verified",
            "responses": with(errors(&[("403", "The role may not track requests"), ("422", "A parameter is invalid")]), "200", json_response("Regimes", "RegimeList"))
        }},
        "/api/v1/requests/{id}": {
            "parameters": [id_param()],
            "get": {
                "operationId": "getRequest", "summary": "One request with its events, links, files, deadlines today (article and calendar) and stage",
                "responses": with(errors(&[("403", "The role may not track requests"), ("404", "No such request in your organization")]), "200", json_response("The request", "Request"))
            }
        },
        "/api/v1/requests/{id}/events": {
            "parameters": [id_param()],
            "post": {
                "operationId": "addRequestEvent", "summary": "Record what happened: an extension, the answer (with its type), the appeal filed, admitted, extended, resolved (with its outcome), compliance",
                "requestBody": body("RequestEventInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not track requests"), ("404", "No such request in your organization"), ("409", "That step is already recorded"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid, or the step does not follow what was recorded")]), "201", json_response("The event", "RequestEvent"))
            }
        },
        "/api/v1/requests/{id}/links": {
            "parameters": [id_param()],
            "post": {
                "operationId": "linkRequest", "summary": "Relate a request to what it concerns: a suspension's period, a statement, a UN recommendation, an access attempt you can see",
                "requestBody": body("RequestLinkInput"),
                "responses": with(errors(&[("400", "Malformed JSON"), ("403", "The role may not track requests"), ("404", "No such request in your organization"), ("409", "Already related"), ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid, or the record is not one you can see")]), "201", json_response("The link", "RequestLink"))
            }
        },
        "/api/v1/requests/{id}/files": {
            "parameters": [id_param()],
            "post": {
                "operationId": "uploadRequestFile", "summary": "Attach the answer or an oficio (PDF or image; the body is the file; its type is read from its bytes)",
                "parameters": [{"name": "filename", "in": "query", "required": false, "description": "Paths are stripped; long names are shortened", "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": with(errors(&[("403", "The role may not track requests"), ("404", "No such request in your organization"), ("413", "Over 10 MiB"), ("422", "Not an accepted file type, or empty")]), "201", json_response("Attached", "File"))
            }
        },
        "/api/v1/reports/period": {
            "get": {
                "operationId": "periodReport", "summary": "A period report (or, with facility_id, a centre's dossier) as JSON, PDF or standalone HTML",
                "description": "Access (attempts, refusals by centre and month, suspected suspensions), what authorities said and their contradictions (quoted), conditions found on the organization's own visits with their legal basis, and people per measure in cases (never names). content_sha256 is the SHA-256 of the report object's JSON, printed on every page of the PDF; it is the same in both languages. The org scope covers any period (from, until); the coalition scope one whole calendar year (year) and refuses from and until, and hides other organizations' counts 1-10 and their complements (null in cases).",
                "parameters": [
                    scope(vec!["org", "coalition"]),
                    {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "Org scope only"},
                    {"name": "until", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "Org scope only"},
                    {"name": "year", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 2000}, "description": "Coalition scope only"},
                    {"name": "facility_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}, "description": "A centre's dossier"},
                    {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["es", "en"]}, "description": "The document's language (default: the request's)"},
                    {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "pdf", "html"], "default": "json"}}
                ],
                "responses": with(errors(&[("403", "The role may not make reports"), ("422", "A parameter is invalid, or no such facility")]), "200", json!({
                    "description": "The report",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/PeriodReport"}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                        "text/html": {"schema": {"type": "string"}}
                    }
                }))
            }
        },
        "/api/v1/case-report": {
            "get": {
                "operationId": "caseReport", "summary": "People per measure by facility and by month; coalition scope suppresses counts 1-10 and their complements (null)",
                "description": "The org scope covers any period (from, until). The coalition scope covers one whole calendar year (year; default the current one) and refuses from and until: two overlapping periods could be subtracted. What it hides is decided on the other organizations' share of each cell, in both tables together (docs/disclosure.md).",
                "parameters": [
                    scope(vec!["org", "coalition"]),
                    {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "Org scope only"},
                    {"name": "until", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "Org scope only"},
                    {"name": "year", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 2000}, "description": "Coalition scope only"},
                    {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "csv"]}}
                ],
                "responses": with(errors(&[("403", "The role may not see cases"), ("422", "A parameter is invalid")]), "200", json!({
                    "description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseReport"}}, "text/csv": {"schema": {"type": "string"}}}
                }))
            }
        }
    });
    let deadline = json!({"type": "object", "required": ["rule", "start", "status"], "properties": {
        "rule": {"type": "string"}, "calendar": {"type": ["string", "null"]}, "basis": {"type": "string"},
        "from_event": {"type": "integer"}, "start": {"type": "string", "format": "date"}, "allowed": {"type": "integer"},
        "due": {"type": ["string", "null"]}, "due_time": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["pending", "overdue", "met", "missed", "open", "any_time"],
            "description": "open: running with no fixed end (LM art. 111 ground V); any_time: no time limit at all (an amparo against a deportation, Ley de Amparo art. 17 fr. IV)"},
        "closed_by": {"type": ["integer", "null"]}, "closed_on": {"type": ["string", "null"]},
        "working_days_left": {"type": ["integer", "null"]}
    }});
    let table = json!({"type": "object", "properties": {
        "rows": {"type": "array", "items": {"type": "object", "properties": {"label": {"type": "string"}, "counts": {"type": "object"}, "total": {"type": ["integer", "null"]}}}},
        "totals": {"type": "object"}, "total": {"type": ["integer", "null"]}
    }});
    let item = json!({"type": "object", "properties": {"case_id": {"type": "integer"}, "case": {"type": "string"}, "rule": {"type": "string"}, "due": {"type": "string"}, "status": {"type": "string"}, "working_days_left": {"type": ["integer", "null"]}}});
    let person = json!({"type": "object", "properties": {"case_id": {"type": "integer"}, "case": {"type": "string"}, "since": {"type": "string"}}});
    let case_props = json!({
        "id": {"type": "integer"}, "version": {"type": "integer"}, "pseudonym": {"type": "string"},
        "reference": {"type": "string", "description": "Only for roles that may read personal data"},
        "facility_id": {"type": ["integer", "null"]}, "lawyer_user_id": {"type": ["integer", "null"]},
        "nationality": {"type": ["string", "null"]}, "sex": {"type": "string"}, "age_group": {"type": "string"},
        "minor": {"type": "boolean"}, "languages": {"type": "array", "items": {"type": "string"}},
        "vulnerabilities": {"type": "array", "items": {"type": "string"}}, "status": {"type": "string"},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}
    });
    let mut detail_props = case_props.clone();
    if let Some(m) = detail_props.as_object_mut() {
        m.insert("events".into(), json!({"type": "array", "items": {"$ref": "#/components/schemas/CaseEvent"}}));
        m.insert("today".into(), json!({"type": "string", "format": "date"}));
        m.insert("assessment".into(), json!({"type": "object", "properties": {
            "in_detention": {"type": "boolean"}, "detained_since": {"type": ["string", "null"]}, "held_past_limit": {"type": "boolean"},
            "deadlines": {"type": "array", "items": deadline},
            "violations": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["child_detained", "held_past_limit", "held_past_36_hours", "possible_refoulement"]},
                "since": {"type": "string"}, "event": {"type": "integer"}, "ongoing": {"type": "boolean"}, "basis": {"type": "string"},
                "claim": {"type": ["string", "null"], "enum": ["pending", "appeal_window", "appeal_pending", "recognized", "complementary_protection", null],
                    "description": "possible_refoulement only: where the asylum claim stood on the day of the return (LRPCAP art. 6)"},
                "pressure_to_abandon": {"type": "array", "items": {"type": "integer"},
                    "description": "possible_refoulement only: ids of the case's pressure-to-abandon events, shown beside it"}
            }}}
        }}));
    }
    let schemas = json!({
        "VisitInput": {
            "type": "object", "additionalProperties": false, "required": ["facility_id", "on"],
            "properties": {
                "facility_id": {"type": "integer", "minimum": 1},
                "on": {"type": "string", "format": "date", "description": "Not after tomorrow"},
                "time_in": {"type": ["string", "null"], "pattern": "^$|^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"},
                "time_out": {"type": ["string", "null"], "pattern": "^$|^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"},
                "team_size": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
                "areas_seen": text(2000), "areas_refused": text(2000), "interview_notes": text(50000),
                "corrects": {"type": ["integer", "null"], "minimum": 1, "description": "The id of an earlier visit of the same organization that this report corrects; both are kept"},
                "sections": {"type": ["object", "null"], "description": format!("By section ({}): question codes answered yes, partly, no or not_seen, and observations", vigia_domain::visit::Section::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))},
                "population": {"type": ["object", "null"], "additionalProperties": false, "properties": {
                    "total": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000}, "women": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000},
                    "men": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000}, "children_unaccompanied": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000},
                    "children_accompanied": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000}, "asylum_seekers": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000},
                    "held_beyond_limit": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000}, "capacity_posted": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000},
                    "area_m2": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000}
                }},
                "findings": {"type": ["array", "null"], "items": {"type": "object", "required": ["section", "severity", "description"], "properties": {
                    "section": {"type": "string", "enum": codes(vigia_domain::visit::Section::ALL.iter().map(|s| s.as_str()).collect())},
                    "severity": {"type": "integer", "minimum": 1, "maximum": 4},
                    "description": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": "\\S"}
                }}}
            },
            "description": "Parts of the population are not above its total; the total is not above ten times the facility's capacity."
        },
        "Visit": {"type": "object", "required": ["id", "report", "indicators", "flags"], "properties": {
            "id": {"type": "integer"}, "key": {"type": "string"}, "report": {"type": "object"}, "has_interview_notes": {"type": "boolean"},
            "created_at": {"type": "string"}, "indicators": {"type": "object"}, "flags": {"type": "array", "items": {"type": "object"}}
        }},
        "VisitList": paged("Visit"),
        "VisitNotes": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "interview_notes": {"type": ["string", "null"]}}},
        "StatementInput": {
            "type": "object", "additionalProperties": false, "required": ["authority", "published_at", "channel", "text"],
            "properties": {
                "authority": {"type": "string", "pattern": "^[A-Za-z0-9_]{2,40}$", "description": format!("A code: {} or another", vigia_domain::statement::KNOWN_AUTHORITIES.join(", "))},
                "speaker": text(200), "speaker_position": text(200),
                "published_at": {"type": "string", "minLength": 1, "pattern": "\\S", "description": "Civil time in Mexico City (2020-01-20T09:00) or an RFC 3339 instant; not in the future"},
                "channel": {"type": "string", "enum": codes(vigia_domain::statement::Channel::ALL.iter().map(|c| c.as_str()).collect())},
                "source_url": {"type": ["string", "null"], "maxLength": 2000, "pattern": "^$|^https?://[^\\s]+$"},
                "language": {"type": ["string", "null"], "enum": ["es", "en", "ES", "EN", null]},
                "text": {"type": "string", "minLength": 1, "maxLength": 20000, "pattern": "\\S"},
                "translation": text(20000)
            }
        },
        "ClaimInput": {
            "type": "object", "additionalProperties": false, "required": ["topic", "position", "from"],
            "properties": {
                "topic": {"type": "string", "pattern": "^[A-Za-z0-9_]{2,40}$", "description": format!("A code: {} or another", vigia_domain::statement::KNOWN_TOPICS.join(", "))},
                "scope": {"type": ["string", "null"], "enum": ["all", "facilities", "state", null]},
                "facility_ids": {"anyOf": [{"type": "string", "maxLength": 2000}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}], "description": "Comma-separated facility ids, for scope facilities"},
                "state_code": {"type": ["string", "null"], "maxLength": 2},
                "position": {"type": "string", "enum": codes(vigia_domain::statement::Position::ALL.iter().map(|p| p.as_str()).collect())},
                "from": {"type": "string", "format": "date"},
                "until": {"type": ["string", "null"], "format": "date"}
            },
            "description": "Access positions (suspended, restricted, permitted, rescheduled, denies_suspension) only for ngo_access; affirms/denies for other topics."
        },
        "ReviewInput": {
            "type": "object", "additionalProperties": false, "required": ["key", "status", "reason"],
            "properties": {
                "key": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                "status": {"type": "string", "enum": ["confirmed", "dismissed"]},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "\\S"}
            }
        },
        "Statement": {"type": "object", "required": ["id", "authority", "published_at", "channel", "text", "claims"], "properties": {
            "id": {"type": "integer"}, "version": {"type": "integer"}, "authority": {"type": "string"}, "speaker": {"type": ["string", "null"]},
            "speaker_position": {"type": ["string", "null"]}, "published_at": {"type": "string"}, "published_local": {"type": "string"},
            "channel": {"type": "string"}, "source_url": {"type": ["string", "null"]}, "language": {"type": "string"},
            "text": {"type": "string"}, "translation": {"type": ["string", "null"]}, "recorded_by_organization": {"type": "integer"},
            "claims": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "topic": {"type": "string"}, "scope": {"type": "object"}, "position": {"type": "string"},
                "from": {"type": "string"}, "until": {"type": ["string", "null"]}, "confirmed": {"type": "boolean"}
            }}}
        }},
        "StatementList": paged("Statement"),
        "Detection": {"type": "object", "required": ["key", "rule"], "properties": {
            "key": {"type": "string"}, "rule": {"type": "string", "enum": ["conflict", "reversal", "words_against_practice"]},
            "claims": {"type": "array", "items": {"type": "integer"}}, "statements": {"type": "array", "items": {"type": "integer"}},
            "attempts": {"type": "array", "items": {"type": "integer"}, "description": "Words against practice: the first 20 refused attempts cited, earliest first"},
            "refusals": {"type": "integer", "description": "Words against practice: every refused attempt you may see in the claim's scope and period"},
            "refusal_days": {"type": "integer", "description": "On how many facility-days those refusals fell"},
            "organizations": {"type": "integer"},
            "gap_seconds": {"type": ["integer", "null"]}, "gap": {"type": ["string", "null"]},
            "review": {"type": ["object", "null"], "description": "The viewer's organization's review, with its reason"},
            "other_reviews": {"type": "array", "description": "Other organizations' reviews: who, the verdict and when (their reasons stay theirs)", "items": {
                "type": "object", "required": ["organization", "status", "at"],
                "properties": {"organization": {"type": "string"}, "status": {"type": "string", "enum": ["confirmed", "dismissed"]}, "at": {"type": "string"}}
            }}
        }},
        "DetectionList": paged("Detection"),
        "ApiToken": {"type": "object", "required": ["id", "name", "state", "created_at"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "state": {"type": "string", "enum": ["live", "expired", "revoked"]},
            "created_at": {"type": "string"}, "expires_at": {"type": ["string", "null"]},
            "last_used_at": {"type": ["string", "null"]}, "revoked_at": {"type": ["string", "null"]}
        }},
        "ApiTokenList": list("ApiToken"),
        "Review": {"type": "object", "required": ["key", "status", "reason"], "properties": {
            "key": {"type": "string"}, "status": {"type": "string"}, "reason": {"type": "string"}, "at": {"type": "string"}
        }},
        "CaseInput": {
            "type": "object", "additionalProperties": false, "required": ["reference", "full_name"],
            "properties": {
                "reference": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "\\S"},
                "full_name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S", "description": "Sealed"},
                "birth_date": {"type": ["string", "null"], "format": "date", "description": "Sealed; not in the future"},
                "identity_documents": text(1000), "contact": text(1000), "family_links": text(2000),
                "nationality": {"type": ["string", "null"], "enum": nationalities, "description": "ISO 3166-1 alpha-2 (either case); empty means unknown"},
                "sex": nullable_enum(Sex::ALL.iter().map(|v| v.as_str()).collect()),
                "age_group": nullable_enum(AgeGroup::ALL.iter().map(|v| v.as_str()).collect()),
                "minor": {"type": ["boolean", "null"], "description": "Implied by a child or adolescent age group; contradicts an adult one"},
                "languages": {"anyOf": [
                    {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"}},
                    {"type": ["string", "null"], "maxLength": 400, "pattern": "^[A-Za-z0-9-]{1,20}( *, *[A-Za-z0-9-]{1,20})*$|^$", "description": "Comma-separated"}
                ]},
                "vulnerabilities": {"anyOf": [
                    {"type": "array", "items": {"type": "string", "enum": codes(Vulnerability::ALL.iter().map(|v| v.as_str()).collect())}},
                    {"type": ["string", "null"], "maxLength": 400, "description": format!("Comma-separated: {}", Vulnerability::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "))}
                ]},
                "facility_id": {"type": ["integer", "null"], "minimum": 1},
                "lawyer_user_id": {"type": ["integer", "null"], "minimum": 1, "description": "A member of your organization"},
                "status": nullable_enum(CaseStatus::ALL.iter().map(|v| v.as_str()).collect())
            }
        },
        "Case": {"type": "object", "required": ["id", "version", "pseudonym", "sex", "age_group", "minor", "status"], "properties": case_props},
        "CaseList": paged("Case"),
        "CaseDetail": {"type": "object", "required": ["id", "events", "assessment"], "properties": detail_props},
        "CaseEventInput": {
            "type": "object", "additionalProperties": false, "required": ["kind", "on"],
            "properties": {
                "kind": {"type": "string", "enum": codes(EventKind::ALL.iter().map(|v| v.as_str()).collect())},
                "on": {"type": "string", "format": "date", "description": "Not after tomorrow, not before 1990"},
                "time": {"type": ["string", "null"], "pattern": "^$|^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"},
                "facility_id": {"type": ["integer", "null"], "minimum": 1},
                "ground": nullable_enum(ExtensionGround::ALL.iter().map(|v| v.as_str()).collect()),
                "decision": nullable_enum(DecisionOutcome::ALL.iter().map(|v| v.as_str()).collect()),
                "note": text(5000)
            },
            "description": "ground only (and required) for detention_extended; decision only (and required) for decision."
        },
        "CaseEvent": {"type": "object", "required": ["id", "kind", "on", "voided"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "on": {"type": "string"}, "time": {"type": ["string", "null"]},
            "facility_id": {"type": ["integer", "null"]}, "ground": {"type": ["string", "null"]}, "decision": {"type": ["string", "null"]},
            "has_note": {"type": "boolean"}, "note": {"type": ["string", "null"]}, "voided": {"type": "boolean"},
            "voided_at": {"type": ["string", "null"]}, "void_reason": {"type": ["string", "null"]}, "created_at": {"type": "string"}
        }},
        "VoidInput": {"type": "object", "additionalProperties": false, "required": ["event_id", "reason"], "properties": {
            "event_id": {"type": "integer", "minimum": 1}, "reason": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}
        }},
        "SealedCase": {"type": "object", "required": ["id", "person"], "properties": {
            "id": {"type": "integer"}, "reference": {"type": "string"},
            "person": {"type": "object", "properties": {
                "full_name": {"type": "string"}, "birth_date": {"type": "string"}, "identity_documents": {"type": "string"},
                "contact": {"type": "string"}, "family_links": {"type": "string"}
            }},
            "event_notes": {"type": "object", "additionalProperties": {"type": "string"}},
            "contact_withheld": {"type": "boolean", "description": "The person was released and has not agreed to be contacted afterwards: their contact details are left out"}
        }},
        "Today": {"type": "object", "required": ["today", "overdue", "due_soon"], "properties": {
            "today": {"type": "string"}, "scope": {"type": "string"}, "days": {"type": "integer"},
            "overdue": {"type": "array", "items": item}, "due_soon": {"type": "array", "items": item},
            "held_past_limit": {"type": "array", "items": person}, "children_detained": {"type": "array", "items": person}
        }},
        "CaseReport": {"type": "object", "required": ["scope", "by_facility", "by_month"], "properties": {
            "scope": {"type": "string"}, "from": {"type": "string"}, "until": {"type": "string"},
            "year": {"type": ["integer", "null"]},
            "suppressed_below": {"type": ["integer", "null"]}, "measures": {"type": "array", "items": {"type": "string"}},
            "by_facility": table, "by_month": table
        }},
        "Publication": {"type": "object", "required": ["id", "year", "sections", "detail", "status", "content_sha256"], "properties": {
            "id": {"type": "integer"}, "year": {"type": "integer"},
            "sections": {"type": "array", "items": {"type": "string", "enum": ["access", "conditions", "cases", "statements"]}},
            "detail": {"type": "string", "enum": ["facility", "state"]},
            "status": {"type": "string", "enum": ["proposed", "approved", "rejected"]},
            "content_sha256": {"type": "string"}, "proposed_by": {"type": "integer"}, "proposed_at": {"type": "string"},
            "decided_by": {"type": ["integer", "null"]}, "decided_at": {"type": ["string", "null"]},
            "content": {"type": "object", "description": "The frozen aggregates (GET of one publication only)"}
        }},
        "StatVersion": {"type": "object", "required": ["id", "table", "year", "measure", "dimension", "months", "provenance", "unit"], "properties": {
            "id": {"type": "integer"}, "table": {"type": "string"}, "year": {"type": "integer"},
            "measure": {"type": "string", "enum": ["presented", "channelled", "returned"]},
            "dimension": {"type": "string", "enum": ["nationality", "state", "age", "sex", "minors"]},
            "months": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 12}},
            "provenance": {"type": "object"}, "unit": {"type": "string", "enum": ["events"]},
            "rows": {}, "revisions": {"type": "array"}, "previous_version": {"type": ["integer", "null"]}
        }},
        "StatVersionList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/StatVersion"}}}},
        "StatImportResult": {"type": "object", "required": ["versions"], "properties": {"versions": {"type": "array", "items": {"$ref": "#/components/schemas/StatVersion"}}}},
        "StatSeries": {"type": "object", "required": ["measure", "dimension", "key", "unit", "months", "signals"], "properties": {
            "measure": {"type": "string"}, "dimension": {"type": "string"}, "key": {"type": "string"}, "unit": {"type": "string", "enum": ["events"]},
            "months": {"type": "array", "items": {"type": "object", "properties": {"month": {"type": "string"}, "events": {"type": ["integer", "null"]}}}},
            "signals": {"type": "array", "items": {"type": "object"}}, "illustrative": {"type": "boolean"}
        }},
        "StatTimeline": {"type": "object", "required": ["key", "units", "months"], "properties": {
            "key": {"type": "string"}, "units": {"type": "object"}, "illustrative": {"type": "boolean"},
            "months": {"type": "array", "items": {"type": "object"}}
        }},
        "RecImport": {"type": "object", "required": ["created", "updated", "unchanged"], "properties": {
            "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"}
        }},
        "Recommendation": {"type": "object", "required": ["id", "annotation_id", "body", "symbol", "paragraph", "text", "language", "summary"], "properties": {
            "id": {"type": "integer"}, "annotation_id": {"type": "string"}, "body": {"type": "string"}, "symbol": {"type": "string"},
            "paragraph": {"type": "string"}, "published_on": {"type": ["string", "null"]}, "text": {"type": "string"},
            "language": {"type": "string"}, "summary": {"type": "boolean"}, "themes": {"type": "array", "items": {"type": "string"}},
            "links": {"type": "array"}, "assessments": {"type": "array"}, "suggestions": {"type": "array"}
        }},
        "RecommendationList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}}}},
        "RecFollowUp": {"type": "object", "required": ["since", "items"], "properties": {"since": {"type": "string"}, "items": {"type": "array"}}},
        "RecLinkInput": {"type": "object", "required": ["kind", "reference"], "additionalProperties": false, "properties": {
            "kind": {"type": "string", "description": "access_attempt, visit, statement or case_count"},
            "reference": {"type": "string", "pattern": "\\S", "description": "A record id, or for case_count the measure: children_detained, held_past_limit, possible_refoulement, pressure_to_abandon, ill_treatment, forced_return"},
            "note": {"type": ["string", "null"]}
        }},
        "RecLink": {"type": "object", "required": ["id", "kind", "reference"], "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "reference": {"type": "string"}}},
        "AssessmentInput": {"type": "object", "required": ["status", "assessed_on", "reasoning"], "additionalProperties": false, "properties": {
            "status": {"type": "string", "description": "not_implemented, partly or implemented"},
            "assessed_on": {"type": "string", "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$"},
            "reasoning": {"type": "string", "pattern": "\\S"},
            "evidence": {"description": "Ids of your organization's links to this recommendation: an array of integers (or a comma-separated text)"}
        }},
        "Assessment": {"type": "object", "required": ["id", "status", "assessed_on", "reasoning"], "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "assessed_on": {"type": "string"}, "reasoning": {"type": "string"}, "evidence": {"type": "array"}}},
        "ArcoExport": {"type": "object", "required": ["about", "case", "person", "events", "documents", "consents", "shares"], "properties": {
            "about": {"type": "object"}, "organization": {"type": "string"}, "made_at": {"type": "string"}, "case": {"type": "object"},
            "person": {"type": "object"}, "events": {"type": "array"}, "documents": {"type": "array"}, "consents": {"type": "array"}, "shares": {"type": "array"}
        }},
        "ConsentInput": {"type": "object", "required": ["purpose", "decision", "on", "how"], "additionalProperties": false, "properties": {
            "purpose": {"type": "string", "enum": ["legal_representation", "litigation", "share_partner", "anonymized_publication", "contact_after_release"]},
            "partner_org_id": {"type": ["integer", "null"], "minimum": 1, "description": "Required for share_partner, and only for it"},
            "decision": {"type": "string", "enum": ["given", "withdrawn"]},
            "on": {"type": "string", "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$", "description": "Not after today"},
            "how": {"type": "string", "enum": ["oral", "written"]},
            "evidence_document_id": {"type": ["integer", "null"], "minimum": 1, "description": "A document of this case"}
        }},
        "ConsentRecord": {"type": "object", "required": ["id", "case_id", "purpose", "decision", "on", "how"], "properties": {"id": {"type": "integer"}, "case_id": {"type": "integer"}, "purpose": {"type": "string"}, "partner_org_id": {"type": ["integer", "null"]}, "decision": {"type": "string"}, "on": {"type": "string"}, "how": {"type": "string"}}},
        "ConsentList": {"type": "object", "required": ["case_id", "standing", "records", "shares"], "properties": {"case_id": {"type": "integer"}, "standing": {"type": "array"}, "records": {"type": "array", "items": {"$ref": "#/components/schemas/ConsentRecord"}}, "shares": {"type": "array", "items": {"$ref": "#/components/schemas/CaseShare"}}}},
        "RetentionRuleInput": {"type": "object", "required": ["months_after_close"], "additionalProperties": false, "properties": {
            "months_after_close": {"type": "integer", "minimum": 1, "maximum": 1200},
            "hold_while_litigating": {"type": ["boolean", "null"], "description": "Absent or null: true"}}},
        "RetentionRule": {"type": "object", "required": ["org_id", "rule", "updated_at"], "properties": {"org_id": {"type": "integer"},
            "rule": {"type": "object", "required": ["months_after_close", "hold_while_litigating"], "properties": {"months_after_close": {"type": "integer"}, "hold_while_litigating": {"type": "boolean"}}},
            "updated_by": {"type": ["integer", "null"]}, "updated_at": {"type": "integer"}}},
        "ErasureInput": {"type": "object", "required": ["reason"], "additionalProperties": false, "properties": {
            "reason": {"type": "string", "enum": ["retention", "person_request"]},
            "litigation_ended": {"type": ["boolean", "null"], "description": "States that the appeal or amparo recorded for the case ended; recorded with the erasure. Absent or null: false"}}},
        "Erasure": {"type": "object", "required": ["case_id", "at", "reason"], "properties": {"case_id": {"type": "integer"}, "at": {"type": "integer"},
            "by_user_id": {"type": ["integer", "null"]}, "by_name": {"type": ["string", "null"]}, "reason": {"type": "string", "enum": ["retention", "person_request"]}}},
        "RetentionCase": {"type": "object", "required": ["case_id", "litigating", "standing"], "properties": {"case_id": {"type": "integer"},
            "closed_on": {"type": ["string", "null"], "format": "date"}, "litigating": {"type": "boolean"},
            "standing": {"type": "object", "required": ["state"], "properties": {"state": {"type": "string", "enum": ["erased", "open", "no_rule", "kept", "held", "due"]}, "due_on": {"type": "string", "format": "date"}}},
            "erasure": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Erasure"}]}}},
        "RetentionList": {"type": "object", "required": ["cases"], "properties": {"rule": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/RetentionRule"}]},
            "cases": {"type": "array", "items": {"$ref": "#/components/schemas/RetentionCase"}}}},
        "RetentionDue": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/RetentionCase"}}}},
        "ShareInput": {"type": "object", "required": ["partner_org_id"], "additionalProperties": false, "properties": {"partner_org_id": {"type": "integer", "minimum": 1}}},
        "CaseShare": {"type": "object", "required": ["id", "case_id", "partner_org_id", "created_at"], "properties": {"id": {"type": "integer"}, "case_id": {"type": "integer"}, "partner_org_id": {"type": "integer"}, "created_at": {"type": "integer"}, "ended_at": {"type": ["integer", "null"]}}},
        "ShareList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/CaseShare"}}}},
        "SharedCase": {"type": "object", "required": ["share", "case", "person"], "properties": {
            "share": {"type": "object", "required": ["id", "partner_org_id", "created_at"], "properties": {"id": {"type": "integer"}, "partner_org_id": {"type": "integer"}, "created_at": {"type": "integer"}}},
            "case": {"type": "object", "description": "Nationality, sex, age group, minor, status, languages: not the owner's file number, lawyer or ids"},
            "person": {"type": "object"}
        }},
        "RequestInput": {"type": "object", "required": ["authority", "folio", "filed_on", "question"], "additionalProperties": false, "properties": {
            "authority": {"type": "string", "pattern": "^\\s*[A-Za-z0-9_]{2,40}\\s*$", "description": "A code: inm, comar, segob, guardia_nacional, or another such as fiscalia_chiapas"},
            "folio": {"type": "string", "pattern": "^[^\\n\\r]*\\S[^\\n\\r]*$", "maxLength": 60},
            "filed_on": {"type": "string", "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$", "description": "Not after today"},
            "question": {"type": "string", "pattern": "\\S", "maxLength": 20000},
            "channel": {"type": ["string", "null"], "enum": ["pnt", "email", "in_person", "mail", "other", null], "description": "Absent: pnt"},
            "filed_by": {"type": ["string", "null"], "maxLength": 200},
            "regime": {"type": ["string", "null"], "description": "A state regime's name (GET /api/v1/requests/regimes); absent: the general law in force on the filing date"}
        }},
        "RequestEventInput": {"type": "object", "required": ["kind", "on"], "additionalProperties": false, "properties": {
            "kind": {"type": "string", "enum": ["extension", "answer", "appeal_filed", "appeal_admitted", "appeal_extension", "appeal_resolved", "compliance"]},
            "on": {"type": "string", "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$", "description": "Not after today nor before the filing"},
            "answer_type": {"type": ["string", "null"], "enum": ["full", "partial", "classified", "inexistent", "not_competent", "no_answer", null], "description": "Required for an answer, and only for one"},
            "outcome": {"type": ["string", "null"], "enum": ["confirms", "modifies", "revokes", "dismissed", null], "description": "Required for a resolved appeal, and only for one"},
            "note": {"type": ["string", "null"], "maxLength": 10000}
        }},
        "RequestLinkInput": {"type": "object", "required": ["kind", "reference"], "additionalProperties": false, "properties": {
            "kind": {"type": "string", "enum": ["suspension", "statement", "recommendation", "access_attempt"]},
            "reference": {"type": "string", "pattern": "^[^\\n\\r]*\\S[^\\n\\r]*$", "maxLength": 100, "description": "A record's id; for a suspension its period, 2020-01-20/2020-01-31"}
        }},
        "Request": {"type": "object", "required": ["id", "authority", "folio", "filed_on", "question", "channel", "events", "links", "deadlines", "stage"], "properties": {
            "id": {"type": "integer"}, "authority": {"type": "string"}, "folio": {"type": "string"}, "filed_on": {"type": "string"},
            "question": {"type": "string"}, "channel": {"type": "string"}, "regime_name": {"type": ["string", "null"]},
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/RequestEvent"}},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/RequestLink"}},
            "deadlines": {"type": "array", "items": {"type": "object", "required": ["kind", "status", "articles", "calendar"], "properties": {
                "kind": {"type": "string"}, "due": {"type": ["string", "null"]}, "from": {"type": ["string", "null"]}, "days": {"type": ["integer", "null"]},
                "status": {"type": "string", "enum": ["pending", "met", "late", "overdue", "expired", "not_computed"]},
                "reason": {"type": ["string", "null"], "description": "Why no day is computed: unverified, not_in_regime, awaiting_admission"},
                "articles": {"type": "array", "items": {"type": "string"}}, "calendar": {"type": "string"}
            }}},
            "stage": {"type": "string", "enum": ["awaiting_answer", "answer_overdue", "answered", "appealed", "resolved", "complied"]},
            "files": {"type": "array"}
        }},
        "RequestList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}}}},
        "RequestEvent": {"type": "object", "required": ["id", "request_id", "kind", "on"], "properties": {"id": {"type": "integer"}, "request_id": {"type": "integer"}, "kind": {"type": "string"}, "on": {"type": "string"}, "answer_type": {"type": ["string", "null"]}, "outcome": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]}}},
        "RequestLink": {"type": "object", "required": ["id", "request_id", "kind", "reference"], "properties": {"id": {"type": "integer"}, "request_id": {"type": "integer"}, "kind": {"type": "string"}, "reference": {"type": "string"}}},
        "RequestImport": {"type": "object", "required": ["imported"], "properties": {"imported": {"type": "integer"}}},
        "RequestsToday": {"type": "object", "required": ["today", "items"], "properties": {"today": {"type": "string"}, "horizon_working_days": {"type": "integer"}, "items": {"type": "array", "items": {"type": "object"}}}},
        "RequestAnalysis": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "object"}}}},
        "RegimeList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "object", "required": ["name", "title_es", "title_en", "rules", "unverified"], "properties": {
            "name": {"type": "string"}, "title_es": {"type": "string"}, "title_en": {"type": "string"}, "rules": {"type": "array"}, "unverified": {"type": "array"}
        }}}}},
        "PublicationInput": {"type": "object", "required": ["year", "sections"], "additionalProperties": false, "properties": {
            "year": {"type": "integer", "minimum": 2000},
            "sections": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["access", "conditions", "cases", "statements"]}},
            "detail": {"type": ["string", "null"], "enum": ["facility", "state", null], "default": "facility", "description": "null or absent: facility"}
        }},
        "PublicationDecision": {"type": "object", "required": ["decision"], "additionalProperties": false, "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject"]}
        }},
        "PeriodReport": {"type": "object", "required": ["report", "content_sha256", "language", "title", "made"], "properties": {
            "report": {"type": "object", "required": ["scope", "organization", "from", "until", "access", "statements", "visits", "cases"], "properties": {
                "scope": {"type": "string", "enum": ["organization", "coalition"]}, "organization": {"type": "string"},
                "partners": {"type": "array", "items": {"type": "string"}},
                "from": {"type": "string", "format": "date"}, "until": {"type": "string", "format": "date"},
                "facility": {"type": ["object", "null"]},
                "official": {"type": "object", "description": "The government's monthly national totals for the period (events, not people), when imported", "properties": {
                    "sources": {"type": "array", "items": {"type": "string"}}, "illustrative": {"type": "boolean"},
                    "months": {"type": "array", "items": {"type": "object", "properties": {"month": {"type": "string"}, "presented": {"type": ["integer", "null"]}, "returned": {"type": ["integer", "null"]}}}}
                }},
                "recommendations": {"type": "array", "description": "The organization's current assessment of each UN recommendation it assessed, as of the period's end", "items": {"type": "object"}},
                "access": {"type": "object", "properties": {"attempts": {"type": "integer"}, "refusals": {"type": "integer"},
                    "by_facility": {"type": "array"}, "by_month": {"type": "array"}, "suspensions": {"type": "array"}}},
                "statements": {"type": "object", "properties": {"published": {"type": "integer"}, "contradictions": {"type": "array"}}},
                "visits": {"type": "object", "properties": {"visits": {"type": "array"}}},
                "cases": {"type": "object", "properties": {"measures": {"type": "array", "items": {"type": "string"}},
                    "by_facility": {"type": "array"}, "totals": {"type": "array", "items": {"type": ["integer", "null"]}},
                    "total": {"type": ["integer", "null"]}, "suppressed_below": {"type": ["integer", "null"]}}}
            }},
            "content_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "language": {"type": "string"}, "title": {"type": "string"}, "made": {"type": "string"}
        }}
    });
    (paths, schemas)
}

pub fn document() -> Value {
    let mut doc = document_base();
    let (paths, schemas) = case_parts();
    for (target, extra) in [("paths", paths), ("schemas", schemas)] {
        let slot = if target == "paths" {
            doc.get_mut("paths")
        } else {
            doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
        };
        if let (Some(Value::Object(m)), Value::Object(e)) = (slot, extra) {
            m.extend(e);
        }
    }
    tighten_inputs(&mut doc);
    doc
}

/// Dates the validators accept: years 1900 to 2099 (`RawInput::date`).
const DATE_PATTERN: &str = "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A name or title: one line, no control characters at all.
const LINE_PATTERN: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// A required one-line name: something other than spaces, on one line.
const LINE_WITH_TEXT: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Free text may hold newlines and tabs but no other control characters.
const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn has_type(m: &serde_json::Map<String, Value>, t: &str) -> bool {
    m.get("type").is_some_and(|v| v == t || v.as_array().is_some_and(|a| a.contains(&json!(t))))
}

/// Says in the schema what every validator enforces on every input, so the document
/// and the code cannot drift apart field by field: dates within the years accepted,
/// no control characters in text, ids within 64 bits; an empty optional query
/// parameter counts as absent (forms send them).
fn tighten_inputs(doc: &mut Value) {
    fn schema(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.get("format").is_some_and(|f| f == "date") {
                    m.insert("pattern".into(), DATE_PATTERN.into());
                } else if has_type(m, "string") && m.get("format").is_none() && m.get("enum").is_none() {
                    match m.remove("pattern") {
                        // A whole-value pattern already says what is allowed; two of them
                        // together leave generators too little to find.
                        Some(Value::String(p)) if p.starts_with('^') && p.ends_with('$') => {
                            m.insert("pattern".into(), p.into());
                        }
                        Some(p) => {
                            m.insert("allOf".into(), json!([{"pattern": p}, {"pattern": TEXT_PATTERN}]));
                        }
                        None => {
                            m.insert("pattern".into(), TEXT_PATTERN.into());
                        }
                    }
                }
                if has_type(m, "integer") && !m.contains_key("maximum") {
                    m.insert("maximum".into(), i64::MAX.into());
                }
                for key in ["properties", "items", "anyOf", "oneOf"] {
                    match m.get_mut(key) {
                        Some(Value::Object(props)) if key == "properties" => props.values_mut().for_each(schema),
                        Some(Value::Array(items)) => items.iter_mut().for_each(schema),
                        Some(other) if key == "items" => schema(other),
                        _ => {}
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(schema),
            _ => {}
        }
    }
    fn parameters(list: &mut Value) {
        for p in list.as_array_mut().into_iter().flatten() {
            let optional_query = p["in"] == "query" && p["required"] != true;
            // Header values cannot carry control characters anyway; their own patterns say enough.
            let header = p["in"] == "header";
            if let Some(s) = p.get_mut("schema").filter(|_| !header) {
                schema(s);
                if optional_query && ["string", "integer", "number", "boolean"].iter().any(|t| s["type"] == *t) {
                    let inner = s.take();
                    *s = json!({"anyOf": [inner, {"type": "string", "maxLength": 0}]});
                }
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            if let Some(ps) = item.get_mut("parameters") {
                parameters(ps);
            }
            for op in item.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                if let Some(ps) = op.get_mut("parameters") {
                    parameters(ps);
                }
            }
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, s) in schemas.iter_mut() {
            if name.ends_with("Input") {
                schema(s);
            }
        }
    }
}

fn document_base() -> Value {
    let kinds: Vec<&str> = FacilityKind::ALL.iter().map(|k| k.as_str()).collect();
    use vigia_domain::access::{Outcome, Purpose, ReasonCategory, Restriction, Visibility};
    let outcomes: Vec<&str> = Outcome::ALL.iter().map(|k| k.as_str()).collect();
    let purposes: Vec<&str> = Purpose::ALL.iter().map(|k| k.as_str()).collect();
    let reasons: Vec<&str> = ReasonCategory::ALL.iter().map(|k| k.as_str()).collect();
    let restrictions: Vec<&str> = Restriction::ALL.iter().map(|k| k.as_str()).collect();
    let visibilities: Vec<&str> = Visibility::ALL.iter().map(|k| k.as_str()).collect();
    let datetime_text = json!({"type": "string", "minLength": 1, "pattern": "\\S", "description": "Civil time at the facility (2020-01-20T10:30) or an RFC 3339 instant; not in the future, not before 2000"});
    let states: Vec<&str> = geo::STATES.iter().map(|s| s.code).collect();
    let nullable_text = |max: usize| json!({"type": ["string", "null"], "maxLength": max});
    let date = json!({"type": ["string", "null"], "format": "date"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Vigía API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Access and conditions record for migrant detention centers. Authenticate with a personal API token (`vigia token create`) as `Authorization: Bearer …`. Errors are RFC 9457 problem details; validation problems list each field with a code and a message in the language of `Accept-Language` (Spanish by default, or English)."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me": {"get": {
                "operationId": "me", "summary": "The signed-in user and organization",
                "responses": with(errors(&[]), "200", json_response("The user", "Me"))
            }},
            "/api/v1/tokens": {"get": {
                "operationId": "listApiTokens", "summary": "Your own API tokens: name, state (live, expired, revoked), creation, expiry (90 days), last use; never the secret",
                "responses": with(errors(&[]), "200", json_response("Tokens", "ApiTokenList"))
            }},
            "/api/v1/tokens/{id}/revoke": {
                "parameters": [id_param()],
                "post": {
                    "operationId": "revokeApiToken", "summary": "Revoke one of your own API tokens (it signs nothing in afterwards); revoking it again answers the same",
                    "responses": with(errors(&[("404", "No such token of yours")]), "200", json_response("The token", "ApiToken"))
                }
            },
            "/api/v1/clock/calendars": {"get": {
                "operationId": "clockCalendars", "summary": "The working-day calendars, their rules and legal sources",
                "security": [],
                "responses": {"200": {"description": "Calendars", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/api/v1/legal": {"get": {
                "operationId": "legalRules",
                "summary": "Every calendar, time limit and violation rule Vigía applies, and the laws information requests are counted under, with its article, published text or summary, version of the law, what the software does and what the text leaves open (in the request's language)",
                "security": [],
                "responses": {"200": {"description": "The rules", "content": {"application/json": {"schema": {"type": "object",
                    "required": ["calendars", "deadlines", "violations", "requests"],
                    "properties": {
                        "calendars": {"type": "array", "items": {"type": "object"}},
                        "deadlines": {"type": "array", "items": {"type": "object"}},
                        "violations": {"type": "array", "items": {"type": "object"}},
                        "requests": {"type": "array", "description": "The laws information requests are counted under", "items": {"type": "object"}}
                    }}}}}}
            }},
            "/api/v1/clock/add": {"get": {
                "operationId": "clockAdd",
                "summary": "The date on which the N-th working day after `from` falls; counting starts the next day",
                "security": [],
                "parameters": clock_params(&[("working_days", json!({"type": "integer", "minimum": 0, "maximum": vigia_domain::clock::MAX_WORKING_DAYS}))]),
                "responses": {"200": json_response("The date", "ClockAnswer"), "400": problem_response("Outside the supported range"), "422": problem_response("A parameter is invalid")}
            }},
            "/api/v1/clock/count": {"get": {
                "operationId": "clockCount", "summary": "Working days after `from` up to and including `to`",
                "security": [],
                "parameters": clock_params(&[("to", json!({"type": "string", "format": "date"}))]),
                "responses": {"200": json_response("The count", "ClockAnswer"), "400": problem_response("Outside the supported range"), "422": problem_response("A parameter is invalid")}
            }},
            "/api/v1/access-attempts": {
                "get": {
                    "operationId": "listAccessAttempts",
                    "summary": "Access attempts you may see: your organization's, and those shared with a coalition you belong to; newest first",
                    "parameters": [
                        {"name": "facility_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                        {"name": "org_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                        {"name": "outcome", "in": "query", "required": false, "schema": {"type": "string", "enum": outcomes}},
                        {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                        {"name": "until", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}, "description": "Rows on this page (default 500)"},
                        {"name": "after", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^-?[0-9]+_[0-9]+$"}, "description": "The `next` of the previous page: the page starts after that row (keyset, stable while rows are added)"}
                    ],
                    "responses": with(errors(&[("422", "A filter is invalid")]), "200", json_response("Attempts, with how many match in all and the cursor of the next page", "AttemptList"))
                },
                "post": {
                    "operationId": "createAccessAttempt", "summary": "Record an access attempt for your organization",
                    "requestBody": body("AttemptInput"),
                    "responses": with(errors(&[
                        ("400", "Malformed JSON"), ("403", "The role may not record access attempts"),
                        ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")
                    ]), "201", json_response("Created", "Attempt"))
                }
            },
            "/api/v1/alerts": {"get": {
                "operationId": "listAlerts",
                "summary": "Your organization's alerts inbox, newest first: refusals it can see and suspected general suspensions",
                "responses": with(errors(&[]), "200", json!({"description": "Alerts", "content": {"application/json": {"schema": {"type": "object", "required": ["items"]}}}}))
            }},
            "/api/v1/access-analysis": {"get": {
                "operationId": "accessAnalysis",
                "summary": "Refusal rates by facility, organization and month, and suspected general suspensions, over the attempts you may see",
                "description": "Counts come from daily totals kept with every write, so the cost does not grow with the number of attempts. Episodes are found over everything you may see (each facility's baseline needs its history) and listed when they touch the filter's period, places and organization.",
                "parameters": [
                    {"name": "facility_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "org_id", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "purpose", "in": "query", "required": false, "schema": {"type": "string", "enum": vigia_domain::access::Purpose::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>()}},
                    {"name": "state", "in": "query", "required": false, "description": "INEGI state code, e.g. 07 for Chiapas", "schema": {"type": "string", "pattern": "^[0-9]{2}$"}},
                    {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                    {"name": "until", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}},
                    {"name": "compare", "in": "query", "required": false, "description": "A date: refusal rates by facility before it and from it on", "schema": {"type": "string", "format": "date"}},
                    {"name": "min_orgs", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3}},
                    {"name": "min_facilities", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3}},
                    {"name": "window_days", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7}},
                    {"name": "alpha", "in": "query", "required": false, "schema": {"type": "number", "minimum": 1e-12, "maximum": 0.5, "default": 0.001}},
                    {"name": "attempt_ids", "in": "query", "required": false, "description": "`all`: each episode lists every refused attempt it rests on by id. Without it an episode lists the first 100 and `attempt_ids_total` says how many there are.", "schema": {"type": "string", "enum": ["all"]}}
                ],
                "responses": with(errors(&[("422", "A parameter is invalid")]), "200", json!({"description": "The analysis", "content": {"application/json": {"schema": {"type": "object", "required": ["attempts", "episodes", "by_facility", "by_organization", "by_month", "by_week"]}}}}))
            }},
            "/api/v1/access-attempts/import": {"post": {
                "operationId": "importAccessAttempts",
                "summary": "Import access attempts from CSV for your organization: all rows or none",
                "description": "Columns of AttemptInput; the facility is named by facility_id or by facility (its name). Bad dates, unknown facilities and duplicate rows are reported with line, column and reason. The body is read as it arrives, with no size limit: up to 1,000,000 rows of at most 64 KiB each. With ?progress=KEY (16 to 64 random letters, digits, - or _) its progress can be read at /api/v1/access-attempts/import/progress/KEY while it runs.",
                "parameters": [{"name": "progress", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}}],
                "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": with(errors(&[
                    ("403", "The role may not record access attempts"),
                    ("415", "Body is not text/csv"), ("422", "Rows are invalid, the upload was cut short, or the progress key is malformed"),
                    ("429", "Two imports of yours, or four in all, are under way: try again later")
                ]), "201", json_response("Imported: one audit entry stands for every row", "AttemptImportResult"))
            }},
            "/api/v1/access-attempts/import/progress/{key}": {"get": {
                "operationId": "accessAttemptsImportProgress",
                "summary": "How far your import named KEY has come (kept ten minutes after it ends)",
                "parameters": [{"name": "key", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": with(errors(&[
                    ("403", "The role may not record access attempts"), ("404", "No import of yours under this key")
                ]), "200", json_response("Rows read and stored, problems so far, rows per second", "ImportProgress"))
            }},
            "/api/v1/access-attempts/{id}": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "getAccessAttempt", "summary": "One attempt, if you may see it",
                    "responses": with(errors(&[("404", "No such attempt, or not visible to you")]), "200", json_response("The attempt", "Attempt"))
                },
                "put": {
                    "operationId": "updateAccessAttempt", "summary": "Correct your organization's attempt: a new version",
                    "parameters": [{"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,18}\"?$"}}],
                    "requestBody": body("AttemptInput"),
                    "responses": with(errors(&[
                        ("400", "Malformed JSON or If-Match"), ("403", "Not your organization's attempt, or the role may not record"),
                        ("404", "No such attempt"), ("409", "The version moved on"), ("413", "Body too large"),
                        ("415", "Body is not JSON"), ("422", "A field is invalid")
                    ]), "200", json_response("The new version", "Attempt"))
                }
            },
            "/api/v1/access-attempts/{id}/files": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "listAttemptFiles", "summary": "Evidence files attached to an attempt you may see",
                    "responses": with(errors(&[("404", "No such attempt")]), "200", json_response("Files", "FileList"))
                },
                "post": {
                    "operationId": "uploadAttemptFile",
                    "summary": "Attach a photo, PDF or audio file (the body is the file; its type is read from its bytes)",
                    "parameters": [{"name": "filename", "in": "query", "required": false, "description": "Paths are stripped; long names are shortened", "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": with(errors(&[
                        ("403", "Not your organization's attempt, or the role may not record"), ("404", "No such attempt"),
                        ("413", "Over 10 MiB"), ("422", "Not an accepted file type, or empty")
                    ]), "201", json_response("Attached", "File"))
                }
            },
            "/api/v1/files/{id}": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "downloadFile", "summary": "An evidence file, if you may see the record it belongs to",
                    "responses": with(errors(&[("404", "No such file, or not visible to you")]), "200", file_download())
                }
            },
            "/api/v1/access-attempts/{id}/history": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "accessAttemptHistory", "summary": "Every version of an attempt you may read: all of your own organization's; of another organization's, only the versions it shared",
                    "responses": with(errors(&[("404", "No such attempt")]), "200", json_response("The history", "History"))
                }
            },
            "/api/v1/facilities": {
                "get": {
                    "operationId": "listFacilities", "summary": "The shared facility registry",
                    "responses": with(errors(&[]), "200", json_response("All facilities, by name", "FacilityList"))
                },
                "post": {
                    "operationId": "createFacility", "summary": "Register a facility",
                    "requestBody": body("FacilityInput"),
                    "responses": with(errors(&[
                        ("400", "Malformed JSON"), ("403", "The role may not edit facilities"),
                        ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")
                    ]), "201", json_response("Created", "Facility"))
                }
            },
            "/api/v1/facilities/import": {"post": {
                "operationId": "importFacilities",
                "summary": "Import facilities from CSV: all rows or none",
                "description": "UTF-8, comma-separated, with a header row naming columns of FacilityInput (name, kind and state_code required). Every bad row is reported with its line (the header is line 1), column and reason; nothing is imported then.",
                "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": with(errors(&[
                    ("403", "The role may not edit facilities"), ("413", "Body too large"),
                    ("415", "Body is not text/csv"), ("422", "Rows are invalid: errors lists line, field and reason")
                ]), "201", json_response("Imported", "ImportResult"))
            }},
            "/api/v1/facilities/{id}": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "getFacility", "summary": "One facility; its ETag is its version",
                    "responses": with(errors(&[("404", "No such facility")]), "200", json_response("The facility", "Facility"))
                },
                "put": {
                    "operationId": "updateFacility",
                    "summary": "Correct a facility: a new version. Send If-Match with the version you read to refuse lost updates.",
                    "parameters": [{"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,18}\"?$"}}],
                    "requestBody": body("FacilityInput"),
                    "responses": with(errors(&[
                        ("400", "Malformed JSON or If-Match"), ("403", "The role may not edit facilities"),
                        ("404", "No such facility"), ("409", "The version moved on"), ("413", "Body too large"),
                        ("415", "Body is not JSON"), ("422", "A field is invalid")
                    ]), "200", json_response("The new version", "Facility"))
                }
            },
            "/api/v1/facilities/{id}/history": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "facilityHistory", "summary": "Every version, oldest first, with its audit hashes",
                    "responses": with(errors(&[("404", "No such facility")]), "200", json_response("The history", "History"))
                }
            },
            "/api/v1/facilities/{id}/notes": {
                "parameters": [id_param()],
                "get": {
                    "operationId": "listNotes", "summary": "Your organization's sealed notes on a facility",
                    "responses": with(errors(&[("403", "The role may not read personal data"), ("404", "No such facility")]), "200", json_response("Notes", "NoteList"))
                },
                "post": {
                    "operationId": "createNote", "summary": "Add a sealed note (encrypted at rest, private to your organization)",
                    "requestBody": body("NoteInput"),
                    "responses": with(errors(&[
                        ("400", "Malformed JSON"), ("403", "The role may not write personal data"), ("404", "No such facility"),
                        ("413", "Body too large"), ("415", "Body is not JSON"), ("422", "A field is invalid")
                    ]), "201", json_response("Created", "Note"))
                }
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object", "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"], "properties": {
                            "field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
                            "line": {"type": "integer"}
                        }}},
                        "error_count": {"type": "integer", "description": "A refused import: how many problems it had in all; `errors` lists the first 200"}
                    }
                },
                "Me": {
                    "type": "object", "required": ["id", "email", "display_name", "role", "locale"],
                    "properties": {
                        "id": {"type": "integer"}, "email": {"type": "string"}, "display_name": {"type": "string"},
                        "role": {"type": "string", "enum": ["admin", "coordinator", "monitor", "lawyer", "analyst"]},
                        "locale": {"type": "string", "enum": ["es", "en"]},
                        "organization": {"type": ["object", "null"], "properties": {
                            "id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}
                        }}
                    }
                },
                "FacilityInput": {
                    "type": "object", "additionalProperties": false, "required": ["name", "kind", "state_code"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": LINE_WITH_TEXT, "description": "One line"},
                        "kind": {"type": "string", "enum": kinds},
                        "authority": {"type": ["string", "null"], "maxLength": 100, "pattern": LINE_PATTERN, "description": "One line; defaults to INM"},
                        "state_code": {"type": "string", "enum": states, "description": "INEGI state code"},
                        "municipality": {"type": ["string", "null"], "maxLength": 120, "pattern": LINE_PATTERN, "description": "One line"},
                        "latitude": {"type": ["number", "null"], "minimum": geo::LATITUDE.0, "maximum": geo::LATITUDE.1},
                        "longitude": {"type": ["number", "null"], "minimum": geo::LONGITUDE.0, "maximum": geo::LONGITUDE.1},
                        "capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_CAPACITY, "description": "Official capacity; null when unknown"},
                        "opened_on": date, "closed_on": date,
                        "sources": nullable_text(4000)
                    },
                    "description": "Latitude and longitude go together; closed_on is not before opened_on; text fields hold no control characters."
                },
                "Facility": {
                    "type": "object",
                    "required": ["id", "version", "name", "kind", "authority", "state_code", "state_name", "created_at", "updated_at"],
                    "properties": {
                        "id": {"type": "integer"}, "version": {"type": "integer"}, "name": {"type": "string"},
                        "kind": {"type": "string", "enum": kinds}, "authority": {"type": "string"},
                        "state_code": {"type": "string"}, "state_name": {"type": "string"},
                        "municipality": {"type": ["string", "null"]}, "latitude": {"type": ["number", "null"]},
                        "longitude": {"type": ["number", "null"]}, "capacity": {"type": ["integer", "null"]},
                        "opened_on": {"type": ["string", "null"]}, "closed_on": {"type": ["string", "null"]},
                        "sources": {"type": ["string", "null"]},
                        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
                    }
                },
                "FacilityList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Facility"}}}},
                "History": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {
                    "type": "object", "required": ["seq", "at", "action", "content", "content_hash", "entry_hash"],
                    "properties": {
                        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "action": {"type": "string"},
                        "actor": {"type": ["string", "null"]}, "content": {"type": "object", "description": "What the audit history holds: free text that can name a person is sealed there"},
                        "content_hash": {"type": "string"}, "entry_hash": {"type": "string"},
                        "opened": {"type": "object", "description": "Attempts: what the sealed free text of this version says (reason_text, official, notes)", "additionalProperties": {"type": "string"}}
                    }
                }}, "withheld_versions": {"type": "integer", "minimum": 0,
                    "description": "Earlier versions of another organization's attempt that were never shared with yours: they exist, and that is all you are told"}}},
                "ClockAnswer": {"type": "object", "required": ["calendar", "from", "to", "working_days", "source"], "properties": {
                    "calendar": {"type": "string"}, "calendar_title": {"type": "string"}, "source": {"type": "string"},
                    "version": {"type": ["string", "null"], "description": "The version of the law's text the calendar follows (the reform's date in the DOF)"},
                    "open_days": {"type": "array", "description": "Days the count crosses that count but that the text leaves open (e.g. 1 October 2024 under LFPA art. 28), with why; given with or without explain",
                        "items": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "why": {"type": "array", "items": {"type": "string"}}}}},
                    "notes": {"type": "array", "items": {"type": "string"},
                        "description": "What a reader must know about the calendar, such as a day the law leaves open"},
                    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                    "working_days": {"type": "integer"}, "rule": {"type": "string"},
                    "days": {"type": "array", "items": {"type": "object", "properties": {
                        "date": {"type": "string", "format": "date"}, "counts": {"type": "boolean"},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "open": {"type": "array", "items": {"type": "string"},
                            "description": "Why a day that counts is open to dispute under the text (e.g. 1 October 2024 under LFPA art. 28)"}
                    }}}
                }},
                "AttemptInput": {
                    "type": "object", "additionalProperties": false,
                    "required": ["facility_id", "attempted_at", "purpose", "outcome"],
                    "properties": {
                        "facility_id": {"type": "integer", "minimum": 1},
                        "requested_at": {"anyOf": [datetime_text, {"type": "null"}]},
                        "attempted_at": datetime_text,
                        "purpose": {"type": "string", "enum": purposes},
                        "team_size": {"type": ["integer", "null"], "minimum": 1, "maximum": 200},
                        "people_to_see": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
                        "outcome": {"type": "string", "enum": outcomes},
                        "reason_category": {"type": ["string", "null"], "enum": reasons.iter().map(|r| Value::from(*r)).chain([Value::Null]).collect::<Vec<_>>()},
                        "reason_text": nullable_text(2000),
                        "official": nullable_text(200),
                        "restrictions": {"anyOf": [
                            {"type": "array", "items": {"type": "string", "enum": restrictions.clone()}},
                            {"type": ["string", "null"], "maxLength": 400, "description": format!("Comma-separated: {}", restrictions.join(", "))}
                        ]},
                        "notes": nullable_text(4000),
                        "visibility": {"type": ["string", "null"], "enum": visibilities.iter().map(|r| Value::from(*r)).chain([Value::Null]).collect::<Vec<_>>(), "description": "Default coalition"}
                    },
                    "description": "requested_at is not after attempted_at."
                },
                "Attempt": {"type": "object", "required": ["id", "version", "organization_id", "facility_id", "attempted_at", "purpose", "outcome", "visibility"], "properties": {
                    "id": {"type": "integer"}, "version": {"type": "integer"}, "organization_id": {"type": "integer"},
                    "organization": {"type": ["string", "null"]}, "mine": {"type": "boolean"},
                    "facility_id": {"type": "integer"}, "facility": {"type": ["string", "null"]},
                    "requested_at": {"type": ["string", "null"]}, "attempted_at": {"type": "string", "format": "date-time"},
                    "attempted_local": {"type": "string"}, "purpose": {"type": "string"}, "team_size": {"type": "integer"},
                    "people_to_see": {"type": ["integer", "null"]}, "outcome": {"type": "string"},
                    "reason_category": {"type": ["string", "null"]}, "reason_text": {"type": ["string", "null"]},
                    "official": {"type": ["string", "null"]}, "restrictions": {"type": "array", "items": {"type": "string"}},
                    "notes": {"type": ["string", "null"]}, "visibility": {"type": "string"},
                    "created_at": {"type": "string"}, "updated_at": {"type": "string"}
                }},
                "File": {"type": "object", "required": ["id", "filename", "content_type", "size", "sha256", "download"], "properties": {
                    "id": {"type": "integer"}, "filename": {"type": "string"}, "content_type": {"type": "string"},
                    "size": {"type": "integer"}, "sha256": {"type": "string"}, "created_at": {"type": "string"}, "download": {"type": "string"}
                }},
                "FileList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/File"}}}},
                "AttemptList": {"type": "object", "required": ["items", "total", "next"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}},
                    "total": {"type": "integer", "minimum": 0, "description": "How many attempts match the filters, on every page"},
                    "next": {"type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last page"}
                }},
                "ImportResult": {"type": "object", "required": ["imported"], "properties": {
                    "imported": {"type": "integer"}, "ids": {"type": "array", "items": {"type": "integer"}}
                }},
                "AttemptImportResult": {"type": "object", "required": ["imported", "import_id", "first_id", "last_id", "file_sha256", "rows_sha256"], "properties": {
                    "imported": {"type": "integer", "description": "Attempts created, with ids first_id to last_id"},
                    "import_id": {"type": "integer", "description": "The import's record; its one audit entry stands for every row"},
                    "first_id": {"type": "integer"}, "last_id": {"type": "integer"},
                    "file_sha256": {"type": "string", "description": "SHA-256 of the uploaded bytes, hex"},
                    "rows_sha256": {"type": "string", "description": "Digest of the created attempts as stored (see `vigia audit verify`)"},
                    "file_bytes": {"type": ["integer", "null"], "description": "The uploaded file's size in bytes"}
                }},
                "ImportProgress": {"type": "object", "required": ["phase", "bytes_read", "rows_read", "problems", "rows_stored", "seconds", "rows_per_second"], "properties": {
                    "phase": {"type": "string", "enum": ["reading", "storing", "done", "refused"], "description": "reading: the file arrives and each row is checked; storing: the whole file was valid and is being written; refused: problems, nothing kept"},
                    "bytes_read": {"type": "integer"}, "rows_read": {"type": "integer"}, "problems": {"type": "integer"},
                    "rows_stored": {"type": "integer"}, "seconds": {"type": "number"},
                    "rows_per_second": {"type": "integer"}
                }},
                "NoteInput": {
                    "type": "object", "additionalProperties": false, "required": ["body"],
                    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": note::BODY_MAX, "pattern": "\\S"}}
                },
                "Note": {"type": "object", "required": ["id", "facility_id", "body", "created_at"], "properties": {
                    "id": {"type": "integer"}, "facility_id": {"type": "integer"}, "body": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}
                }},
                "NoteList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}}}}
            }
        }
    })
}

/// Serves the document.
pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::default().get("/api/openapi.json", openapi)
}

async fn openapi() -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    ([(header::CONTENT_TYPE, "application/json")], document().to_string()).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_api_route_is_documented_and_nothing_else() {
        let doc = super::document();
        let paths = doc["paths"].as_object().expect("paths");
        let served: Vec<(&str, &str)> =
            crate::route_list().into_iter().filter(|(_, p)| p.starts_with("/api/v1/")).collect();
        for (method, path) in &served {
            let op = paths.get(*path).and_then(|p| p.get(method.to_lowercase()));
            assert!(op.is_some(), "{method} {path} is served but not documented");
        }
        for (path, item) in paths {
            for method in item.as_object().expect("path item").keys().filter(|k| *k != "parameters") {
                let m = method.to_uppercase();
                assert!(served.contains(&(m.as_str(), path.as_str())), "{m} {path} is documented but not served");
            }
        }
    }
}
