//! Prints the headers of a signed MEP-auth token request, like EdgeGallery's token generator.
//!
//! ```text
//! cargo run -p mec-core --example sign_token_request -- https://mep.example:30443/mep/token AK SK
//! ```
//! Without arguments it signs a request for a local MEP with demo credentials. Use the printed headers with curl.

use mec_core::signature::{Credentials, Signer};
use std::time::SystemTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080/mep/token".to_owned());
    let ak = args
        .next()
        .unwrap_or_else(|| "QVUJMSUMgS0VZLS0tLS0".to_owned());
    let sk = args.next().unwrap_or_else(|| {
        "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc".to_owned()
    });
    let uri: http::Uri = url.parse()?;
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Signer::new(Credentials::new(ak, sk)).sign(
        &http::Method::POST,
        &uri,
        &mut headers,
        b"",
        SystemTime::now(),
    );
    println!("curl -X POST '{url}' \\");
    for name in ["content-type", "host", "x-sdk-date", "authorization"] {
        if let Some(v) = headers.get(name) {
            println!("  -H '{name}: {}' \\", v.to_str()?);
        }
    }
    println!("  -d ''");
    Ok(())
}
