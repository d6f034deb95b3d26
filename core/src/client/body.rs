//! Request bodies: bytes, a stream read from an [`AsyncRead`] (a file...), and multipart forms whose parts are
//! bytes or streams; and the activity tracking that the idle timeout of big transfers watches.

use super::Error;
use bytes::Bytes;
use std::fmt;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;

/// How much of a streamed body is read at once.
const READ_CHUNK: usize = 64 << 10;

/// A reader of a streamed body.
type BoxReader = Pin<Box<dyn AsyncRead + Send + 'static>>;

/// When a transfer last made progress (bytes of the request read to be sent, bytes of the answer received).
#[derive(Clone, Debug)]
pub(crate) struct Activity(Arc<Mutex<Instant>>);

impl Activity {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    pub(crate) fn touch(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    pub(crate) fn last(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A reader that records each successful read as progress.
struct Tracked {
    inner: BoxReader,
    activity: Activity,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.inner.as_mut().poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

fn stream_body(reader: BoxReader, activity: &Activity) -> reqwest::Body {
    reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        Tracked {
            inner: reader,
            activity: activity.clone(),
        },
        READ_CHUNK,
    ))
}

/// The body of an [`ApiRequest`](super::ApiRequest).
pub(crate) enum Body {
    Empty,
    Bytes(Bytes),
    /// Read once: `None` after it was sent.
    Reader {
        reader: Option<BoxReader>,
        length: Option<u64>,
    },
    Multipart(Multipart),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::Reader { length, .. } => f
                .debug_struct("Reader")
                .field("length", length)
                .finish_non_exhaustive(),
            Self::Multipart(m) => m.fmt(f),
        }
    }
}

/// What one attempt sends.
pub(crate) enum Payload {
    None,
    Body(reqwest::Body, Option<u64>),
    Form(reqwest::multipart::Form),
}

impl Body {
    /// Whether the body is read from a stream (and so is sent under the idle timeout, once).
    pub(crate) fn is_streamed(&self) -> bool {
        match self {
            Self::Empty | Self::Bytes(_) => false,
            Self::Reader { .. } => true,
            Self::Multipart(m) => m.is_streamed(),
        }
    }

    /// The body of one attempt; a streamed body is taken by the first.
    pub(crate) fn payload(&mut self, activity: &Activity) -> Result<Payload, Error> {
        Ok(match self {
            Self::Empty => Payload::None,
            Self::Bytes(b) => Payload::Body(reqwest::Body::from(b.clone()), None),
            Self::Reader { reader, length } => {
                let reader = reader.take().ok_or_else(|| {
                    Error::InvalidRequest("a streamed request body can be sent only once".into())
                })?;
                Payload::Body(stream_body(reader, activity), *length)
            }
            Self::Multipart(m) => Payload::Form(m.form(activity)?),
        })
    }
}

/// A `multipart/form-data` request body: text fields and parts from bytes or streams (files), sent in order.
///
/// A form whose parts are all in memory is sent again after a 401 like any other body; a form with a streamed
/// part is sent once, under the idle timeout of transfers (see [`HttpClient`](super::HttpClient)).
///
/// ```no_run
/// # async fn run(client: mec_core::client::HttpClient) -> Result<(), mec_core::client::Error> {
/// use mec_core::client::{ApiRequest, Multipart, Part};
///
/// let form = Multipart::new()
///     .text("type", "Video Application")
///     .part("icon", Part::bytes(vec![0x89, b'P', b'N', b'G']).file_name("icon.png").content_type("image/png"))
///     .part("file", Part::file("app.csar").await?);
/// client.execute(ApiRequest::post("apps").multipart(form)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct Multipart {
    parts: Vec<(String, Part)>,
}

impl Multipart {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.part(name, Part::bytes(value.into()))
    }

    /// Adds a part.
    pub fn part(mut self, name: impl Into<String>, part: Part) -> Self {
        self.parts.push((name.into(), part));
        self
    }

    fn is_streamed(&self) -> bool {
        self.parts
            .iter()
            .any(|(_, p)| matches!(p.source, Source::Reader { .. }))
    }

    fn form(&mut self, activity: &Activity) -> Result<reqwest::multipart::Form, Error> {
        let mut form = reqwest::multipart::Form::new();
        for (name, part) in &mut self.parts {
            form = form.part(name.clone(), part.take_for_sending(activity)?);
        }
        Ok(form)
    }
}

enum Source {
    Bytes(Bytes),
    Reader {
        reader: Option<BoxReader>,
        length: Option<u64>,
    },
}

/// One part of a [`Multipart`] form: bytes in memory or a stream (a file), with an optional file name and
/// content type.
#[must_use]
pub struct Part {
    source: Source,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Part");
        match &self.source {
            Source::Bytes(b) => d.field("bytes", &b.len()),
            Source::Reader { length, .. } => d.field("streamed_length", length),
        };
        d.field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl Part {
    fn new(source: Source) -> Self {
        Self {
            source,
            file_name: None,
            content_type: None,
        }
    }

    /// A part held in memory.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(Source::Bytes(bytes.into()))
    }

    /// A part read from `reader` as it is sent, `length` bytes when known (the form then has a
    /// `Content-Length`; else it is sent chunked). A reader that ends before `length` fails the request.
    pub fn reader(reader: impl AsyncRead + Send + 'static, length: Option<u64>) -> Self {
        Self::new(Source::Reader {
            reader: Some(Box::pin(reader)),
            length,
        })
    }

    /// A file streamed from disk as it is sent, named after the path's last component, its length known.
    /// Fails with [`Error::Io`] when the file cannot be opened.
    pub async fn file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        let length = file.metadata().await.map_err(io)?.len();
        let part = Self::reader(file, Some(length));
        Ok(match path.file_name() {
            Some(name) => part.file_name(name.to_string_lossy()),
            None => part,
        })
    }

    /// Sets the file name sent in the part's `Content-Disposition`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Sets the part's `Content-Type` (a MIME type such as `image/png`; one that does not parse fails the
    /// request with [`Error::InvalidRequest`] when it is sent).
    pub fn content_type(mut self, mime: impl Into<String>) -> Self {
        self.content_type = Some(mime.into());
        self
    }

    fn take_for_sending(&mut self, activity: &Activity) -> Result<reqwest::multipart::Part, Error> {
        let mut part = match &mut self.source {
            Source::Bytes(b) => {
                let len = b.len() as u64;
                reqwest::multipart::Part::stream_with_length(reqwest::Body::from(b.clone()), len)
            }
            Source::Reader { reader, length } => {
                let reader = reader.take().ok_or_else(|| {
                    Error::InvalidRequest("a streamed part can be sent only once".into())
                })?;
                let body = stream_body(reader, activity);
                match length {
                    Some(len) => reqwest::multipart::Part::stream_with_length(body, *len),
                    None => reqwest::multipart::Part::stream(body),
                }
            }
        };
        if let Some(name) = &self.file_name {
            part = part.file_name(name.clone());
        }
        if let Some(mime) = &self.content_type {
            part = part.mime_str(mime).map_err(|e| {
                Error::InvalidRequest(format!("content type {mime:?}: {}", super::report(&e)))
            })?;
        }
        Ok(part)
    }
}
