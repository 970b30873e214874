//! A map of Mexico drawn on the server as SVG: the vendored state outlines
//! (`@svg-maps/mexico`, CC BY 4.0) and a dot per facility colored by its latest access
//! outcome. No tile server, no JavaScript; it prints and saves as an image.

use std::fmt::Write;
use std::sync::LazyLock;

use crate::kit::esc;
use vigia_domain::geo;

const SVG: &str = include_str!("../../static/vendor/svg-maps-mexico/mexico.svg");

/// (map id, state name, path data) for each state in the drawing.
static STATES: LazyLock<Vec<(String, String, String)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    let mut rest = SVG;
    while let Some(i) = rest.find("<path") {
        rest = &rest[i + 5..];
        let end = rest.find("/>").unwrap_or(rest.len());
        let tag = &rest[..end];
        // An attribute is its name after white space (so `d` is not found inside `id`).
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.match_indices(&key)
                .find(|(j, _)| tag[..*j].ends_with(char::is_whitespace))
                .and_then(|(j, _)| tag[j + key.len()..].split('"').next())
                .map(str::to_string)
        };
        if let (Some(id), Some(d)) = (attr("id"), attr("d")) {
            out.push((id, attr("aria-label").unwrap_or_default(), d));
        }
        rest = &rest[end..];
    }
    out
});

/// A point to draw: where, its outcome class (for the color) and its label.
pub struct Dot {
    pub lat: f64,
    pub lon: f64,
    pub class: &'static str,
    pub label: String,
    /// The facility's page: each point is a link, reached by keyboard and tapped on a phone.
    pub href: String,
    /// Part of a period flagged as a possible general suspension: ringed.
    pub flagged: bool,
}

/// The map as an SVG element, titled for screen readers.
pub fn render(title: &str, dots: &[Dot]) -> String {
    let mut s = String::with_capacity(SVG.len() + dots.len() * 200);
    let _ = write!(
        s,
        r#"<svg class="map" viewBox="0 0 793 530" role="group" aria-labelledby="map-title" xmlns="http://www.w3.org/2000/svg"><title id="map-title">{}</title>"#,
        esc(title)
    );
    for (id, name, d) in STATES.iter() {
        let _ = write!(
            s,
            r##"<path id="state-{}" d="{}" fill="#e6ebf0" stroke="#ffffff" stroke-width="1"><title>{}</title></path>"##,
            esc(id),
            esc(d),
            esc(name)
        );
    }
    for dot in dots {
        let (x, y) = geo::map_point(dot.lat, dot.lon);
        if dot.flagged {
            let _ = write!(
                s,
                r##"<circle class="flagged" cx="{x:.1}" cy="{y:.1}" r="13" fill="#f4d7d7" stroke="#b3261e" stroke-width="2" stroke-dasharray="3 2"/>"##
            );
        }
        let _ = write!(
            s,
            // A transparent disc around the dot is what a finger hits: 24 CSS px across on
            // a 412-px phone, where the drawing is shown at about half its size.
            r##"<a href="{}" aria-label="{}" class="map-point"><circle cx="{x:.1}" cy="{y:.1}" r="24" fill="transparent"/><circle class="dot-{}" cx="{x:.1}" cy="{y:.1}" r="7" fill="{}" stroke="#1d232a" stroke-width="1"><title>{}</title></circle></a>"##,
            esc(&dot.href),
            esc(&dot.label),
            dot.class,
            color(dot.class),
            esc(&dot.label)
        );
    }
    s.push_str(
        r##"<text x="4" y="522" font-size="11" fill="#5a6570">Mapa: @svg-maps/mexico (CC BY 4.0)</text></svg>"##,
    );
    s
}

fn color(class: &str) -> &'static str {
    match class {
        "granted" => "#2e7d32",
        "partial" => "#f9a825",
        "refused" => "#c62828",
        _ => "#9aa5b1",
    }
}

/// The class of an outcome for the map's colors.
pub fn class_of(outcome: Option<vigia_domain::access::Outcome>) -> &'static str {
    use vigia_domain::access::Outcome::*;
    match outcome {
        None => "none",
        Some(Granted) => "granted",
        Some(PartiallyGranted | Delayed) => "partial",
        Some(Denied | NoResponse | CancelledByAuthority) => "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outline of a state as polygons, from its path data (the drawing uses only
    /// move, line, horizontal, vertical and close commands).
    fn polygons(d: &str) -> Vec<Vec<(f64, f64)>> {
        let mut toks = Vec::new();
        let mut num = String::new();
        for ch in d.chars() {
            if ch.is_ascii_alphabetic() && ch != 'e' {
                if !num.is_empty() {
                    toks.push(std::mem::take(&mut num));
                }
                toks.push(ch.to_string());
            } else if ch == ',' || ch.is_whitespace() {
                if !num.is_empty() {
                    toks.push(std::mem::take(&mut num));
                }
            } else if ch == '-' && !num.is_empty() && !num.ends_with('e') {
                toks.push(std::mem::take(&mut num));
                num.push(ch);
            } else {
                num.push(ch);
            }
        }
        if !num.is_empty() {
            toks.push(num);
        }
        let (mut x, mut y, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut cmd = 'm';
        let mut polys = Vec::new();
        let mut cur: Vec<(f64, f64)> = Vec::new();
        let mut i = 0;
        let n = |i: usize| toks[i].parse::<f64>().expect("number");
        while i < toks.len() {
            if let Some(c) = toks[i].chars().next().filter(|c| c.is_ascii_alphabetic()) {
                cmd = c;
                i += 1;
                if matches!(cmd, 'z' | 'Z') {
                    x = sx;
                    y = sy;
                    polys.push(std::mem::take(&mut cur));
                    continue;
                }
            }
            match cmd {
                'm' | 'M' => {
                    let (a, b) = (n(i), n(i + 1));
                    i += 2;
                    if cmd == 'm' {
                        x += a;
                        y += b
                    } else {
                        x = a;
                        y = b
                    }
                    if !cur.is_empty() {
                        polys.push(std::mem::take(&mut cur));
                    }
                    cur.push((x, y));
                    sx = x;
                    sy = y;
                    cmd = if cmd == 'm' { 'l' } else { 'L' };
                }
                'l' | 'L' => {
                    let (a, b) = (n(i), n(i + 1));
                    i += 2;
                    if cmd == 'l' {
                        x += a;
                        y += b
                    } else {
                        x = a;
                        y = b
                    }
                    cur.push((x, y));
                }
                'h' | 'H' => {
                    let a = n(i);
                    i += 1;
                    x = if cmd == 'h' { x + a } else { a };
                    cur.push((x, y));
                }
                'v' | 'V' => {
                    let a = n(i);
                    i += 1;
                    y = if cmd == 'v' { y + a } else { a };
                    cur.push((x, y));
                }
                other => panic!("unexpected path command {other}"),
            }
        }
        if !cur.is_empty() {
            polys.push(cur);
        }
        polys
    }

    fn inside((x, y): (f64, f64), polys: &[Vec<(f64, f64)>]) -> bool {
        let mut c = false;
        for p in polys {
            for i in 0..p.len() {
                let (x1, y1) = p[i];
                let (x2, y2) = p[(i + 1) % p.len()];
                if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
                    c = !c;
                }
            }
        }
        c
    }

    #[test]
    fn every_state_is_drawn_and_named_by_inegi_order() {
        let ids: Vec<&str> = STATES.iter().map(|(id, _, _)| id.as_str()).collect();
        for id in geo::MAP_IDS {
            assert!(ids.contains(&id), "{id}");
        }
        assert_eq!(STATES.len(), 32);
    }

    #[test]
    fn cities_fall_inside_their_own_state() {
        // Capitals and border cities, by INEGI state code.
        let cities = [
            ("09", 19.43, -99.13),
            ("31", 20.97, -89.62),
            ("19", 25.67, -100.31),
            ("07", 16.75, -93.12),
            ("07", 14.90, -92.26),
            ("03", 24.14, -110.31),
            ("26", 29.07, -110.96),
            ("14", 20.67, -103.35),
            ("30", 19.17, -96.13),
            ("27", 17.99, -92.93),
            ("23", 18.50, -88.30),
            ("08", 28.63, -106.07),
            ("21", 19.04, -98.21),
            ("02", 32.62, -115.45),
            ("28", 25.87, -97.50),
            ("20", 17.07, -96.72),
            ("12", 17.55, -99.50),
            ("16", 19.70, -101.19),
            ("32", 22.77, -102.58),
            ("24", 22.15, -100.98),
        ];
        for (code, lat, lon) in cities {
            let idx: usize = code.parse::<usize>().expect("code") - 1;
            let id = geo::MAP_IDS[idx];
            let d = &STATES.iter().find(|(i, _, _)| i == id).expect("state").2;
            assert!(inside(geo::map_point(lat, lon), &polygons(d)), "{lat},{lon} should be in {id}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let svg = render(
            "Mapa <de> acceso",
            &[Dot {
                flagged: false,
                lat: 19.4,
                lon: -99.1,
                class: "refused",
                label: "\"<script>\"".into(),
                href: "/facilities/1\" onclick=\"x".into(),
            }],
        );
        assert!(svg.contains("Mapa &lt;de&gt; acceso") && svg.contains("&quot;&lt;script&gt;&quot;"));
        assert!(!svg.contains("<script>") && !svg.contains("\" onclick"));
        assert!(svg.contains("<a href=\"/facilities/1&quot; onclick=&quot;x\" aria-label="), "each point is a link");
    }
}
