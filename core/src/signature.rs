//! The AK/SK request signature of EdgeGallery's MEP-auth (`SDK-HMAC-SHA256`).
//!
//! An app proves it holds a secret key (SK) by signing its token request with HMAC-SHA256 over a canonical
//! form of the request; MEP-auth rebuilds the same canonical form and compares. The algorithm, as EdgeGallery's
//! `mep` (`mepauth/util/sign.go`, `mepauth/controllers/token.go`) and `mep-agent` (`src/util/sign.go`)
//! compute it:
//!
//! 1. `x-sdk-date` header = the UTC time as `YYYYMMDDTHHMMSSZ`.
//! 2. Canonical request = `\n`-joined: method; canonical URI (the decoded path split on `/`, empty, `.` and `..`
//!    segments dropped, each segment escaped as Go's `url.QueryEscape` does, joined with `/`, with a leading and
//!    a trailing `/`); canonical query (each `key=value` pair escaped the same way, sorted, joined with `&`);
//!    canonical headers (`name:value` per signed header, lowercase names, sorted, each followed by `\n`); the
//!    signed header names, sorted, joined with `;`; and the hex SHA-256 of the body.
//! 3. String to sign = `SDK-HMAC-SHA256\n<x-sdk-date>\n<hex SHA-256 of the canonical request>`.
//! 4. Signature = hex HMAC-SHA256 of the string to sign, keyed with the SK's bytes.
//! 5. `Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>`.
//!
//! [`Signer`] signs (client side); [`Verifier`] checks (server side) and goes further than EdgeGallery: the
//! comparison is constant-time, the date must fall within a bounded window around the verifier's clock (so a
//! captured request cannot be replayed later), `host` and `x-sdk-date` must be among the signed headers, and the
//! real body is hashed (EdgeGallery hashes an empty body; token requests have none, so both agree).
//!
//! ```
//! use mec_core::signature::{Credentials, Signer, Verifier};
//! use mec_core::ManualClock;
//! use http::{HeaderMap, Method, Uri};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let creds = Credentials::new("QVUJMSUMgS0VZLS0tLS0", "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc");
//! let now = UNIX_EPOCH + Duration::from_secs(1_614_714_693); // 2021-03-02T19:51:33Z
//!
//! let uri: Uri = "https://119.8.47.5:30443/mep/token".parse().unwrap();
//! let mut headers = HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! Signer::new(creds.clone()).sign(&Method::POST, &uri, &mut headers, b"", now);
//! assert!(headers["authorization"].to_str().unwrap().ends_with(
//!     "Signature=b726e5f20b4a1520efb455a60127bfe076c2917b51cecb8fddd49ba1d37019b8"));
//!
//! let verifier = Verifier::new([creds], ManualClock::new(now));
//! let ok = verifier.verify(&Method::POST, &uri, &headers, b"").unwrap();
//! assert_eq!(ok.access_key, "QVUJMSUMgS0VZLS0tLS0");
//! ```

use crate::time::{Clock, format_sdk_date, parse_sdk_date};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;

/// The signature algorithm's name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header that carries the signing time.
pub const DATE_HEADER: &str = "x-sdk-date";
/// The headers EdgeGallery's clients sign, in canonical order.
pub const DEFAULT_SIGNED_HEADERS: [&str; 3] = ["content-type", "host", DATE_HEADER];
/// The default bound on the distance between a request's `x-sdk-date` and the verifier's clock.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Go's `url.QueryEscape`: everything but `A-Za-z0-9-_.~` is `%XX`-escaped (space is handled apart).
const QUERY_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An access key (AK) and its secret key (SK). `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key: String,
    secret_key: String,
}

impl Credentials {
    /// Credentials from an access key and a secret key, taken as given.
    ///
    /// EdgeGallery's MEP-auth only accepts a 20-character AK and a 64-character SK over `[A-Za-z0-9_+/=]`;
    /// [`is_edgegallery_compatible`](Self::is_edgegallery_compatible) tells whether these fit.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        }
    }

    /// The access key (AK), the public half.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key (SK). Keep it out of logs.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// Whether the AK is 20 and the SK 64 characters of `[A-Za-z0-9_+/=]`, as EdgeGallery requires.
    pub fn is_edgegallery_compatible(&self) -> bool {
        let ok = |s: &str, len: usize| s.len() == len && s.bytes().all(is_key_byte);
        ok(&self.access_key, 20) && ok(&self.secret_key, 64)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'/' | b'=')
}

/// Escapes a string as Go's `url.QueryEscape` does (space becomes `+`).
pub fn query_escape(s: &str) -> String {
    utf8_percent_encode(s, QUERY_ESCAPE)
        .to_string()
        .replace("%20", "+")
}

/// The canonical URI of a (percent-encoded) request path: `/mep/token` becomes `/mep/token/`.
pub fn canonical_uri(path: &str) -> String {
    let mut out = String::from("/");
    for segment in path.split('/').filter(|s| !matches!(*s, "" | "." | "..")) {
        let decoded = percent_decode_str(segment).decode_utf8_lossy();
        out.push_str(&query_escape(&decoded));
        out.push('/');
    }
    out
}

/// The canonical query of a raw query string (without `?`): pairs decoded, re-escaped, sorted, joined with `&`.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<String> = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| format!("{}={}", query_escape(&k), query_escape(&v)))
        .collect();
    pairs.sort_unstable();
    pairs.join("&")
}

/// The canonical headers block: `name:value\n` for each signed header, in the order of `signed` (sorted).
///
/// Several values of one header are trimmed, sorted and joined with `,`. A signed header that is absent is
/// written with an empty value (the verifier refuses such requests before it gets here).
pub fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> String {
    let mut out = String::new();
    for name in signed {
        let mut values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .collect();
        values.sort_unstable();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The complete canonical request, ready to be hashed into the string to sign.
pub fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed: &[String],
    body: &[u8],
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        canonical_uri(uri.path()),
        canonical_query(uri.query().unwrap_or("")),
        canonical_headers(headers, signed),
        signed.join(";"),
        hex::encode(Sha256::digest(body)),
    )
}

/// The string to sign for a canonical request signed at `sdk_date`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The hex HMAC-SHA256 of `string_to_sign` keyed with `secret_key`.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(secret_key, string_to_sign))
}

fn hmac_sha256(secret_key: &str, string_to_sign: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; an empty MAC would only fail verification.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn sorted_lowercase(names: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    let mut names: Vec<String> = names
        .into_iter()
        .map(|n| n.as_ref().trim().to_ascii_lowercase())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Signs requests with one set of credentials (client side).
#[derive(Clone, Debug)]
pub struct Signer {
    credentials: Credentials,
    signed_headers: Vec<String>,
}

impl Signer {
    /// A signer that signs `content-type`, `host` and `x-sdk-date`, as EdgeGallery's clients do.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            signed_headers: sorted_lowercase(DEFAULT_SIGNED_HEADERS),
        }
    }

    /// Signs these headers instead of the default ones; `host` and `x-sdk-date` are always added.
    ///
    /// EdgeGallery's MEP-auth only accepts the default set.
    #[must_use]
    pub fn with_signed_headers(mut self, names: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut names = sorted_lowercase(names);
        names.extend(["host".to_owned(), DATE_HEADER.to_owned()]);
        self.signed_headers = sorted_lowercase(names);
        self
    }

    /// The credentials this signer uses.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Signs a request at time `now`: sets `x-sdk-date`, sets `host` from the URI's authority when absent, and
    /// sets `authorization`.
    pub fn sign(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &mut HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) {
        let date = format_sdk_date(now);
        if let Ok(value) = HeaderValue::from_str(&date) {
            headers.insert(HeaderName::from_static(DATE_HEADER), value);
        }
        if !headers.contains_key(http::header::HOST)
            && let Some(value) = uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(http::header::HOST, value);
        }
        let canonical = canonical_request(method, uri, headers, &self.signed_headers, body);
        let sig = signature(
            &self.credentials.secret_key,
            &string_to_sign(&date, &canonical),
        );
        let auth = format!(
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={sig}",
            self.credentials.access_key,
            self.signed_headers.join(";")
        );
        if let Ok(value) = HeaderValue::from_str(&auth) {
            headers.insert(http::header::AUTHORIZATION, value);
        }
    }
}

/// A date for a new signature by `access_key`, in a later second than any this process handed out for that key.
///
/// A signed token request carries no nonce: two requests of one access key signed in the same second are
/// identical, and a MEP that refuses replayed signatures (as `mec-mep` does) refuses the second. Signing clients
/// date their requests with this; it waits for the next second when the key already signed in the current one
/// (real time: the MEP checks signature dates against its real clock). Clients in other processes sharing the
/// key cannot be coordinated: give each process its own credentials, or share a token.
pub async fn signing_date(access_key: &str) -> SystemTime {
    static LAST: std::sync::Mutex<Option<HashMap<String, u64>>> = std::sync::Mutex::new(None);
    loop {
        let now = SystemTime::now();
        let second = now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let wait = {
            let mut guard = LAST
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let last = guard.get_or_insert_with(HashMap::new);
            // Keys that signed more than a second ago need no memory.
            last.retain(|_, s| *s + 1 >= second);
            match last.get(access_key) {
                Some(l) if *l >= second => {
                    let next = std::time::UNIX_EPOCH + Duration::from_secs(l + 1);
                    Some(next.duration_since(now).unwrap_or_default())
                }
                _ => {
                    last.insert(access_key.to_owned(), second);
                    None
                }
            }
        };
        match wait {
            None => return now,
            Some(d) => tokio::time::sleep(d + Duration::from_millis(1)).await,
        }
    }
}

/// Why a signed request was refused. Each variant is one distinct reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request has no `Authorization` header.
    #[error("the request has no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header names another scheme than `SDK-HMAC-SHA256`.
    #[error("unsupported authorization scheme {0:?}, expected SDK-HMAC-SHA256")]
    UnsupportedAlgorithm(String),
    /// The `Authorization` header is not `SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(&'static str),
    /// `host` or `x-sdk-date` is not among the signed headers, so the signature would not bind it.
    #[error("the {0} header must be signed")]
    UnsignedRequiredHeader(&'static str),
    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("signed header {0:?} is missing from the request")]
    MissingSignedHeader(String),
    /// The `x-sdk-date` header is absent.
    #[error("the request has no x-sdk-date header")]
    MissingDate,
    /// The `x-sdk-date` header is not `YYYYMMDDTHHMMSSZ`.
    #[error("x-sdk-date {0:?} is not of the form YYYYMMDDTHHMMSSZ")]
    MalformedDate(String),
    /// The `x-sdk-date` is further from the verifier's clock than the allowed skew.
    #[error("x-sdk-date is {}s away from the server's clock (at most {}s allowed)", .skew.as_secs(), .max_skew.as_secs())]
    DateOutsideWindow {
        /// How far the date is from the verifier's clock.
        skew: Duration,
        /// The allowed distance.
        max_skew: Duration,
    },
    /// No secret key is known for the access key.
    #[error("unknown access key")]
    UnknownAccessKey,
    /// The signature does not match the request: the request was changed or signed with another key.
    #[error("the signature does not match the request")]
    SignatureMismatch,
}

/// A parsed `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationHeader {
    /// The access key (AK).
    pub access_key: String,
    /// The signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

impl AuthorizationHeader {
    /// Parses the header value.
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm(
                scheme.chars().take(32).collect(),
            ));
        }
        let mut parts = rest.split(", ");
        let mut field = |name: &'static str| -> Result<&str, VerifyError> {
            parts
                .next()
                .and_then(|p| p.strip_prefix(name))
                .and_then(|p| p.strip_prefix('='))
                .ok_or(VerifyError::MalformedAuthorization(name))
        };
        let access_key = field("Access")?;
        let signed = field("SignedHeaders")?;
        let signature = field("Signature")?;
        if parts.next().is_some() {
            return Err(VerifyError::MalformedAuthorization(
                "unexpected member after Signature",
            ));
        }
        if access_key.is_empty() || access_key.len() > 128 || !access_key.bytes().all(is_key_byte) {
            return Err(VerifyError::MalformedAuthorization("Access"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
        let valid_name = |n: &String| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if signed.len() > 1024 || !signed_headers.iter().all(valid_name) {
            return Err(VerifyError::MalformedAuthorization("SignedHeaders"));
        }
        if signature.len() != 64
            || !signature
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(VerifyError::MalformedAuthorization("Signature"));
        }
        Ok(Self {
            access_key: access_key.to_owned(),
            signed_headers,
            signature: signature.to_owned(),
        })
    }
}

/// Looks up the secret key of an access key, for a [`Verifier`].
pub trait SecretKeys: Send + Sync {
    /// The secret key of `access_key`, if it is known.
    fn secret_key(&self, access_key: &str) -> Option<String>;
}

impl SecretKeys for HashMap<String, String> {
    fn secret_key(&self, access_key: &str) -> Option<String> {
        self.get(access_key).cloned()
    }
}

impl<F: Fn(&str) -> Option<String> + Send + Sync> SecretKeys for F {
    fn secret_key(&self, access_key: &str) -> Option<String> {
        self(access_key)
    }
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The access key whose secret signed the request.
    pub access_key: String,
    /// The time the client said it signed at.
    pub signed_at: SystemTime,
}

/// Checks signed requests (server side).
pub struct Verifier {
    keys: Arc<dyn SecretKeys>,
    clock: Arc<dyn Clock>,
    max_skew: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("clock", &self.clock)
            .field("max_skew", &self.max_skew)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier that knows these credentials, reads time from `clock` and allows [`DEFAULT_MAX_SKEW`].
    pub fn new(
        credentials: impl IntoIterator<Item = Credentials>,
        clock: impl Clock + 'static,
    ) -> Self {
        let keys: HashMap<String, String> = credentials
            .into_iter()
            .map(|c| (c.access_key, c.secret_key))
            .collect();
        Self::with_keys(keys, Arc::new(clock))
    }

    /// A verifier over any secret key lookup (a database, a shared map that changes at run time, ...).
    pub fn with_keys(keys: impl SecretKeys + 'static, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys: Arc::new(keys),
            clock,
            max_skew: DEFAULT_MAX_SKEW,
        }
    }

    /// Sets how far `x-sdk-date` may be from the verifier's clock, either way.
    #[must_use]
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// Verifies a request's signature; the checks run in the order of [`VerifyError`]'s variants.
    pub fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        let signed = self.check_form(headers)?;
        let secret = self
            .keys
            .secret_key(signed.access_key())
            .ok_or(VerifyError::UnknownAccessKey)?;
        signed.verify(&secret, method, uri, headers, body)
    }

    /// The checks that need no secret key: the `Authorization` header's form, the signed headers present, the
    /// date within the allowed skew. A server whose keys are looked up asynchronously (a database, etcd) calls
    /// this, looks up [`SignedRequest::access_key`], then [`SignedRequest::verify`].
    pub fn check_form(&self, headers: &HeaderMap) -> Result<SignedRequest, VerifyError> {
        let auth = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(VerifyError::MissingAuthorization)?
            .to_str()
            .map_err(|_| VerifyError::MalformedAuthorization("not visible ASCII"))?;
        let auth = AuthorizationHeader::parse(auth)?;
        for required in ["host", DATE_HEADER] {
            if !auth.signed_headers.iter().any(|h| h == required) {
                return Err(VerifyError::UnsignedRequiredHeader(required));
            }
        }
        if let Some(missing) = auth
            .signed_headers
            .iter()
            .find(|h| !headers.contains_key(h.as_str()))
        {
            return Err(if missing == DATE_HEADER {
                VerifyError::MissingDate
            } else {
                VerifyError::MissingSignedHeader(missing.clone())
            });
        }
        let date = headers
            .get(DATE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::MissingDate)?;
        let signed_at = parse_sdk_date(date)
            .ok_or_else(|| VerifyError::MalformedDate(date.chars().take(32).collect()))?;
        let now = self.clock.now();
        let skew = now
            .duration_since(signed_at)
            .or_else(|_| signed_at.duration_since(now))
            .unwrap_or_default();
        if skew > self.max_skew {
            return Err(VerifyError::DateOutsideWindow {
                skew,
                max_skew: self.max_skew,
            });
        }
        Ok(SignedRequest {
            auth,
            date: date.to_owned(),
            signed_at,
        })
    }
}

/// A signed request whose form and date passed [`Verifier::check_form`]: what remains is the signature, which
/// needs the access key's secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    auth: AuthorizationHeader,
    date: String,
    signed_at: SystemTime,
}

impl SignedRequest {
    /// The access key the request claims.
    pub fn access_key(&self) -> &str {
        &self.auth.access_key
    }

    /// The signature (lowercase hex), unique per signed request: what a replay cache remembers.
    pub fn signature(&self) -> &str {
        &self.auth.signature
    }

    /// When the client says it signed.
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// Checks the signature with the access key's secret (constant-time comparison).
    pub fn verify(
        self,
        secret: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        let signed = sorted_lowercase(&self.auth.signed_headers);
        let canonical = canonical_request(method, uri, headers, &signed, body);
        let expected = hmac_sha256(secret, &string_to_sign(&self.date, &canonical));
        let given = hex::decode(&self.auth.signature)
            .map_err(|_| VerifyError::MalformedAuthorization("Signature"))?;
        if bool::from(expected.ct_eq(&given)) {
            Ok(Verified {
                access_key: self.auth.access_key,
                signed_at: self.signed_at,
            })
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }
}
