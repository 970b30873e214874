//! Webhook deliveries: sent from the durable queue by the worker ([`crate::worker`]).
//!
//! A delivery is `POST`ed as JSON with `X-Vigia-Delivery` (its id, stable across
//! retries), `X-Vigia-Timestamp` (Unix seconds) and `X-Vigia-Signature:
//! v2=HEX(HMAC-SHA256(secret, "{timestamp}.{delivery id}.{body}"))`. Receivers check the
//! signature, refuse stale timestamps and remember the delivery ids they have handled,
//! so a captured request replayed within the tolerance is recognised (the id is signed,
//! issue #22 finding 9). Deliveries go over https only, unless the operator allowed the
//! host (a receiver on their own network). Any 2xx answer delivers it; anything else retries after
//! `retry_base` (10 s) × 2^attempts, at most an hour; after 8 attempts it is marked failed. Leases
//! make several servers share the queue; a crash mid-send only delays the delivery.
//! Deliveries go only to public addresses unless the operator allowed the host
//! ([`destination`]), and redirects are never followed.
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vigia_store::{now_micros, DeliveryOutcome, DueDelivery, DynStore};

pub const MAX_ATTEMPTS: i64 = 8;

/// Deliveries claimed at a time. They are sent one after another under one lease, so
/// the lease must outlast the longest the whole batch can take: a claim of twenty under
/// a minute's lease, each send allowed ten seconds, let a slow receiver run the lease
/// out halfway through the batch, and another server claimed and sent the rest too.
pub const BATCH: i64 = 3;

/// How long deliveries are held by the server that claimed them: twice the longest a
/// batch can take (each send, name lookup included, is cut off at `send_limit`). A
/// server that dies mid-batch delays its deliveries by this much; none is lost.
pub fn lease(send_limit: Duration) -> Duration {
    send_limit * (2 * BATCH as u32)
}

/// `v2=` and the hex HMAC of `"{timestamp}.{delivery}.{body}"`: the time, the delivery's
/// id and the body, so neither a body nor a replayed id can be passed off as another.
pub fn signature(secret: &str, timestamp: i64, delivery: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        // HMAC accepts keys of any length; this branch cannot be reached.
        <Hmac<Sha256> as Mac>::new_from_slice(b"-").expect("static key")
    });
    mac.update(format!("{timestamp}.{delivery}.{body}").as_bytes());
    format!("v2={}", hex::encode(mac.finalize().into_bytes()))
}

/// When to try again after `attempts` failed tries: `base` × 2^attempts, at most an hour.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    (base * (1u32 << attempts.clamp(0, 16) as u32)).min(Duration::from_secs(3600))
}

/// Where a delivery may be sent: its host and the checked address to connect to. The
/// name is resolved here, at send time, and every address it resolves to must be
/// public unless the operator allowed the host (`vigia_domain::webhook`); the
/// connection is then pinned to the checked address, so a second lookup cannot swap
/// it for an internal one. The reason is what the delivery log shows: it never says
/// what an internal address answered, since none is contacted.
pub async fn destination(url: &str, allowed: &[String]) -> Result<(String, std::net::SocketAddr), &'static str> {
    let u = url::Url::parse(url).map_err(|_| "refused: the URL does not parse")?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("refused: only http and https URLs are sent to");
    }
    let host = u.host_str().ok_or("refused: the URL has no host")?.to_string();
    let allowed = vigia_domain::webhook::is_allowed_host(&host, allowed);
    let port = u.port_or_known_default().ok_or("refused: the URL has no port")?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port)).await.map_err(|_| "the host name does not resolve")?.collect(),
    };
    let first = *addrs.first().ok_or("the host name does not resolve")?;
    if !allowed && addrs.iter().any(|a| !vigia_domain::webhook::is_public(a.ip())) {
        return Err("refused: the destination is not a public address (an operator can allow the host)");
    }
    if u.scheme() == "http" && !allowed {
        return Err("refused: only https URLs are sent to (an operator can allow a host over http)");
    }
    Ok((host, first))
}

/// One try, cut off after `limit` whatever it was doing (a name lookup has no timeout
/// of its own).
async fn send(d: &DueDelivery, retry_base: Duration, allowed: &[String], limit: Duration) -> DeliveryOutcome {
    match tokio::time::timeout(limit, try_send(d, retry_base, allowed, limit)).await {
        Ok(outcome) => outcome,
        Err(_) => failed(d, None, format!("no answer within {:.1} s", limit.as_secs_f64()), retry_base),
    }
}

async fn try_send(d: &DueDelivery, retry_base: Duration, allowed: &[String], limit: Duration) -> DeliveryOutcome {
    let (host, addr) = match destination(&d.url, allowed).await {
        Ok(t) => t,
        Err(why) => return failed(d, None, why.to_string(), retry_base),
    };
    // A client per delivery: it connects only to the address just checked, follows no
    // redirect, and gives up after `limit`.
    let client = match reqwest::Client::builder()
        .timeout(limit)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment would resolve the name itself, undoing the pin.
        .no_proxy()
        .resolve(&host, addr)
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(d, None, e.to_string(), retry_base),
    };
    let ts = now_micros() / 1_000_000;
    let result = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("user-agent", "Vigia-Webhook/1")
        .header("x-vigia-delivery", d.id.to_string())
        .header("x-vigia-timestamp", ts.to_string())
        .header("x-vigia-signature", signature(&d.secret, ts, d.id, &d.payload))
        .body(d.payload.clone())
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => DeliveryOutcome::Delivered { status: i64::from(r.status().as_u16()) },
        Ok(r) => failed(d, Some(i64::from(r.status().as_u16())), format!("HTTP {}", r.status()), retry_base),
        Err(e) => failed(d, None, e.without_url().to_string(), retry_base),
    }
}

/// A failed try: retried later, or given up after [`MAX_ATTEMPTS`].
fn failed(d: &DueDelivery, status: Option<i64>, error: String, retry_base: Duration) -> DeliveryOutcome {
    if d.attempts + 1 >= MAX_ATTEMPTS {
        DeliveryOutcome::Failed { status, error }
    } else {
        let next_at = now_micros() + backoff(retry_base, d.attempts).as_micros() as i64;
        DeliveryOutcome::Retry { status, error, next_at }
    }
}

/// Sends a batch of due deliveries once each, each try cut off after `send_limit`;
/// returns how many were attempted.
pub async fn deliver_due(store: &DynStore, retry_base: Duration, allowed: &[String], send_limit: Duration) -> usize {
    let claimed = std::time::Instant::now();
    let due = match store.claim_deliveries(now_micros(), lease(send_limit).as_micros() as i64, BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot claim webhook deliveries");
            return 0;
        }
    };
    for d in &due {
        // A send starts only while the lease will outlast it (waits for the database can
        // take the time the arithmetic left): the rest are sent by whoever claims them
        // once the lease runs out.
        if claimed.elapsed() + send_limit >= lease(send_limit) {
            break;
        }
        let outcome = send(d, retry_base, allowed, send_limit).await;
        match store.finish_delivery(d.id, d.lease_until, outcome, now_micros()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(delivery = d.id, "a delivery's lease ran out before its outcome was recorded"),
            Err(e) => tracing::error!(error = %e, delivery = d.id, "cannot record a delivery's outcome"),
        }
    }
    due.len()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_the_delivery_and_the_body() {
        let s = signature("k", 1, 5, "{}");
        assert!(s.starts_with("v2=") && s.len() == 3 + 64);
        assert_ne!(s, signature("k", 2, 5, "{}"));
        assert_ne!(s, signature("k", 1, 6, "{}"), "another delivery id");
        assert_ne!(s, signature("k", 1, 5, "{ }"));
        assert_ne!(s, signature("j", 1, 5, "{}"));
        assert_ne!(signature("k", 1, 15, "{}"), signature("k", 11, 5, "{}"), "fields do not run together");
    }

    #[tokio::test]
    async fn internal_destinations_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.7/",
            "http://[::ffff:192.168.0.1]/",
            "http://localhost:8080/",
            "ftp://example.org/",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "http://8.8.8.8/hook",
        ] {
            assert!(destination(url, &[]).await.is_err(), "{url}");
        }
        let allowed = vec!["127.0.0.1".to_string()];
        let (host, addr) = destination("http://127.0.0.1:9/hook", &allowed).await.expect("allowed by name");
        assert_eq!((host.as_str(), addr.port()), ("127.0.0.1", 9));
        assert!(destination("https://8.8.8.8/hook", &[]).await.is_ok(), "a public address needs no allowance");
        let why = destination("http://8.8.8.8/hook", &[]).await.expect_err("plain http");
        assert!(why.contains("only https"), "{why}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 0), Duration::from_secs(10));
        assert_eq!(backoff(base, 1), Duration::from_secs(20));
        assert!(backoff(base, 3) > backoff(base, 2));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }
}
