//! The MEP-auth `SDK-HMAC-SHA256` signature: upstream vectors, each part of the canonical request, and every
//! way a tampered request must be refused.

#![allow(clippy::unwrap_used)]

use http::{HeaderMap, HeaderValue, Method, Uri};
use mec_core::ManualClock;
use mec_core::signature::{
    AuthorizationHeader, Credentials, Signer, Verifier, VerifyError, canonical_headers,
    canonical_query, canonical_request, canonical_uri, query_escape, signature, string_to_sign,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const AK: &str = "QVUJMSUMgS0VZLS0tLS0";
const SK: &str = "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn creds() -> Credentials {
    Credentials::new(AK, SK)
}

fn at(date: &str) -> SystemTime {
    mec_core::parse_sdk_date(date).unwrap()
}

fn json_headers(host: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("host", HeaderValue::from_str(host).unwrap());
    h
}

fn signed_list() -> Vec<String> {
    ["content-type", "host", "x-sdk-date"]
        .map(String::from)
        .to_vec()
}

fn auth_of(h: &HeaderMap) -> &str {
    h["authorization"].to_str().unwrap()
}

// ---- upstream and derived vectors (shared/reference/edgegallery-mep.md §7) ----

#[test]
fn t1_upstream_vector_canonical_request_string_to_sign_and_header() {
    let uri: Uri = "/mep/token".parse().unwrap();
    let mut h = json_headers("119.8.47.5:30443");
    h.insert("x-sdk-date", HeaderValue::from_static("20210302T195133Z"));
    let canonical = canonical_request(&Method::POST, &uri, &h, &signed_list(), b"");
    assert_eq!(
        canonical,
        format!(
            "POST\n/mep/token/\n\ncontent-type:application/json\nhost:119.8.47.5:30443\nx-sdk-date:20210302T195133Z\n\ncontent-type;host;x-sdk-date\n{EMPTY_SHA256}"
        )
    );
    let sts = string_to_sign("20210302T195133Z", &canonical);
    assert_eq!(
        sts,
        "SDK-HMAC-SHA256\n20210302T195133Z\na2b341d4c9a3ad0ca06f250560bc9a7fb0c95ee7fc8f3e433d6f4c538b3531f0"
    );
    assert_eq!(
        signature(SK, &sts),
        "b726e5f20b4a1520efb455a60127bfe076c2917b51cecb8fddd49ba1d37019b8"
    );

    let mut h = json_headers("119.8.47.5:30443");
    Signer::new(creds()).sign(&Method::POST, &uri, &mut h, b"", at("20210302T195133Z"));
    assert_eq!(
        auth_of(&h),
        "SDK-HMAC-SHA256 Access=QVUJMSUMgS0VZLS0tLS0, SignedHeaders=content-type;host;x-sdk-date, Signature=b726e5f20b4a1520efb455a60127bfe076c2917b51cecb8fddd49ba1d37019b8"
    );
    assert_eq!(h["x-sdk-date"], "20210302T195133Z");
}

#[test]
fn t1_host_is_taken_from_an_absolute_uri_when_absent() {
    let uri: Uri = "https://119.8.47.5:30443/mep/token".parse().unwrap();
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    Signer::new(creds()).sign(&Method::POST, &uri, &mut h, b"", at("20210302T195133Z"));
    assert_eq!(h["host"], "119.8.47.5:30443");
    assert!(
        auth_of(&h).ends_with(
            "Signature=b726e5f20b4a1520efb455a60127bfe076c2917b51cecb8fddd49ba1d37019b8"
        )
    );
}

#[test]
fn t3_t4_derived_vectors_without_and_with_a_query() {
    let sign = |target: &str| {
        let uri: Uri = target.parse().unwrap();
        let mut h = json_headers("10.0.0.1:8443");
        Signer::new(creds()).sign(&Method::POST, &uri, &mut h, b"", at("20220101T000000Z"));
        AuthorizationHeader::parse(auth_of(&h)).unwrap().signature
    };
    assert_eq!(
        sign("/mep/token"),
        "2df1cc55787d2c82db816d0dcd35a820cbc36945ce6d01824be0b227cfab3e47"
    );
    assert_eq!(
        sign("/mep/token?b=2&a=1&a=0&x%20y=1%2F2"),
        "4bbf310b60e5e175e499c0e9bdcb24172a7faae2fee9bc72c85e053fe4228fe3"
    );
}

#[test]
fn t2_upstream_signature_made_with_another_key_is_refused() {
    let mut h = json_headers("127.0.0.1:30443");
    h.insert("x-sdk-date", HeaderValue::from_static("20210222T195818Z"));
    h.insert(
        "authorization",
        HeaderValue::from_static(
            "SDK-HMAC-SHA256 Access=QVUJMSUMgS0VZLS0tLS0, SignedHeaders=content-type;host;x-sdk-date, Signature=508b096b5131ac8d80b35b8bd6433306acb2fffe428385ca2417a40f9adac593",
        ),
    );
    let v = Verifier::new([creds()], ManualClock::new(at("20210222T195818Z")));
    let uri: Uri = "/mep/token".parse().unwrap();
    assert_eq!(
        v.verify(&Method::POST, &uri, &h, b""),
        Err(VerifyError::SignatureMismatch)
    );
}

// ---- each part of the canonical request ----

#[test]
fn canonical_method_is_written_as_given() {
    let uri: Uri = "/x".parse().unwrap();
    let h = HeaderMap::new();
    assert!(canonical_request(&Method::GET, &uri, &h, &[], b"").starts_with("GET\n"));
    assert!(canonical_request(&Method::DELETE, &uri, &h, &[], b"").starts_with("DELETE\n"));
}

#[test]
fn canonical_uri_drops_empty_and_dot_segments_escapes_each_and_ends_with_a_slash() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(canonical_uri("/mep/token"), "/mep/token/");
    assert_eq!(canonical_uri("/mep/token/"), "/mep/token/");
    assert_eq!(canonical_uri("//mep/./a/../token"), "/mep/a/token/");
    assert_eq!(canonical_uri("/a%20b/c+d/%7Ee"), "/a+b/c%2Bd/~e/");
    assert_eq!(canonical_uri("/caf%C3%A9/x:y@z"), "/caf%C3%A9/x%3Ay%40z/");
}

#[test]
fn query_escape_is_go_query_escape() {
    assert_eq!(query_escape("AZaz09-_.~"), "AZaz09-_.~");
    assert_eq!(query_escape("a b"), "a+b");
    assert_eq!(query_escape("1/2"), "1%2F2");
    assert_eq!(query_escape("*!'()"), "%2A%21%27%28%29");
    assert_eq!(query_escape("é"), "%C3%A9");
    assert_eq!(query_escape("%20"), "%2520");
}

#[test]
fn canonical_query_decodes_reescapes_and_sorts_pairs() {
    assert_eq!(canonical_query(""), "");
    assert_eq!(
        canonical_query("b=2&a=1&a=0&x%20y=1%2F2"),
        "a=0&a=1&b=2&x+y=1%2F2"
    );
    assert_eq!(canonical_query("k=a+b"), "k=a+b");
    assert_eq!(canonical_query("flag"), "flag=");
    assert_eq!(canonical_query("z=1&y=%2A"), "y=%2A&z=1");
}

#[test]
fn canonical_headers_lowercase_trim_sort_values_and_end_with_a_newline() {
    let mut h = HeaderMap::new();
    h.insert("Host", HeaderValue::from_static("  example:80  "));
    h.append("x-multi", HeaderValue::from_static(" b"));
    h.append("x-multi", HeaderValue::from_static("a "));
    h.insert("x-unsigned", HeaderValue::from_static("ignored"));
    let signed = ["host", "x-multi"].map(String::from).to_vec();
    assert_eq!(
        canonical_headers(&h, &signed),
        "host:example:80\nx-multi:a,b\n"
    );
}

#[test]
fn canonical_signed_headers_and_body_hash_close_the_request() {
    let uri: Uri = "/x".parse().unwrap();
    let h = json_headers("h");
    let c = canonical_request(
        &Method::POST,
        &uri,
        &h,
        &["content-type".into(), "host".into()],
        b"{}",
    );
    let tail: Vec<&str> = c.rsplitn(3, '\n').collect();
    assert_eq!(
        tail[0],
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(tail[1], "content-type;host");
}

#[test]
fn signer_sorts_and_completes_custom_signed_headers() {
    let uri: Uri = "/x".parse().unwrap();
    let mut h = json_headers("h");
    h.insert("x-app", HeaderValue::from_static("1"));
    Signer::new(creds()).with_signed_headers(["X-App"]).sign(
        &Method::GET,
        &uri,
        &mut h,
        b"",
        at("20220101T000000Z"),
    );
    let parsed = AuthorizationHeader::parse(auth_of(&h)).unwrap();
    assert_eq!(parsed.signed_headers, ["host", "x-app", "x-sdk-date"]);
    let v = Verifier::new([creds()], ManualClock::new(at("20220101T000000Z")));
    assert!(v.verify(&Method::GET, &uri, &h, b"").is_ok());
}

// ---- verification and tampering ----

const NOW: &str = "20220101T000000Z";

fn signed_request() -> (Uri, HeaderMap, Vec<u8>) {
    let uri: Uri = "/mep/token?scope=a%20b&x=1".parse().unwrap();
    let mut h = json_headers("10.0.0.1:8443");
    let body = br#"{"hello":"world"}"#.to_vec();
    Signer::new(creds()).sign(&Method::POST, &uri, &mut h, &body, at(NOW));
    (uri, h, body)
}

fn verifier() -> Verifier {
    Verifier::new(
        [
            creds(),
            Credentials::new("OTHERAKOTHERAKOTHER1", "s".repeat(64)),
        ],
        ManualClock::new(at(NOW)),
    )
}

fn verify(method: Method, uri: &Uri, h: &HeaderMap, body: &[u8]) -> Result<String, VerifyError> {
    verifier()
        .verify(&method, uri, h, body)
        .map(|v| v.access_key)
}

#[test]
fn untouched_request_verifies() {
    let (uri, h, body) = signed_request();
    assert_eq!(verify(Method::POST, &uri, &h, &body), Ok(AK.to_owned()));
}

#[test]
fn date_within_the_window_either_side_verifies() {
    let (uri, h, body) = signed_request();
    for offset in [Duration::from_secs(0), Duration::from_secs(899)] {
        for clock in [at(NOW) + offset, at(NOW) - offset] {
            let v = Verifier::new([creds()], ManualClock::new(clock));
            assert!(v.verify(&Method::POST, &uri, &h, &body).is_ok());
        }
    }
}

#[test]
fn tampered_body_is_refused() {
    let (uri, h, _) = signed_request();
    assert_eq!(
        verify(Method::POST, &uri, &h, br#"{"hello":"mars"}"#),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_signed_header_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_host_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.insert("host", HeaderValue::from_static("10.0.0.2:8443"));
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_path_is_refused() {
    let (_, h, body) = signed_request();
    let uri: Uri = "/mep/tokens?scope=a%20b&x=1".parse().unwrap();
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_query_is_refused() {
    let (_, h, body) = signed_request();
    let uri: Uri = "/mep/token?scope=a%20b&x=2".parse().unwrap();
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_method_is_refused() {
    let (uri, h, body) = signed_request();
    assert_eq!(
        verify(Method::PUT, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_date_inside_the_window_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.insert("x-sdk-date", HeaderValue::from_static("20220101T000001Z"));
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn date_outside_the_window_is_refused_past_and_future() {
    let (uri, h, body) = signed_request();
    for clock in [
        at(NOW) + Duration::from_secs(901),
        at(NOW) - Duration::from_secs(901),
    ] {
        let v = Verifier::new([creds()], ManualClock::new(clock));
        assert!(matches!(
            v.verify(&Method::POST, &uri, &h, &body),
            Err(VerifyError::DateOutsideWindow { skew, max_skew }) if skew == Duration::from_secs(901) && max_skew == Duration::from_secs(900)
        ));
    }
    let strict = Verifier::new(
        [creds()],
        ManualClock::new(at(NOW) + Duration::from_secs(6)),
    )
    .with_max_skew(Duration::from_secs(5));
    assert!(matches!(
        strict.verify(&Method::POST, &uri, &h, &body),
        Err(VerifyError::DateOutsideWindow { .. })
    ));
}

#[test]
fn wrong_secret_key_is_refused() {
    let uri: Uri = "/mep/token".parse().unwrap();
    let mut h = json_headers("h:1");
    Signer::new(Credentials::new(AK, "x".repeat(64))).sign(
        &Method::POST,
        &uri,
        &mut h,
        b"",
        at(NOW),
    );
    assert_eq!(
        verify(Method::POST, &uri, &h, b""),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn unknown_access_key_is_refused() {
    let uri: Uri = "/mep/token".parse().unwrap();
    let mut h = json_headers("h:1");
    Signer::new(Credentials::new("NOBODYNOBODYNOBODY12", SK)).sign(
        &Method::POST,
        &uri,
        &mut h,
        b"",
        at(NOW),
    );
    assert_eq!(
        verify(Method::POST, &uri, &h, b""),
        Err(VerifyError::UnknownAccessKey)
    );
}

#[test]
fn signature_of_one_key_does_not_pass_for_another_known_key() {
    let (uri, mut h, body) = signed_request();
    let swapped = auth_of(&h).replace(AK, "OTHERAKOTHERAKOTHER1");
    h.insert("authorization", HeaderValue::from_str(&swapped).unwrap());
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn missing_authorization_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.remove("authorization");
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::MissingAuthorization)
    );
}

#[test]
fn other_scheme_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.insert("authorization", HeaderValue::from_static("Bearer abc"));
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::UnsupportedAlgorithm("Bearer".into()))
    );
}

#[test]
fn malformed_authorization_headers_are_refused_naming_the_part() {
    let (uri, mut h, body) = signed_request();
    let good = auth_of(&h).to_owned();
    let sig = good.rsplit("Signature=").next().unwrap().to_owned();
    let cases: Vec<(String, &str)> = vec![
        ("SDK-HMAC-SHA256".into(), "Access"),
        (
            format!("SDK-HMAC-SHA256 Access={AK},SignedHeaders=host;x-sdk-date, Signature={sig}"),
            "SignedHeaders",
        ),
        (
            format!("SDK-HMAC-SHA256 Access={AK}, Signature={sig}"),
            "SignedHeaders",
        ),
        (
            format!("SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature={sig}"),
            "Access",
        ),
        (
            format!(
                "SDK-HMAC-SHA256 Access=bad key!, SignedHeaders=host;x-sdk-date, Signature={sig}"
            ),
            "Access",
        ),
        (
            format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=Host;x-sdk-date, Signature={sig}"),
            "SignedHeaders",
        ),
        (
            format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;;x-sdk-date, Signature={sig}"),
            "SignedHeaders",
        ),
        (
            format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature=abc"),
            "Signature",
        ),
        (
            format!(
                "SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={}",
                sig.to_uppercase()
            ),
            "Signature",
        ),
        (
            format!(
                "SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={sig}, Extra=1"
            ),
            "unexpected member after Signature",
        ),
    ];
    for (value, part) in cases {
        h.insert("authorization", HeaderValue::from_str(&value).unwrap());
        assert_eq!(
            verify(Method::POST, &uri, &h, &body),
            Err(VerifyError::MalformedAuthorization(part)),
            "{value}"
        );
    }
}

#[test]
fn unsigned_host_or_date_is_refused() {
    let uri: Uri = "/mep/token".parse().unwrap();
    let (_, mut h, _) = signed_request();
    let sig = "0".repeat(64);
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!(
            "SDK-HMAC-SHA256 Access={AK}, SignedHeaders=content-type;x-sdk-date, Signature={sig}"
        ))
        .unwrap(),
    );
    assert_eq!(
        verify(Method::POST, &uri, &h, b""),
        Err(VerifyError::UnsignedRequiredHeader("host"))
    );
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!(
            "SDK-HMAC-SHA256 Access={AK}, SignedHeaders=content-type;host, Signature={sig}"
        ))
        .unwrap(),
    );
    assert_eq!(
        verify(Method::POST, &uri, &h, b""),
        Err(VerifyError::UnsignedRequiredHeader("x-sdk-date"))
    );
}

#[test]
fn removed_signed_header_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.remove("content-type");
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::MissingSignedHeader("content-type".into()))
    );
}

#[test]
fn missing_date_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.remove("x-sdk-date");
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::MissingDate)
    );
}

#[test]
fn malformed_date_is_refused() {
    let (uri, mut h, body) = signed_request();
    h.insert(
        "x-sdk-date",
        HeaderValue::from_static("2022-01-01T00:00:00Z"),
    );
    assert_eq!(
        verify(Method::POST, &uri, &h, &body),
        Err(VerifyError::MalformedDate("2022-01-01T00:00:00Z".into()))
    );
}

#[test]
fn credentials_debug_hides_the_secret_and_checks_edgegallery_shape() {
    assert!(!format!("{:?}", creds()).contains(SK));
    assert!(creds().is_edgegallery_compatible());
    assert!(!Credentials::new("short", SK).is_edgegallery_compatible());
    assert!(!Credentials::new(AK, "bad key!".repeat(8)).is_edgegallery_compatible());
}

#[test]
fn epoch_clock_and_dates_far_from_it_do_not_panic() {
    let (uri, h, body) = signed_request();
    let v = Verifier::new([creds()], ManualClock::new(UNIX_EPOCH));
    assert!(matches!(
        v.verify(&Method::POST, &uri, &h, &body),
        Err(VerifyError::DateOutsideWindow { .. })
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_signed_request_verifies_and_any_body_change_breaks_it(
            path in "(/[a-zA-Z0-9 ._~%-]{0,12}){0,4}",
            query in proptest::collection::vec(("[a-z ]{1,5}", "[a-zA-Z0-9 /+=&]{0,6}"), 0..4),
            body in proptest::collection::vec(any::<u8>(), 0..64),
            flip in any::<usize>(),
        ) {
            let q: String = query.iter().map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v))).collect::<Vec<_>>().join("&");
            let target = if q.is_empty() { format!("/p{path}") } else { format!("/p{path}?{q}") };
            let Ok(uri) = target.replace(' ', "%20").parse::<Uri>() else { return Ok(()) };
            let mut h = json_headers("host:1");
            Signer::new(creds()).sign(&Method::POST, &uri, &mut h, &body, at(NOW));
            prop_assert_eq!(verify(Method::POST, &uri, &h, &body), Ok(AK.to_owned()));
            let mut changed = body.clone();
            if changed.is_empty() { changed.push(0) } else { let i = flip % changed.len(); changed[i] ^= 1; }
            prop_assert_eq!(verify(Method::POST, &uri, &h, &changed), Err(VerifyError::SignatureMismatch));
        }

        #[test]
        fn arbitrary_authorization_values_never_panic(value in "\\PC{0,200}") {
            let (uri, mut h, body) = signed_request();
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert("authorization", v);
                prop_assert!(verify(Method::POST, &uri, &h, &body).is_err() || value == auth_of(&signed_request().1));
            }
        }
    }
}
