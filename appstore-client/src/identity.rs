//! The user an access token names. user-mgmt signs a JWT whose claims carry `userId`, `userName` (and
//! `user_name`), `authorities` and `exp` (user-mgmt `service/AccessTokenService.java`, `USERINFO_KEY_*` and
//! `enhanceCommonInfo`); appstore-be reads the same claims and refuses any `userId`/`userName` request parameter
//! that differs from them (appstore-be `interfaces/AccessTokenFilter.java`, `checkUserValid`).

use crate::Error;
use crate::model::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The claims read (others are ignored).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    #[serde(default)]
    user_id: Option<serde_json::Value>,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default, rename = "user_name")]
    user_name_oauth: Option<String>,
    #[serde(default)]
    authorities: Vec<String>,
    #[serde(default)]
    exp: Option<u64>,
}

/// The most a token may weigh before it is refused unread (user-mgmt's are under 2 KiB).
const MAX_TOKEN: usize = 64 << 10;

/// Reads the claims of a JWT (`header.payload.signature`, base64url without padding), without checking its
/// signature.
pub(crate) fn decode(token: &str) -> Result<Identity, Error> {
    let bad = |why: &str| Error::Auth(format!("the access token is not a user-mgmt JWT: {why}"));
    if token.len() > MAX_TOKEN {
        return Err(bad("it is too long"));
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("it does not have three dot-separated parts"));
    };
    // Some encoders pad; base64url without padding is the JWT form (RFC 7515 §2).
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("its payload is not base64url"))?;
    let claims: Claims = serde_json::from_slice(&bytes)
        .map_err(|e| bad(&format!("its payload is not JSON: {e}")))?;
    let user_id = match claims.user_id {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err(bad("it has no userId claim")),
    };
    let user_name = claims
        .user_name
        .or(claims.user_name_oauth)
        .ok_or_else(|| bad("it has no userName claim"))?;
    Ok(Identity {
        user_id,
        user_name,
        authorities: claims.authorities,
        expires_at: claims.exp,
    })
}

/// Whether `s` is what appstore-be takes as a user id: a lowercase UUID (`Consts.REG_USER_ID`,
/// `[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}`).
pub(crate) fn is_lowercase_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default())
        )
    }

    #[test]
    fn reads_user_mgmt_claims() {
        let t = jwt(
            &serde_json::json!({"user_name": "tenant", "userName": "tenant",
            "userId": "39937079-99fe-4cd8-881f-04ca8c4fe09d", "authorities": ["ROLE_APPSTORE_TENANT", "ROLE_ATP_TENANT"],
            "jti": "x", "exp": 1_700_000_000u64, "scope": ["all"]}),
        );
        let id = decode(&t).map_err(|e| e.to_string());
        assert_eq!(
            id.as_ref()
                .map(|i| (i.user_id.as_str(), i.user_name.as_str(), i.expires_at)),
            Ok((
                "39937079-99fe-4cd8-881f-04ca8c4fe09d",
                "tenant",
                Some(1_700_000_000)
            ))
        );
        assert!(
            id.as_ref()
                .is_ok_and(|i| i.is_tenant() && !i.is_admin() && !i.is_guest())
        );
        // The OAuth form carries only user_name.
        let t = jwt(
            &serde_json::json!({"user_name": "admin", "userId": "a", "authorities": ["ROLE_APPSTORE_ADMIN"]}),
        );
        assert!(decode(&t).is_ok_and(|i| i.user_name == "admin" && i.is_admin()));
    }

    #[test]
    fn refuses_what_is_not_a_jwt() {
        let tokens = [
            "plain".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "a.!!!.c".to_owned(),
            format!("a.{}.c", URL_SAFE_NO_PAD.encode(b"not json")),
            jwt(&serde_json::json!({"userName": "x"})),
            jwt(&serde_json::json!({"userId": "x"})),
        ];
        for t in &tokens {
            let e = decode(t).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("not a user-mgmt JWT"), "{t}: {e}");
        }
        assert!(decode(&"a".repeat(MAX_TOKEN + 1)).is_err());
    }

    #[test]
    fn user_ids_are_lowercase_uuids() {
        assert!(is_lowercase_uuid("39937079-99fe-4cd8-881f-04ca8c4fe09d"));
        for bad in [
            "39937079-99FE-4cd8-881f-04ca8c4fe09d",
            "3993707999fe4cd8881f04ca8c4fe09d",
            "u1",
            "39937079-99fe-4cd8-881f-04ca8c4fe09",
            "39937079-99fe-4cd8-881f_04ca8c4fe09d",
        ] {
            assert!(!is_lowercase_uuid(bad), "{bad}");
        }
    }
}
