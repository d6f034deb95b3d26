//! The keys tokens are signed with: RS512 (as EdgeGallery's MEP-auth signs them for its gateway), one active key
//! and, for rotation, older keys still accepted until their tokens expire; each known by its `kid`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key is not an RSA private key in PEM (PKCS#1 or PKCS#8), or too weak.
    #[error("not a usable RSA private key: {0}")]
    Invalid(String),
}

/// One signing key: its id, and the means to sign (when it is the active key) and to verify.
pub struct TokenKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_pem: String,
    private_pem: String,
    /// Tokens it signed are accepted until then (for a retired key); `None` for as long as it is configured.
    accepted_until: Option<SystemTime>,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .field("accepted_until", &self.accepted_until)
            .finish_non_exhaustive()
    }
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl TokenKey {
    /// A key from an RSA private key in PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`), of at least
    /// 2048 bits; its public half is derived.
    pub fn from_rsa_pem(kid: impl Into<String>, pem: &[u8]) -> Result<Self, KeyError> {
        let der =
            PrivateKeyDer::from_pem_slice(pem).map_err(|e| KeyError::Invalid(e.to_string()))?;
        let pair = match &der {
            PrivateKeyDer::Pkcs1(k) => aws_lc_rs::rsa::KeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => aws_lc_rs::rsa::KeyPair::from_pkcs8(k.secret_pkcs8_der()),
            _ => return Err(KeyError::Invalid("an RSA key is expected".to_owned())),
        }
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
        if pair.public_modulus_len() < 256 {
            return Err(KeyError::Invalid(
                "RSA keys of fewer than 2048 bits are refused".to_owned(),
            ));
        }
        Self::from_pair(kid.into(), pem, &pair)
    }

    /// A key read from a PEM file (see [`from_rsa_pem`](Self::from_rsa_pem)).
    pub fn from_rsa_pem_file(
        kid: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_rsa_pem(kid, &pem)
    }

    /// A new random 2048-bit RSA key (tokens signed with it are valid only as long as it is kept).
    pub fn generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        let pkcs8 = pair
            .as_der()
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        let pem = pem_block("PRIVATE KEY", pkcs8.as_ref());
        Self::from_pair(kid.into(), pem.as_bytes(), &pair)
    }

    fn from_pair(
        kid: String,
        private_pem: &[u8],
        pair: &aws_lc_rs::rsa::KeyPair,
    ) -> Result<Self, KeyError> {
        use aws_lc_rs::signature::KeyPair as _;
        let public_der = pair.public_key().as_ref().to_vec();
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_pem(private_pem)
                .map_err(|e| KeyError::Invalid(e.to_string()))?,
            decoding: DecodingKey::from_rsa_der(&public_der),
            public_pem: pem_block("RSA PUBLIC KEY", &public_der),
            private_pem: String::from_utf8_lossy(private_pem).into_owned(),
            accepted_until: None,
        })
    }

    /// The key id (`kid` in tokens' headers).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key, PEM, to share with other replicas of one MEP (handle it as a secret).
    pub fn private_key_pem(&self) -> &str {
        &self.private_pem
    }

    /// The public key, PKCS#1 PEM (`RSA PUBLIC KEY`): what a gateway or another service verifies tokens with.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }
}

/// The keys of a token service: the active one signs; every one verifies the tokens carrying its `kid`.
#[derive(Clone, Debug)]
pub struct SigningKeys {
    active: Arc<TokenKey>,
    retired: Vec<Arc<TokenKey>>,
}

impl SigningKeys {
    /// Signs with `active`.
    pub fn new(active: TokenKey) -> Self {
        Self {
            active: Arc::new(active),
            retired: Vec::new(),
        }
    }

    /// A fresh random key (a MEP without configured keys: its tokens die with the process, and apps fetch new
    /// ones on their next 401).
    pub fn generate() -> Result<Self, KeyError> {
        TokenKey::generate(uuid::Uuid::new_v4().simple().to_string()).map(Self::new)
    }

    /// Also accepts tokens signed by `key` (a key rotated out), until `until` when given.
    #[must_use]
    pub fn accepting(mut self, mut key: TokenKey, until: Option<SystemTime>) -> Self {
        key.accepted_until = until;
        self.retired.push(Arc::new(key));
        self
    }

    /// Makes `next` the signing key; the current one keeps verifying its tokens until `until` (the moment the
    /// last token it signed expires).
    #[must_use]
    pub fn rotate(self, next: TokenKey, until: SystemTime) -> Self {
        let mut retired = self.retired;
        let old = Arc::try_unwrap(self.active).unwrap_or_else(|a| TokenKey {
            kid: a.kid.clone(),
            encoding: a.encoding.clone(),
            decoding: a.decoding.clone(),
            public_pem: a.public_pem.clone(),
            private_pem: a.private_pem.clone(),
            accepted_until: a.accepted_until,
        });
        retired.push(Arc::new(TokenKey {
            accepted_until: Some(until),
            ..old
        }));
        Self {
            active: Arc::new(next),
            retired,
        }
    }

    /// The signing key.
    pub fn active(&self) -> &TokenKey {
        &self.active
    }

    pub(crate) fn algorithm() -> Algorithm {
        Algorithm::RS512
    }

    pub(crate) fn encoding(&self) -> (&str, &EncodingKey) {
        (&self.active.kid, &self.active.encoding)
    }

    /// The key that verifies a token with this `kid` at `now`, if any.
    pub(crate) fn decoding(&self, kid: &str, now: SystemTime) -> Option<&DecodingKey> {
        if self.active.kid == kid {
            return Some(&self.active.decoding);
        }
        self.retired
            .iter()
            .find(|k| k.kid == kid && k.accepted_until.is_none_or(|u| now < u))
            .map(|k| &k.decoding)
    }
}
