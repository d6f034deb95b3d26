//! Header names whose title case is not their usual spelling. hyper's title case capitalizes the first letter
//! and every letter after `-` (`Etag`, `Www-Authenticate`); clients that look header names up case-sensitively
//! want RFC 9110's spelling (`ETag`, `WWW-Authenticate`). The connection's writes are corrected on the way out:
//! the replacements have the same length, so byte counts are unchanged.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What hyper writes, and what RFC 9110 spells, each after the line break that starts a header line.
const SPELLINGS: [(&[u8], &[u8]); 2] = [
    (b"\r\nEtag: ", b"\r\nETag: "),
    (b"\r\nWww-Authenticate: ", b"\r\nWWW-Authenticate: "),
];

/// `buf` with the spellings corrected, if any needs it. Bodies are JSON (whose strings escape line breaks) or
/// text without header lines, so only heads match.
fn respelled(buf: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for (from, to) in SPELLINGS {
        for at in memchr::memmem::find_iter(buf, from) {
            out.get_or_insert_with(|| buf.to_vec())[at..at + to.len()].copy_from_slice(to);
        }
    }
    out
}

/// A connection whose writes get RFC 9110's spelling of header names (see the module's documentation).
#[derive(Debug)]
pub(crate) struct RespelledHeaders<S>(pub(crate) S);

impl<S: AsyncRead + Unpin> AsyncRead for RespelledHeaders<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RespelledHeaders<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match respelled(buf) {
            Some(fixed) => Pin::new(&mut self.0).poll_write(cx, &fixed),
            None => Pin::new(&mut self.0).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().any(|b| respelled(b).is_some()) {
            // Rare (heads with these headers): the first slice alone, corrected; the caller writes the rest next.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_header_lines_are_respelled() {
        let head =
            b"HTTP/1.1 200 OK\r\nEtag: \"1\"\r\nWww-Authenticate: Bearer\r\n\r\n{\"Etag: \":1}";
        let fixed = respelled(head).unwrap();
        assert_eq!(
            fixed,
            b"HTTP/1.1 200 OK\r\nETag: \"1\"\r\nWWW-Authenticate: Bearer\r\n\r\n{\"Etag: \":1}"
                .to_vec()
        );
        assert_eq!(
            respelled(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
            None
        );
    }
}
