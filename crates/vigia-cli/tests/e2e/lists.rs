//! The API's lists of statements, cases and visits are read a page at a time (#19): a
//! small `limit` pages through exactly the rows one large page holds, in the same
//! order (newest first, ties by number), with the count on every page; a search pages
//! the same way; another organization's cases and visits are never on them.

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::TestApp;

/// Every row of `path` read `limit` at a time, following `next`; each page's `total`.
async fn walk(app: &TestApp, token: &str, path: &str, limit: usize) -> (Vec<i64>, Vec<i64>) {
    let (mut ids, mut totals, mut after) = (Vec::new(), Vec::new(), None::<String>);
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &after {
            Some(a) => format!("{path}{sep}limit={limit}&after={a}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (s, v) = app.api_get(token, &url).await;
        assert_eq!(s, 200, "{url}: {v}");
        let items = v["items"].as_array().expect("items");
        assert!(items.len() <= limit, "{url}: {} rows", items.len());
        ids.extend(items.iter().map(|i| i["id"].as_i64().expect("id")));
        totals.push(v["total"].as_i64().expect("total"));
        match v["next"].as_str() {
            Some(n) => {
                assert_eq!(items.len(), limit, "{url}: a page before the last is full");
                after = Some(n.to_string());
            }
            None => return (ids, totals),
        }
        assert!(ids.len() < 1000, "{path} does not end");
    }
}

/// The rows of `path` on one page, and that page's `total` and `next`.
async fn whole(app: &TestApp, token: &str, path: &str) -> (Vec<i64>, i64) {
    let (s, v) = app.api_get(token, path).await;
    assert_eq!(s, 200, "{path}: {v}");
    assert!(v["next"].is_null(), "{path}: one page holds them all");
    let ids = v["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect();
    (ids, v["total"].as_i64().expect("total"))
}

/// A list page and the pages its "next" links lead to: the record numbers each links to
/// (`/visits/12` under `prefix` "/visits/"), and each page's count line.
async fn html_pages(app: &TestApp, c: &reqwest::Client, path: &str, prefix: &str) -> (Vec<i64>, Vec<String>) {
    let (mut ids, mut counts, mut url) = (Vec::new(), Vec::new(), Some(path.to_string()));
    while let Some(u) = url.take() {
        let (s, html) = crate::helpers::get_text(c, app.url(&u)).await;
        assert_eq!(s, 200, "{u}");
        let link = format!("href=\"{prefix}");
        ids.extend(html.split(link.as_str()).skip(1).filter_map(|r| r.split('"').next()?.parse::<i64>().ok()));
        let count = html.split("id=\"list-count\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or_default();
        counts.push(count.to_string());
        url = html
            .split("id=\"next-page\"")
            .next()
            .filter(|_| html.contains("id=\"next-page\""))
            .and_then(|h| h.rsplit("href=\"").next())
            .and_then(|h| h.split('"').next())
            .map(|h| h.replace("&amp;", "&"));
        assert!(counts.len() < 20, "{path} does not end");
    }
    (ids, counts)
}

/// The record numbers in the first column of a download, in its order.
async fn download_ids(app: &TestApp, c: &reqwest::Client, path: &str) -> Vec<i64> {
    let (s, csv) = crate::helpers::get_text(c, app.url(path)).await;
    assert_eq!(s, 200, "{path}");
    csv.lines().skip(1).filter_map(|r| r.split(',').next()?.parse().ok()).collect()
}

/// Pages of 1, 2 and 3 give exactly the rows of one page of 500, in its order.
async fn pages_agree(app: &TestApp, token: &str, path: &str, expected: usize) -> Vec<i64> {
    let (all, total) = whole(app, token, path).await;
    assert_eq!((all.len(), total), (expected, expected as i64), "{path}");
    for limit in [1, 2, 3] {
        let (ids, totals) = walk(app, token, path, limit).await;
        assert_eq!(ids, all, "{path} by {limit}");
        assert!(totals.iter().all(|t| *t == expected as i64), "{path} by {limit}: {totals:?}");
    }
    all
}

#[tokio::test]
async fn statements_cases_and_visits_page_through_every_row_newest_first() {
    for app in TestApp::all().await {
        let (_, lawyer) = app.api_user("lawyer@a.org", "org-a", Role::Lawyer).await;
        let (_, analyst) = app.api_user("analyst@a.org", "org-a", Role::Analyst).await;
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let (_, other) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;
        let f = app.facility("Estación Migratoria Siglo XXI").await;
        let g = app.facility("Estación Migratoria Acayucan").await;

        // Seven statements, three published at the same minute (ties go by number); the
        // ones about a suspension are what the search finds.
        let (mut statements, mut by_segob) = (Vec::new(), Vec::new());
        for (i, at) in [
            "2020-01-27T19:30",
            "2020-01-28T19:30",
            "2020-01-28T19:30",
            "2020-01-28T19:30",
            "2020-02-03T10:00",
            "2019-12-01T08:00",
            "2020-03-15T12:00",
        ]
        .iter()
        .enumerate()
        {
            let (authority, text) = if i % 2 == 0 {
                ("inm", "Se suspende el acceso a las estaciones")
            } else {
                ("segob", "Las visitas continúan")
            };
            let (s, v) = app
                .post_statement(
                    &analyst,
                    &json!({"authority": authority, "published_at": at, "channel": "press_release", "text": text}),
                )
                .await;
            assert_eq!(s, 201, "{v}");
            statements.push((v["published_at"].as_str().expect("at").to_string(), v["id"].as_i64().expect("id")));
            if authority == "segob" {
                by_segob.push(v["id"].as_i64().expect("id"));
            }
        }
        statements.sort_by(|a, b| b.cmp(a));
        let newest_first: Vec<i64> = statements.iter().map(|(_, id)| *id).collect();
        assert_eq!(pages_agree(&app, &lawyer, "/api/v1/statements", 7).await, newest_first);
        let found = pages_agree(&app, &lawyer, "/api/v1/statements?q=suspende", 4).await;
        assert!(found
            .windows(2)
            .all(|w| newest_first.iter().position(|x| *x == w[0]) < newest_first.iter().position(|x| *x == w[1])));

        // Claims that contradict each other (the authorities disagree, and change their
        // minds): the contradictions page by their keys, and download whole.
        for (i, id) in newest_first.iter().enumerate() {
            let position = if i % 2 == 0 { "suspended" } else { "denies_suspension" };
            let (s, v) = app
                .post_claim(
                    &analyst,
                    &json!(id),
                    &json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}),
                )
                .await;
            assert_eq!(s, 201, "{v}");
        }
        let (_, all) = app.api_get(&lawyer, "/api/v1/contradictions").await;
        let keys: Vec<String> = all["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["key"].as_str().expect("key").to_string())
            .collect();
        assert!(keys.len() >= 3, "{all}");
        assert_eq!(all["total"].as_u64(), Some(keys.len() as u64));
        for limit in [1, 2] {
            let (mut seen, mut after) = (Vec::new(), None::<String>);
            loop {
                let path = match &after {
                    Some(a) => format!("/api/v1/contradictions?limit={limit}&after={a}"),
                    None => format!("/api/v1/contradictions?limit={limit}"),
                };
                let (s, v) = app.api_get(&lawyer, &path).await;
                assert_eq!(s, 200, "{v}");
                seen.extend(
                    v["items"].as_array().expect("items").iter().map(|d| d["key"].as_str().expect("k").to_string()),
                );
                match v["next"].as_str() {
                    Some(n) => after = Some(n.to_string()),
                    None => break,
                }
            }
            assert_eq!(seen, keys, "contradictions by {limit}");
        }
        let (s, v) = app.api_get(&lawyer, "/api/v1/contradictions?after=x%27%20OR").await;
        assert_eq!(s, 422, "{v}");
        // The page shows the first hundred and the count; the download has every one.
        app.user("coordinacion@a.org", "org-a", Role::Coordinator).await;
        let c = app.login("coordinacion@a.org").await;
        let (s, page) = crate::helpers::get_text(&c, app.url("/contradictions")).await;
        assert_eq!(s, 200);
        assert!(page.contains(&format!("{} contradicciones", keys.len())), "the count");
        let (s, csv) = crate::helpers::get_text(&c, app.url("/contradictions.csv")).await;
        assert_eq!(s, 200);
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), keys.len(), "{csv}");
        assert!(keys.iter().all(|k| rows.iter().any(|r| r.starts_with(k.as_str()))), "{csv}");
        let (s, _) = crate::helpers::get_text(&c, app.url("/contradictions?after=%3Cscript%3E")).await;
        assert_eq!(s, 422, "a broken page link");
        // The statements page and its download list what the API lists, searched or not.
        let (paged, counts) = html_pages(&app, &c, "/statements", "/statements/").await;
        assert_eq!((paged, counts), (newest_first.clone(), vec!["7 declaraciones".to_string()]));
        // (The claims' words are searched too: the API says what the search finds now.)
        let (found, _) = whole(&app, &lawyer, "/api/v1/statements?q=suspende").await;
        assert!(found.len() >= 4, "{found:?}");
        let (paged, _) = html_pages(&app, &c, "/statements?q=suspende", "/statements/").await;
        assert_eq!(paged, found);
        let (paged, _) = html_pages(&app, &c, "/statements?q=suspende&authority=segob", "/statements/").await;
        let segob: Vec<i64> = found.iter().copied().filter(|id| by_segob.contains(id)).collect();
        assert!(!segob.is_empty() && segob.len() < found.len());
        assert_eq!(paged, segob, "a facet narrows the search");
        let ids = download_ids(&app, &c, "/statements.csv?q=suspende").await;
        assert_eq!(ids, found, "the download of a search");
        // A search the page cannot ask for is refused before anything is read: words past
        // 200 characters (as the API), a facet value no statement can have.
        let long = "suspende".repeat(26);
        for (link, field) in [
            (format!("/statements?q={long}"), "Búsqueda"),
            ("/statements?authority=%3Cscript%3E".to_string(), "Autoridad"),
            ("/statements?q=suspende&topic=Ngo%20Access".to_string(), "Tema"),
            ("/statements?year=20x0".to_string(), "Año"),
            ("/statements?year=1200".to_string(), "Año"),
        ] {
            let (s, page) = crate::helpers::get_text(&c, app.url(&link)).await;
            assert_eq!(s, 422, "{link}");
            assert!(page.contains("id=\"search-error\"") && page.contains(&format!("{field}: ")), "{link}: {page}");
            assert!(!page.contains("id=\"statements\""), "{link}: no statement is listed");
            let (s, _) =
                crate::helpers::get_text(&c, app.url(&link.replacen("/statements?", "/statements.csv?", 1))).await;
            assert_eq!(s, 422, "the download of {link}");
        }
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/statements?q={long}")))
            .bearer_auth(&lawyer)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 422, "the API refuses the same words");
        let (_, page) = crate::helpers::get_text(&c, app.url(&format!("/statements?q={long}"))).await;
        assert!(page.contains(&format!("value=\"{long}\"")), "the words refused stay in the box to be shortened");
        // A value as typed (`SEGOB`) is read as its code: it narrows, and shows as chosen.
        let (s, page) = crate::helpers::get_text(&c, app.url("/statements?q=suspende&authority=SEGOB")).await;
        assert_eq!(s, 200);
        assert_eq!(page.matches("aria-current=\"true\"").count(), 1, "the chosen authority is marked");
        // The year a facet link carries still narrows.
        let (paged, _) = html_pages(&app, &c, "/statements?q=suspende&year=2020", "/statements/").await;
        assert!(!paged.is_empty() && paged.iter().all(|id| found.contains(id)), "{paged:?}");

        // Seven cases; a filter pages through its own rows.
        let mut cases = Vec::new();
        for i in 0..7 {
            let mut body = crate::cases::person(&format!("FM-{i}"));
            body["facility_id"] = json!(if i < 4 { f } else { g });
            let (s, v) = app.post_case(&lawyer, &body).await;
            assert_eq!(s, 201, "{v}");
            cases.push(v["id"].as_i64().expect("id"));
        }
        cases.reverse();
        assert_eq!(pages_agree(&app, &lawyer, "/api/v1/cases", 7).await, cases);
        assert_eq!(pages_agree(&app, &lawyer, &format!("/api/v1/cases?facility_id={g}"), 3).await, cases[..3]);
        assert_eq!(pages_agree(&app, &analyst, "/api/v1/cases", 7).await, cases, "analysts page the same cases");
        assert_eq!(whole(&app, &other, "/api/v1/cases").await, (vec![], 0), "another organization's cases");
        // The cases page reads a hundred at a time, and assesses only those.
        for i in 7..103 {
            let (s, v) = app.post_case(&lawyer, &crate::cases::person(&format!("FM-{i}"))).await;
            assert_eq!(s, 201, "{v}");
        }
        let (all, total) = whole(&app, &lawyer, "/api/v1/cases").await;
        assert_eq!((all.len(), total), (103, 103));
        let (paged, counts) = html_pages(&app, &c, "/cases", "/cases/").await;
        assert_eq!(counts, ["Mostrando 1–100 de 103 casos", "Mostrando 101–103 de 103 casos"]);
        assert_eq!(paged, all, "the pages list every open case once, newest first");
        let ids = download_ids(&app, &c, "/cases.csv").await;
        assert_eq!(ids, all, "the download, newest first");

        // Seven visits, four on the same day.
        let (mut visits, mut by_place) = (Vec::new(), std::collections::HashMap::new());
        for (i, on) in
            ["2020-03-10", "2020-03-10", "2020-03-10", "2020-03-10", "2020-02-01", "2020-04-01", "2019-11-30"]
                .iter()
                .enumerate()
        {
            let place = if i % 2 == 0 { f } else { g };
            let body = json!({"facility_id": place, "on": on, "team_size": 2,
                              "population": {"total": 100 + i}});
            let r = reqwest::Client::new()
                .post(app.url("/api/v1/visits"))
                .bearer_auth(&monitor)
                .header("idempotency-key", format!("draft-list-{i:04}"))
                .json(&body)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status().as_u16(), 201);
            let v: Value = r.json().await.expect("json");
            visits.push((on.to_string(), v["id"].as_i64().expect("id")));
            by_place.insert(v["id"].as_i64().expect("id"), place);
        }
        visits.sort_by(|a, b| b.cmp(a));
        let newest_first: Vec<i64> = visits.iter().map(|(_, id)| *id).collect();
        assert_eq!(pages_agree(&app, &monitor, "/api/v1/visits", 7).await, newest_first);
        // Visits 0, 2, 4 and 6 were at the first facility.
        let at_f: Vec<i64> = newest_first.iter().copied().filter(|id| by_place[id] == f).collect();
        assert_eq!(pages_agree(&app, &monitor, &format!("/api/v1/visits?facility_id={f}"), 4).await, at_f);
        assert_eq!(whole(&app, &other, "/api/v1/visits").await, (vec![], 0), "another organization's visits");

        // The visits page holds a hundred, read from the store a page at a time: with 107
        // visits, the next page link shows the last seven, and the download holds all.
        for i in 7..107 {
            let body =
                json!({"facility_id": f, "on": format!("2021-{:02}-{:02}", 1 + i % 12, 1 + i % 28), "team_size": 2});
            let r = reqwest::Client::new()
                .post(app.url("/api/v1/visits"))
                .bearer_auth(&monitor)
                .header("idempotency-key", format!("draft-list-{i:04}"))
                .json(&body)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status().as_u16(), 201);
        }
        let (all, total) = whole(&app, &monitor, "/api/v1/visits").await;
        assert_eq!((all.len(), total), (107, 107));
        let (paged, counts) = html_pages(&app, &c, "/visits", "/visits/").await;
        assert_eq!(counts, ["Mostrando 1–100 de 107 visitas", "Mostrando 101–107 de 107 visitas"]);
        assert_eq!(paged, all, "the pages list every visit once, newest first");
        let ids = download_ids(&app, &c, "/visits.csv").await;
        assert_eq!(ids, all, "the download, newest first");
        let (s, _) = crate::helpers::get_text(&c, app.url("/visits?after=nonsense")).await;
        assert_eq!(s, 422);

        // A page link that is not one, and limits out of range, name the field.
        for (path, field) in [
            ("/api/v1/statements?after=yesterday", "after"),
            ("/api/v1/cases?after=5", "after"),
            ("/api/v1/visits?after=20200310_0", "after"),
            ("/api/v1/statements?limit=0", "limit"),
            ("/api/v1/cases?limit=10001", "limit"),
            ("/api/v1/visits?limit=ten", "limit"),
        ] {
            let (s, v) = app.api_get(&lawyer, path).await;
            assert_eq!(s, 422, "{path}: {v}");
            assert!(v["errors"].as_array().expect("errors").iter().any(|e| e["field"] == field), "{path}: {v}");
        }
    }
}

/// The calendar and visits on a facility's page and the analysis are kept until
/// the data change (#19): what is recorded after a read shows at the next read, and what
/// one organization was shown is never what another is shown.
#[tokio::test]
async fn kept_answers_follow_the_data_and_stay_with_their_organization() {
    for app in TestApp::all().await {
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let (_, outsider) = app.api_user("monitor@b.org", "org-b", Role::Monitor).await;
        app.user("coordinacion@a.org", "org-a", Role::Coordinator).await;
        app.user("coordinacion@b.org", "org-b", Role::Coordinator).await;
        let f = app.facility("Estación Migratoria Siglo XXI").await;
        let attempt =
            |at: &str| json!({"facility_id": f, "attempted_at": at, "purpose": "monitoring", "outcome": "denied"});
        assert_eq!(app.post_attempt(&monitor, &attempt("2020-01-28T10:00")).await.0, 201);
        let a = app.login("coordinacion@a.org").await;
        let b = app.login("coordinacion@b.org").await;
        let page = format!("/facilities/{f}?year=2020");
        let refused_days = |html: &str| html.matches("title=\"1 / 1\"").count();

        // Read once (and kept), then a second refusal on another day.
        let (_, before) = crate::helpers::get_text(&a, app.url(&page)).await;
        assert_eq!(refused_days(&before), 1, "one refused day");
        let app = &app;
        let analysis =
            |token: String| async move { app.get_json(&token, "/api/v1/access-analysis").await["attempts"].clone() };
        assert_eq!(analysis(monitor.clone()).await, json!(1));
        assert_eq!(app.post_attempt(&monitor, &attempt("2020-01-29T10:00")).await.0, 201);
        let (_, after) = crate::helpers::get_text(&a, app.url(&page)).await;
        assert_eq!(refused_days(&after), 2, "the new refusal is on the calendar at once");
        assert_eq!(analysis(monitor.clone()).await, json!(2), "and in the analysis");

        // Another organization, asking the same questions, gets its own answers: its
        // calendar and analysis show none of the first one's private attempts.
        let (_, theirs) = crate::helpers::get_text(&b, app.url(&page)).await;
        assert_eq!(refused_days(&theirs), 0, "another organization's calendar");
        assert_eq!(analysis(outsider.clone()).await, json!(0), "another organization's analysis");
        // A kept page of attempts, likewise.
        let attempts = |token: String| async move {
            let v = app.get_json(&token, "/api/v1/access-attempts?limit=5").await;
            (v["total"].clone(), v["items"].as_array().map_or(0, Vec::len))
        };
        assert_eq!(attempts(monitor.clone()).await, (json!(2), 2));
        assert_eq!(attempts(outsider.clone()).await, (json!(0), 0), "another organization's page of attempts");
        assert_eq!(app.post_attempt(&monitor, &attempt("2020-01-30T10:00")).await.0, 201);
        assert_eq!(attempts(monitor.clone()).await, (json!(3), 3), "an attempt recorded after a read");

        // A page of visits, kept as written: a visit recorded after a read is on it at
        // once, and another organization's page stays its own.
        let visit = |key: &'static str, on: &'static str| {
            let monitor = monitor.clone();
            async move {
                let r = reqwest::Client::new()
                    .post(app.url("/api/v1/visits"))
                    .bearer_auth(&monitor)
                    .header("idempotency-key", key)
                    .json(&json!({"facility_id": f, "on": on, "team_size": 2, "population": {"total": 80}}))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status().as_u16(), 201);
            }
        };
        let visits = |token: String| async move {
            let v = app.get_json(&token, "/api/v1/visits?limit=5").await;
            (v["total"].clone(), v["items"].as_array().map_or(0, Vec::len))
        };
        visit("kept-visit-0001", "2020-03-10").await;
        assert_eq!(visits(monitor.clone()).await, (json!(1), 1));
        visit("kept-visit-0002", "2020-03-11").await;
        assert_eq!(visits(monitor.clone()).await, (json!(2), 2), "the new visit is on the page at once");
        assert_eq!(visits(outsider.clone()).await, (json!(0), 0), "another organization's page");

        // A page of cases, kept as written: what the role may read is part of its key
        // (a lawyer's page holds references, an analyst's must not).
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
        let cases = |token: String| async move { app.get_json(&token, "/api/v1/cases?limit=5").await };
        assert_eq!(app.post_case(&lawyer, &crate::cases::person("REF-KEPT-1")).await.0, 201);
        let seen = cases(lawyer.clone()).await;
        assert_eq!(seen["items"][0]["reference"], "REF-KEPT-1", "{seen}");
        let theirs = cases(analyst.clone()).await;
        assert_eq!(theirs["total"], json!(1));
        assert!(theirs["items"][0].get("reference").is_none(), "an analyst's page has no reference: {theirs}");
        assert_eq!(app.post_case(&lawyer, &crate::cases::person("REF-KEPT-2")).await.0, 201);
        assert_eq!(cases(analyst.clone()).await["total"], json!(2), "a case recorded after a read is on the page");
    }
}
