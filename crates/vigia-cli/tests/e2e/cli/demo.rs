//! `vigia demo`: its dataset, its health checks, and the episodes it flags.

use serde_json::Value;

use super::{run, text, Server, TempDir};

#[test]
fn the_demo_starts_with_its_dataset_and_answers_health_checks() {
    let t = TempDir::new("demo");
    let dir = t.data();
    let server = Server::start("demo", &dir);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c.get(format!("{}/healthz", server.base)).send().await.expect("health");
        assert_eq!(r.status(), 200);
    });
    drop(server);
    let o = run(&dir, &["user", "list", "--json"]);
    let users: Vec<Value> = text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let roles: std::collections::BTreeSet<_> =
        users.iter().map(|u| u["role"].as_str().expect("role").to_string()).collect();
    assert_eq!(roles.len(), 5, "a user for each role: {roles:?}");
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "{:?}", text(&o));
    // A second start reuses the data.
    let server = Server::start("demo", &dir);
    drop(server);
    let o = run(&dir, &["org", "list"]);
    assert_eq!(text(&o).0.lines().count(), 3);
}

#[test]
fn the_demo_flags_the_january_2020_closing_and_the_spring_2020_blanket_refusal() {
    let t = TempDir::new("episode");
    let dir = t.data();
    let server = Server::start("demo", &dir);
    let o = run(&dir, &["token", "create", "--user", "coordinacion@coalicion.example"]);
    let token = text(&o).0.trim().to_string();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = reqwest::Client::new();
        let a = server.get_json(&token, "/api/v1/access-analysis").await;
        let episodes = a["episodes"].as_array().expect("episodes");
        let jan: Vec<&Value> =
            episodes.iter().filter(|e| e["start"].as_str().is_some_and(|s| s.starts_with("2020-01"))).collect();
        assert_eq!(jan.len(), 1, "{episodes:?}");
        let e = jan[0];
        assert!(e["organizations"].as_array().expect("orgs").len() >= 3);
        let states: Vec<&str> = e["facilities"].as_array().expect("f").iter().filter_map(|f| f.as_str()).collect();
        for place in ["Tuxtla", "Villahermosa", "Iztapalapa"] {
            assert!(states.iter().any(|f| f.contains(place)), "{place} in {states:?}");
        }
        assert!(e["p_value"].as_f64().expect("p") < 1e-6);
        // And the long blanket refusal for "health measures", March to June 2020 (#16,
        // part 3): one attempt a week at most centers, which 7-day windows cannot show;
        // the longer windows do, and the page says how sure in words.
        let spring = episodes
            .iter()
            .find(|e| {
                let (start, end) = (e["start"].as_str().unwrap_or(""), e["end"].as_str().unwrap_or(""));
                ("2020-03-01"..="2020-04-30").contains(&start) && ("2020-05-15"..="2020-07-31").contains(&end)
            })
            .unwrap_or_else(|| panic!("the spring 2020 closing in {episodes:#?}"));
        assert!(spring["organizations"].as_array().expect("orgs").len() >= 3, "{spring}");
        assert!(spring["scale_days"].as_i64().expect("scale") >= 14, "{spring}");
        assert!(spring["certainty"].is_string() && spring["fewer_than_once_in"].as_u64().expect("odds") >= 1000);
        // The statements follow the public record (#21, item 7): the letter dated 28 January
        // 2020, confirmed that evening, SEGOB disowning it the same evening (approximate
        // time), Amnesty International's "on Monday" recorded as its account, each text
        // naming its sources; and the contradictions are still found.
        let get = |path: &str| c.get(format!("{}{path}", server.base)).bearer_auth(&token).send();
        let statements: Value = get("/api/v1/statements").await.expect("get").json().await.expect("json");
        let items = statements["items"].as_array().expect("items");
        let find = |authority: &str, channel: &str| {
            items
                .iter()
                .find(|s| s["authority"] == authority && s["channel"] == channel)
                .unwrap_or_else(|| panic!("{authority} {channel} in {items:?}"))
        };
        let letter = find("inm", "official_letter");
        let segob = find("segob", "press_release");
        // 19:30 and 22:00 in Mexico City on 28 January, already 29 January in UTC.
        assert_eq!(letter["published_at"], "2020-01-29T01:30:00Z");
        assert_eq!(segob["published_at"], "2020-01-29T04:00:00Z");
        assert_eq!(
            (letter["claims"][0]["position"].as_str(), letter["claims"][0]["from"].as_str()),
            (Some("suspended"), Some("2020-01-28"))
        );
        let text = letter["text"].as_str().expect("text");
        for cited in [
            "INM/DGCVM/0118/2020",
            "28-01-2020",
            "\"on Monday\"",
            "27-01-2020",
            "AMR 41/1714/2020, 24-01-2020",
            "Amnistía Internacional, comunicado, 29-01-2020",
        ] {
            assert!(text.contains(cited), "{cited} in {text}");
        }
        assert!(letter["translation"].as_str().is_some_and(|t| t.contains("Sources:")), "{letter}");
        let text = segob["text"].as_str().expect("text");
        assert!(
            text.contains("Hora aproximada")
                && text.contains("declaración de la Secretaría de Gobernación del 28-01-2020"),
            "{text}"
        );
        for s in items {
            assert!(s["text"].as_str().is_some_and(|t| t.contains("Fuentes:") || t.contains("ilustrativa")), "{s}");
        }
        let found: Value = get("/api/v1/contradictions").await.expect("get").json().await.expect("json");
        let found = found["items"].as_array().expect("items");
        let ids = |s: &Value| s["id"].as_i64().expect("id");
        assert!(
            found.iter().any(|d| d["rule"] == "conflict"
                && d["statements"] == serde_json::json!([ids(letter), ids(segob)])
                && d["gap"] == "2 h 30 min"),
            "INM against SEGOB: {found:?}"
        );
        assert!(found.iter().any(|d| d["rule"] == "reversal"), "{found:?}");
        let spokesperson = find("inm", "interview");
        assert!(
            found.iter().any(|d| d["rule"] == "words_against_practice"
                && d["statements"] == serde_json::json!([ids(spokesperson)])
                && d["refusals"].as_u64().is_some_and(|n| n > 0)),
            "words against practice: {found:?}"
        );
        assert_eq!(found.len(), 5, "{found:?}");
        // Facility sources name public references, never a design file.
        let facilities: Value = get("/api/v1/facilities").await.expect("get").json().await.expect("json");
        for f in facilities["items"].as_array().expect("items") {
            let sources = f["sources"].as_str().unwrap_or_default();
            assert!(!sources.contains("DOMAIN") && !sources.contains(".md") && !sources.contains('§'), "{f}");
        }
        // The worker's scan puts it in the inbox.
        let mut found = false;
        for _ in 0..100 {
            let inbox = server.get_json(&token, "/api/v1/alerts").await;
            found = inbox["items"].as_array().expect("items").iter().any(|a| {
                a["kind"] == "episode" && a["payload"]["start"].as_str().is_some_and(|s| s.starts_with("2020-01"))
            });
            if found {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "the January 2020 episode is in the coalition's inbox");
        // The page shows it too.
        let session = reqwest::Client::builder().cookie_store(true).build().expect("c");
        let login = session.get(format!("{}/login", server.base)).send().await.expect("get").text().await.expect("t");
        let csrf = crate::helpers::csrf_of(&login);
        session
            .post(format!("{}/login", server.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "analisis@defensoria.example"),
                ("password", vigia_cli::demo::PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        let page =
            session.get(format!("{}/access/analysis", server.base)).send().await.expect("get").text().await.expect("t");
        assert!(page.contains("Suspected general suspensions"), "the analyst reads English");
        assert!(page.contains("2020-01-14 → 2020-01-25"), "{page}");
    });
    drop(server);
}
