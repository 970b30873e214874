//! Who may read an organization's record: the one rule every list, count and alert
//! follows. A record is its organization's; when the organization shares it (an access
//! attempt with coalition visibility, its daily counts), every organization that belongs
//! to a coalition with the owner may read it too. Nothing else: a coalition is not
//! transitive (A–B and B–C do not make A and C partners), and a private record is seen
//! by its organization only.
//!
//! The store's SQL filters (`VISIBLE_TO`, `DAILY_VISIBLE_TO`) and the analysis read
//! model must agree with [`may_read`]; a store test checks the SQL against it on random
//! data.

use std::collections::{BTreeMap, BTreeSet};

/// For each organization, the organizations it shares at least one coalition with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partners {
    by_org: BTreeMap<i64, BTreeSet<i64>>,
}

impl Partners {
    /// From each coalition's member list.
    pub fn from_coalitions<'a>(coalitions: impl IntoIterator<Item = &'a [i64]>) -> Partners {
        let mut by_org: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for members in coalitions {
            for a in members {
                for b in members.iter().filter(|b| *b != a) {
                    by_org.entry(*a).or_default().insert(*b);
                }
            }
        }
        Partners { by_org }
    }

    /// Whether `a` and `b` (two different organizations) share a coalition.
    pub fn are_partners(&self, a: i64, b: i64) -> bool {
        a != b && self.by_org.get(&a).is_some_and(|p| p.contains(&b))
    }

    /// The organizations `org` shares a coalition with.
    pub fn of(&self, org: i64) -> impl Iterator<Item = i64> + '_ {
        self.by_org.get(&org).into_iter().flatten().copied()
    }
}

/// May organization `viewer` read a record of organization `owner`, shared or not?
pub fn may_read(viewer: i64, owner: i64, shared: bool, partners: &Partners) -> bool {
    viewer == owner || (shared && partners.are_partners(viewer, owner))
}

/// Every organization that may read a record of `owner`, shared or not: the owner first,
/// then, when shared, each organization it shares a coalition with. Whoever is told of a
/// record (a refusal's alert, its webhooks, its e-mails) is exactly these.
pub fn readers(owner: i64, shared: bool, partners: &Partners) -> Vec<i64> {
    let mut out = vec![owner];
    if shared {
        out.extend(partners.of(owner));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_coalitions() -> impl Strategy<Value = Vec<Vec<i64>>> {
        proptest::collection::vec(proptest::collection::vec(1i64..8, 0..5), 0..4)
    }

    #[test]
    fn partners_are_the_members_of_a_shared_coalition_and_nothing_more() {
        let p = Partners::from_coalitions([&[1, 2][..], &[2, 3][..]]);
        assert!(p.are_partners(1, 2) && p.are_partners(2, 3));
        assert!(!p.are_partners(1, 3), "not transitive");
        assert!(!p.are_partners(1, 1), "an organization is its own owner, not its partner");
        assert!(may_read(1, 2, true, &p) && !may_read(1, 2, false, &p) && !may_read(1, 3, true, &p));
        assert_eq!(p.of(2).collect::<Vec<_>>(), [1, 3]);
    }

    proptest! {
        #[test]
        fn the_rule_holds_for_any_coalitions(coalitions in any_coalitions(), viewer in 1i64..8, owner in 1i64..8, shared in any::<bool>()) {
            let p = Partners::from_coalitions(coalitions.iter().map(Vec::as_slice));
            let together = coalitions.iter().any(|c| c.contains(&viewer) && c.contains(&owner));
            // Its own organization always reads it; a private record no one else.
            prop_assert!(may_read(owner, owner, shared, &p));
            if viewer != owner {
                prop_assert_eq!(may_read(viewer, owner, shared, &p), shared && together);
                // Sharing is mutual: partners read each other's shared records.
                prop_assert_eq!(may_read(viewer, owner, true, &p), may_read(owner, viewer, true, &p));
            }
        }

        #[test]
        fn those_told_of_a_record_are_exactly_those_who_may_read_it(coalitions in any_coalitions(), owner in 1i64..8, shared in any::<bool>()) {
            let p = Partners::from_coalitions(coalitions.iter().map(Vec::as_slice));
            let told = readers(owner, shared, &p);
            prop_assert_eq!(told.first(), Some(&owner));
            let unique: BTreeSet<i64> = told.iter().copied().collect();
            prop_assert_eq!(unique.len(), told.len(), "nobody is told twice");
            for viewer in 0i64..9 {
                prop_assert_eq!(told.contains(&viewer), may_read(viewer, owner, shared, &p), "viewer {}", viewer);
            }
        }
    }
}
