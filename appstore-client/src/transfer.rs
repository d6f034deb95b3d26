//! Transfers: uploads (one multipart request, or chunks merged by the store), package edits, downloads of
//! packages, icons and demo videos, all streamed.

use crate::model::{AppPackage, DownloadOptions, PackageEdit, Registered, UploadForm};
use crate::paths::{self, V1};
use crate::{AppHandle, Client, Error, PackageHandle, decode_body};
use http::Method;
use mec_core::client::{ApiRequest, Multipart as Form, Part, ResponseStream};
use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Packages larger than this are uploaded in chunks (the AppStore portal's threshold).
pub const CHUNKED_ABOVE: u64 = 10 << 20;
/// The size of one upload chunk (the AppStore portal's).
pub const CHUNK_SIZE: u64 = 8 << 20;
/// The largest icon the store takes (appstore-be `IconChecker`: 10 MiB, jpg/png/bmp).
pub const MAX_ICON: u64 = 10 << 20;
/// The largest demo video the store takes (appstore-be `VideoChecker`: 50 MiB, mp4).
pub const MAX_VIDEO: u64 = 50 << 20;
/// The largest package the store takes (appstore-be `PackageChecker`: 5 GiB, csar/zip).
pub const MAX_PACKAGE: u64 = 5 << 30;
/// The largest multipart request appstore-be reads (`spring.servlet.multipart.max-request-size: 50MB`, which
/// Spring counts in MiB).
pub const MAX_REQUEST: u64 = 50 << 20;
/// Room left in a request for part headers and text fields.
const FORM_OVERHEAD: u64 = 64 << 10;
/// A zip's end record is 22 bytes plus a comment of at most 65535.
const ZIP_TAIL: usize = 22 + 65535;

/// A file to send: checked (name, extension, size) before anything is sent.
struct Upload<'a> {
    path: &'a Path,
    name: String,
    size: u64,
}

impl<'a> Upload<'a> {
    async fn check(
        path: &'a Path,
        what: &str,
        extensions: &[&str],
        max: u64,
    ) -> Result<Upload<'a>, Error> {
        let bad = |why: String| Error::InvalidRequest(format!("{}: {why}", path.display()));
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|source| read_error(path, source))?
            .len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| bad(format!("the {what} path has no file name")))?;
        // appstore-be `AbstractFileChecker.check`: no blank in the name, an allowed extension, a bounded size.
        if name.chars().any(char::is_whitespace) {
            return Err(bad(format!(
                "the AppStore refuses {what} names with spaces"
            )));
        }
        if name.len() > 255
            || name.ends_with('.')
            || name.contains(['\\', '/', ':', '*', '?', '"', '<', '>', '|'])
        {
            return Err(bad(format!(
                "the AppStore refuses {what} names longer than 255 bytes, ending with a dot or holding any of \
                 \\ / : * ? \" < > |"
            )));
        }
        let ext = Path::new(&name)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !extensions.contains(&ext.as_str()) {
            return Err(bad(format!(
                "the AppStore takes a {what} only as {}",
                extensions.join(", ")
            )));
        }
        if size > max {
            return Err(bad(format!(
                "the {what} has {size} bytes; the AppStore takes at most {max}"
            )));
        }
        Ok(Upload { path, name, size })
    }

    /// The file as a multipart part streamed from disk.
    async fn part(&self) -> Result<Part, Error> {
        let file = tokio::fs::File::open(self.path)
            .await
            .map_err(|source| read_error(self.path, source))?;
        Ok(Part::reader(file, Some(self.size)).file_name(self.name.clone()))
    }
}

fn read_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        context: format!("reading {}", path.display()),
        source,
    }
}

async fn optional_upload<'a>(
    path: Option<&'a Path>,
    what: &str,
    extensions: &[&str],
    max: u64,
) -> Result<Option<Upload<'a>>, Error> {
    match path {
        Some(p) => Upload::check(p, what, extensions, max).await.map(Some),
        None => Ok(None),
    }
}

fn write_error(source: std::io::Error) -> Error {
    Error::Io {
        context: "writing the download".into(),
        source,
    }
}

/// Whether `tail` (the last bytes of a file) ends with a zip end-of-central-directory record whose comment runs
/// exactly to the end: a zip cut anywhere has none.
fn ends_with_zip_end_record(tail: &[u8]) -> bool {
    if tail.len() < 22 {
        return false;
    }
    (0..=tail.len() - 22).rev().any(|i| {
        tail[i..].starts_with(b"PK\x05\x06")
            && usize::from(u16::from_le_bytes([tail[i + 20], tail[i + 21]])) == tail.len() - i - 22
    })
}

impl Client {
    /// Sends a multipart form and reads the answer.
    pub(crate) async fn send_form(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        form: Form,
    ) -> Result<Vec<u8>, Error> {
        let mut request = ApiRequest::new(method, path);
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        Ok(self.send(request.multipart(form)).await?.body().to_vec())
    }

    /// Uploads a package with its icon (and demo video) as the signed-in user: `POST /v1/apps`, or chunks through
    /// `/v1/apps/upload`, `/v1/apps/merge` and `/v1/apps/vm-register` above [`CHUNKED_ABOVE`] (or when one
    /// request would pass [`MAX_REQUEST`]), calling `progress(bytes sent, total)`.
    ///
    /// Names, extensions and sizes are checked as the store checks them before anything is sent. The store
    /// checks the package before registering it; its refusal is an [`Error::Api`] whose problem status is the
    /// store's code (10001 a listing value it does not know, 10029 manifest invalid, 10031 tampered package,
    /// 10022 this version is already published...).
    pub async fn upload(
        &self,
        form: &UploadForm,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Registered, Error> {
        let me = self.user()?;
        let package =
            Upload::check(&form.package, "package", &["csar", "zip"], MAX_PACKAGE).await?;
        let icon = Upload::check(&form.icon, "icon", &["jpg", "png", "bmp"], MAX_ICON).await?;
        let video = optional_upload(
            form.demo_video.as_deref(),
            "demo video",
            &["mp4"],
            MAX_VIDEO,
        )
        .await?;
        let attachments = icon.size + video.as_ref().map_or(0, |v| v.size) + FORM_OVERHEAD;
        if attachments > MAX_REQUEST {
            return Err(Error::InvalidRequest(format!(
                "the icon and demo video need {attachments} bytes in one request; the AppStore reads at most \
                 {MAX_REQUEST}"
            )));
        }
        let query = [
            ("userId", me.user_id.as_str()),
            ("userName", me.user_name.as_str()),
        ];
        let listing = |mut f: Form| {
            f = f
                .text("type", form.app_type.to_string())
                .text("affinity", form.affinity.to_string())
                .text("industry", form.industry.to_string())
                .text("showType", form.show_type.to_string())
                .text("experienceAble", form.experience_able.to_string());
            if let Some(t) = &form.test_task_id {
                f = f.text("testTaskId", t.clone());
            }
            f
        };
        let mut parts = Form::new().part("icon", icon.part().await?);
        if let Some(v) = &video {
            parts = parts.part("demoVideo", v.part().await?);
        }
        let size = package.size;
        let body = if size <= CHUNKED_ABOVE && size + attachments <= MAX_REQUEST {
            let multipart = listing(parts.part("file", package.part().await?));
            let body = self
                .send_form(Method::POST, &paths::apps(V1), &query, multipart)
                .await?;
            progress(size, size);
            body
        } else {
            let address = self.upload_chunks(&package, &mut progress).await?;
            let multipart = listing(parts.text("fileAddress", address));
            self.send_form(
                Method::POST,
                &format!("{}/vm-register", paths::apps(V1)),
                &query,
                multipart,
            )
            .await?
        };
        decode_body(200, &body, "the registration answer")
    }

    /// Sends the package in chunks of [`CHUNK_SIZE`], numbered from 1 without gaps (the store merges `1.part` to
    /// `N.part`, N being the parts it holds), then asks the store to merge them; returns the merged file's
    /// address.
    async fn upload_chunks(
        &self,
        package: &Upload<'_>,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<String, Error> {
        use tokio::io::AsyncReadExt;
        let (size, file_name) = (package.size, package.name.as_str());
        // The store keeps chunks under the identifier until the merge: one of its own per upload, so that two
        // uploads of a same-named file never mix their chunks.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let identifier = format!(
            "{size}-{}-{nonce:x}{:x}",
            file_name.replace(|c: char| !c.is_ascii_alphanumeric(), ""),
            std::process::id()
        );
        let total_chunks = size.div_ceil(CHUNK_SIZE);
        let mut file = tokio::fs::File::open(package.path)
            .await
            .map_err(|source| read_error(package.path, source))?;
        let mut sent: u64 = 0;
        for number in 1..=total_chunks {
            let len = CHUNK_SIZE.min(size - sent);
            let mut chunk = vec![
                0u8;
                usize::try_from(len)
                    .map_err(|_| Error::InvalidRequest("chunk too large".into()))?
            ];
            file.read_exact(&mut chunk)
                .await
                .map_err(|source| read_error(package.path, source))?;
            // Sent as a stream, so that a chunk is under the idle timeout of transfers rather than the overall
            // timeout of small requests, which a slow link could pass.
            let chunk = Part::reader(std::io::Cursor::new(chunk), Some(len));
            let form = Form::new()
                .part("file", chunk.file_name(file_name.to_owned()))
                .text("chunkNumber", number.to_string())
                .text("chunkSize", CHUNK_SIZE.to_string())
                .text("currentChunkSize", len.to_string())
                .text("totalSize", size.to_string())
                .text("identifier", identifier.clone())
                .text("filename", file_name.to_owned())
                .text("relativePath", file_name.to_owned())
                .text("totalChunks", total_chunks.to_string());
            self.send_form(
                Method::POST,
                &format!("{}/upload", paths::apps(V1)),
                &[],
                form,
            )
            .await?;
            sent += len;
            progress(sent, size);
        }
        let merged = self
            .send(
                ApiRequest::get(format!("{}/merge", paths::apps(V1)))
                    .query("fileName", file_name)
                    .query("guid", identifier.clone()),
            )
            .await?;
        let address = String::from_utf8_lossy(merged.body())
            .trim()
            .trim_matches('"')
            .to_owned();
        // appstore-be answers 200 and an empty address when it holds no chunk under the identifier.
        if address.is_empty() {
            return Err(Error::Decode {
                status: merged.status(),
                message: format!(
                    "the AppStore merged nothing: it holds no chunk of upload {identifier}"
                ),
            });
        }
        Ok(address)
    }
}

impl AppHandle {
    /// `GET /v1/apps/{appId}/icon`: the icon of the app's latest package (at most [`MAX_ICON`] bytes).
    pub async fn icon(&self) -> Result<Vec<u8>, Error> {
        get_bounded(&self.client, format!("{}/icon", self.path), MAX_ICON).await
    }

    /// `GET /v1/apps/{appId}/demoVideo`: streams the demo video of the app's latest package to `out` (at most
    /// [`MAX_VIDEO`] bytes); returns the bytes written, 0 when the app has none.
    pub async fn demo_video<W: AsyncWrite + Unpin>(&self, out: &mut W) -> Result<u64, Error> {
        let response = self
            .client
            .send_streaming(ApiRequest::get(format!("{}/demoVideo", self.path)))
            .await?
            .limit(MAX_VIDEO);
        stream_to(response, out, None, false, &mut |_, _| {}).await
    }
}

impl PackageHandle {
    /// `/v1/apps/{appId}`.
    fn app_path(&self) -> String {
        paths::app(&self.app_id)
    }

    /// `PUT /v1/apps/{appId}/package/{packageId}`: changes a package's listing (its owner or an admin; else 403).
    /// The store resets `experienceAble` to `false` when it is not sent, so when the edit leaves it `None` the
    /// client reads the package first and sends its current value. Returns the package as changed.
    pub async fn edit(&self, edit: &PackageEdit) -> Result<AppPackage, Error> {
        let icon = optional_upload(
            edit.icon.as_deref(),
            "icon",
            &["jpg", "png", "bmp"],
            MAX_ICON,
        )
        .await?;
        let video = optional_upload(
            edit.demo_video.as_deref(),
            "demo video",
            &["mp4"],
            MAX_VIDEO,
        )
        .await?;
        let doc = optional_upload(edit.doc.as_deref(), "document", &["md"], MAX_REQUEST).await?;
        let files: u64 = [&icon, &video, &doc]
            .iter()
            .filter_map(|u| u.as_ref().map(|u| u.size))
            .sum();
        if files + FORM_OVERHEAD > MAX_REQUEST {
            return Err(Error::InvalidRequest(format!(
                "the files need {files} bytes in one request; the AppStore reads at most {MAX_REQUEST}"
            )));
        }
        let experience_able = match edit.experience_able {
            Some(x) => x,
            None => self.get().await?.experience_able.unwrap_or(false),
        };
        let mut form = Form::new().text("experienceAble", experience_able.to_string());
        for (name, value) in [
            ("type", edit.app_type.as_ref().map(ToString::to_string)),
            ("industry", edit.industry.as_ref().map(ToString::to_string)),
            ("affinity", edit.affinity.as_ref().map(ToString::to_string)),
            ("shortDesc", edit.short_desc.clone()),
            ("showType", edit.show_type.as_ref().map(ToString::to_string)),
        ] {
            if let Some(v) = value {
                form = form.text(name, v);
            }
        }
        // The part names appstore-be's `PackageController.modifyAppAttr` reads.
        for (name, upload) in [("icon", &icon), ("video", &video), ("doc", &doc)] {
            if let Some(u) = upload {
                form = form.part(name, u.part().await?);
            }
        }
        // appstore-be `PackageController.modifyAppAttr`: `package`, singular, unlike every other package path.
        let path = format!(
            "{}/package/{}",
            self.app_path(),
            mec_core::client::path_segment(&self.id)
        );
        let body = self.client.send_form(Method::PUT, &path, &[], form).await?;
        decode_body(200, &body, "the edited package")
    }

    /// `GET /v1/apps/{appId}/packages/{packageId}/icon`: the package's icon (at most [`MAX_ICON`] bytes).
    pub async fn icon(&self) -> Result<Vec<u8>, Error> {
        get_bounded(&self.client, format!("{}/icon", self.path), MAX_ICON).await
    }

    /// `GET .../action/download[?isDownloadImage=true]`: streams the package to `out`, calling
    /// `progress(bytes so far, total if known)`, never holding it in memory. Counts one download. Returns the
    /// bytes written.
    ///
    /// appstore-be sends no `Content-Length` (the body is a stream, sent chunked), so the total given to
    /// `progress` is the options' [`size_hint`](DownloadOptions::size_hint) when there is one (an estimate:
    /// the store may serve a package it rewrote, or one with its VM images put in), and a download cut short is
    /// found without it: by the chunked framing (a connection that closes before the last chunk is a
    /// [transport error](Error::is_transport)) and by the zip end record every package ends with (a body that
    /// ends without one is [`Error::Incomplete`]). When a `Content-Length` is sent, the bytes must match it. A
    /// download that stalls fails after the client's [idle timeout](crate::ClientBuilder::idle_timeout).
    pub async fn download_to<W: AsyncWrite + Unpin>(
        &self,
        options: &DownloadOptions,
        out: &mut W,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<u64, Error> {
        let mut request = ApiRequest::get(format!("{}/action/download", self.path));
        if options.with_images {
            request = request.query("isDownloadImage", "true");
        }
        let response = self.client.send_streaming(request).await?;
        stream_to(response, out, options.size_hint, true, &mut progress).await
    }
}

/// Reads a small body (an icon) of at most `max` bytes.
async fn get_bounded(client: &Client, path: String, max: u64) -> Result<Vec<u8>, Error> {
    let response = client.send_streaming(ApiRequest::get(path)).await?;
    Ok(response.limit(max).bytes().await?.to_vec())
}

/// Streams a body to `out`, counting the bytes (its limit is the response's); `hint` is the total reported when
/// no `Content-Length` came, `zip` asks for the zip end record when no `Content-Length` came.
async fn stream_to<W: AsyncWrite + Unpin, P: FnMut(u64, Option<u64>)>(
    mut response: ResponseStream,
    out: &mut W,
    hint: Option<u64>,
    zip: bool,
    progress: &mut P,
) -> Result<u64, Error> {
    let declared = response.content_length();
    let total = declared.or(hint);
    let mut tail: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        out.write_all(&chunk).await.map_err(write_error)?;
        if zip && declared.is_none() {
            tail.extend_from_slice(&chunk);
            if tail.len() > 2 * ZIP_TAIL {
                tail.drain(..tail.len() - ZIP_TAIL);
            }
        }
        let written = response.received();
        progress(written, total.map(|t| t.max(written)));
    }
    out.flush().await.map_err(write_error)?;
    let written = response.received();
    match declared {
        Some(t) if written != t => Err(Error::Incomplete(format!(
            "it stopped at {written} of {t} bytes"
        ))),
        None if zip && !ends_with_zip_end_record(&tail) => Err(Error::Incomplete(format!(
            "it ended after {written} bytes without a zip end record: it was cut short"
        ))),
        _ => Ok(written),
    }
}

#[cfg(test)]
mod tests {
    use super::ends_with_zip_end_record;

    fn end_record(comment: &[u8]) -> Vec<u8> {
        let mut r = b"PK\x05\x06".to_vec();
        r.extend_from_slice(&[0u8; 16]);
        r.extend_from_slice(&u16::try_from(comment.len()).unwrap_or(0).to_le_bytes());
        r.extend_from_slice(comment);
        r
    }

    #[test]
    fn a_zip_end_record_must_end_the_body() {
        let mut zip = vec![1u8; 100];
        zip.extend(end_record(b""));
        assert!(ends_with_zip_end_record(&zip));
        let mut commented = vec![1u8; 100];
        commented.extend(end_record(b"a comment"));
        assert!(ends_with_zip_end_record(&commented));
        assert!(
            !ends_with_zip_end_record(&commented[..commented.len() - 1]),
            "cut in the comment"
        );
        assert!(
            !ends_with_zip_end_record(&zip[..zip.len() - 5]),
            "cut in the record"
        );
        assert!(!ends_with_zip_end_record(&zip[..100]), "cut before it");
        assert!(!ends_with_zip_end_record(b"PK\x05\x06"));
        let mut trailing = zip.clone();
        trailing.push(0);
        assert!(
            !ends_with_zip_end_record(&trailing),
            "bytes after the record"
        );
    }
}
