//! Evidence suggested for recommendations where the rule is clear: a visit that found
//! children detained goes with recommendations about children in detention; one that
//! found overcrowding with those about conditions of detention; people held past the
//! legal limit with those about deprivation of liberty and its length; a refused visit
//! with those about access for civil society and monitoring. A suggestion is only
//! offered: an organization links it with one click, or not.

use super::RecommendationDraft;

/// What a piece of evidence shows, in the terms the rules match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shows {
    ChildrenDetained,
    Overcrowding,
    HeldBeyondLimit,
    AccessRefused,
}

fn words(r: &RecommendationDraft) -> String {
    let mut all = r.themes.join(" ");
    all.push(' ');
    all.push_str(&r.affected_persons.join(" "));
    all.push(' ');
    all.push_str(&r.text);
    all.to_lowercase()
}

/// Whether a recommendation is about what the evidence shows. Both the themes (the
/// UHRI's English vocabulary) and the text are read, in English and Spanish.
pub fn matches(r: &RecommendationDraft, shows: Shows) -> bool {
    let w = words(r);
    let any = |list: &[&str]| list.iter().any(|k| w.contains(k));
    let detention = any(&[
        "detention",
        "deprivation of liberty",
        "detenci",
        "privación de la libertad",
        "estaciones migratorias",
        "migration station",
    ]);
    let places = any(&[
        "migration station",
        "estaciones migratorias",
        "places of detention",
        "lugares de detención",
        "detention centre",
        "detention center",
    ]);
    match shows {
        Shows::ChildrenDetained => {
            detention && any(&["child", "niñ", "adolescen", "minors", "unaccompanied", "no acompañad"])
        }
        Shows::Overcrowding => {
            any(&["overcrowd", "hacinamiento", "conditions of detention", "condiciones de detención", "sobrepoblación"])
        }
        Shows::HeldBeyondLimit => {
            detention
                && any(&["length of", "duration", "plazo", "duración", "último recurso", "last resort", "shortest"])
        }
        Shows::AccessRefused => {
            (any(&["civil society", "sociedad civil", "non-governmental", "organizaciones"]) || places)
                && any(&["access", "acceso", "visit", "monitor"])
                && (places || detention)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str, themes: &[&str]) -> RecommendationDraft {
        RecommendationDraft {
            annotation_id: "x".into(),
            body: "CMW".into(),
            symbol: "CMW/C/MEX/CO/3".into(),
            paragraph: "38(a)".into(),
            published_on: None,
            text: text.into(),
            language: "en".into(),
            summary: false,
            kind: String::new(),
            themes: themes.iter().map(|t| t.to_string()).collect(),
            affected_persons: vec![],
            sdgs: vec![],
            countries: vec![],
            upr_states: vec![],
            upr_position: None,
            upr_session: None,
        }
    }

    #[test]
    fn children_detained_goes_with_child_detention_and_not_with_access() {
        let child =
            rec("38. (a) End the detention of children and families", &["Children's rights", "Deprivation of liberty"]);
        let access = rec("124.1. Guarantee civil society organizations access to migration stations", &[]);
        assert!(matches(&child, Shows::ChildrenDetained));
        assert!(!matches(&access, Shows::ChildrenDetained));
        assert!(matches(&access, Shows::AccessRefused));
        assert!(!matches(&child, Shows::Overcrowding));
        let education =
            rec("12. Ensure access to education for migrant children and monitor progress", &["Right to education"]);
        assert!(!matches(&education, Shows::AccessRefused), "access to education is not access for monitors");
        assert!(!matches(&education, Shows::ChildrenDetained));
        let resources = rec("5. Use the maximum of available resources", &[]);
        assert!(!matches(&resources, Shows::HeldBeyondLimit));
    }
}
