//! The demo's authentication: `Authorization: Bearer demo-<uid>` signs in
//! user `<uid>`. Every framework module runs it as middleware on every route,
//! after lookout's layer, and hands the user to lookout's `identify`.
//!
//! A real service would verify a token here; what matters for lookout is
//! only the call to `identify` once the user is known.

use lookout::scope::User;

/// The user a request's `Authorization` header signs in, if any.
///
/// `demo-<uid>` gives id `<uid>`, email `<uid>@example.com`, username
/// `<uid>`, role `admin` when `<uid>` starts with `admin`, else `user`.
pub(crate) fn demo_user(authorization: Option<&str>) -> Option<User> {
    let token = authorization?.trim().strip_prefix("Bearer ")?.trim();
    let uid = token.strip_prefix("demo-")?;
    if uid.is_empty() {
        return None;
    }
    let role = if uid.starts_with("admin") {
        "admin"
    } else {
        "user"
    };
    Some(
        User::id(uid)
            .email(format!("{uid}@example.com"))
            .username(uid)
            .role(role),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_demo_tokens_sign_in() {
        let ada = demo_user(Some("Bearer demo-admin-ada")).unwrap();
        assert_eq!(ada.id.as_deref(), Some("admin-ada"));
        assert_eq!(ada.email.as_deref(), Some("admin-ada@example.com"));
        assert_eq!(ada.username.as_deref(), Some("admin-ada"));
        assert_eq!(ada.role.as_deref(), Some("admin"));
        let bob = demo_user(Some("Bearer demo-bob")).unwrap();
        assert_eq!(bob.role.as_deref(), Some("user"));
    }

    #[test]
    fn anything_else_is_anonymous() {
        for header in [
            None,
            Some(""),
            Some("Bearer demo-"),
            Some("Basic demo-bob"),
            Some("Bearer bob"),
        ] {
            assert!(demo_user(header).is_none(), "{header:?}");
        }
    }
}
