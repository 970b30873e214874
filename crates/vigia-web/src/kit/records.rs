//! The records other features point at, found as the viewer may see them: facility and
//! organization names for labels, an access attempt the viewer may read or change, a
//! case of the viewer's organization. Evidence files, alerts and analyses attach to
//! these without reaching into the features that own them.

use std::collections::HashMap;

use vigia_domain::access::Attempt;
use vigia_domain::account::{Permission, User};
use vigia_domain::case::Case;
use vigia_domain::facility::Facility;

use crate::auth::{Ctx, Via};
use crate::error::WebError;
use crate::state::AppState;

/// Facilities and organizations by id, for labelling lists.
pub async fn names(st: &AppState) -> Result<(HashMap<i64, Facility>, HashMap<i64, String>), WebError> {
    let facilities = st.store.list_facilities().await?.into_iter().map(|f| (f.id, f)).collect();
    let orgs = st.store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect();
    Ok((facilities, orgs))
}

/// The attempt if visible, and whether the viewer may edit it: another organization's
/// shared attempt is readable (403 on edit); a private one is not found.
pub async fn visible(st: &AppState, ctx: &Ctx, id: &str) -> Result<Attempt, WebError> {
    let user = ctx.require_user()?;
    let id = crate::kit::parse_id(id)?;
    st.store.attempt(user.org_id, id).await?.ok_or(WebError::NotFound)
}

pub fn editable(ctx: &Ctx, a: &Attempt) -> Result<(), WebError> {
    let user = ctx.require(Permission::RecordAccess)?;
    if a.org_id != user.org_id {
        return Err(WebError::Forbidden);
    }
    Ok(())
}

/// The case if it is the viewer's organization's, then the permission: another
/// organization's case is not found for everyone, so ids cannot be probed.
pub async fn owned(st: &AppState, ctx: &Ctx, id: &str, p: Permission) -> Result<(User, Case), WebError> {
    if ctx.via == Via::BadBearer {
        return Err(WebError::Unauthorized);
    }
    let user = ctx.require_user()?.clone();
    let id = crate::kit::parse_id(id)?;
    let c = st.store.case(user.org_id, id).await?.ok_or(WebError::NotFound)?;
    ctx.require(p)?;
    Ok((user, c))
}
