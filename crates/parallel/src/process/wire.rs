//! The wire between a supervisor and its worker processes: length-prefixed frames that carry a
//! version, holding serde messages in a compact binary codec ([postcard]).
//!
//! A frame is the two bytes `PW`, the wire [`VERSION`], the payload's length as a little-endian
//! `u32`, then the payload. The decoder turns malformed bytes into a [`WireError`] — never a
//! panic — and never allocates more than the bytes that actually arrived, up to a maximum
//! frame size the reader chooses: a corrupt length cannot make it reserve gigabytes.
//!
//! ```
//! use parallel::plumbing::wire;
//!
//! let mut pipe = Vec::new();
//! wire::send(&mut pipe, &("add", 2u32, 3u32)).unwrap();
//! let msg: (String, u32, u32) = wire::recv(&mut pipe.as_slice(), wire::DEFAULT_MAX_FRAME).unwrap();
//! assert_eq!(msg, ("add".to_owned(), 2, 3));
//! ```
//!
//! [postcard]: https://docs.rs/postcard

use std::fmt;
use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The first two bytes of every frame.
pub const MAGIC: [u8; 2] = *b"PW";

/// The version of the wire format; a frame of another version is refused.
pub const VERSION: u8 = 1;

/// The bytes before a frame's payload: magic, version, length.
pub const HEADER_LEN: usize = 7;

/// The largest payload [`recv`] accepts unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Why bytes could not be read as a frame or a message.
///
/// ```
/// let err = parallel::plumbing::wire::read_frame(&mut &b"XX\x01\0\0\0\0"[..], 1024).unwrap_err();
/// assert_eq!(err.to_string(), "not a frame of the parallel wire: it starts with [88, 88], not \"PW\"");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WireError {
    /// The stream ended cleanly, between two frames.
    Closed,
    /// The stream ended inside a frame.
    Truncated {
        /// The bytes the frame needed.
        expected: usize,
        /// The bytes that came.
        got: usize,
    },
    /// The frame does not start with [`MAGIC`].
    BadMagic([u8; 2]),
    /// The frame is of another wire version.
    Version {
        /// The frame's version.
        found: u8,
    },
    /// The frame's payload is larger than the reader accepts.
    TooLarge {
        /// The payload's declared length.
        len: usize,
        /// The largest the reader accepts.
        max: usize,
    },
    /// The payload is not a valid message of the expected type.
    Decode(String),
    /// A message could not be encoded.
    Encode(String),
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Closed => f.write_str("the stream ended"),
            WireError::Truncated { expected, got } => {
                write!(f, "the stream ended inside a frame: {got} of {expected} bytes came")
            }
            WireError::BadMagic(found) => {
                write!(f, "not a frame of the parallel wire: it starts with {found:?}, not \"PW\"")
            }
            WireError::Version { found } => {
                write!(f, "a frame of wire version {found}, but this side speaks version {VERSION}")
            }
            WireError::TooLarge { len, max } => write!(f, "a frame of {len} bytes, more than the {max} accepted"),
            WireError::Decode(why) => write!(f, "a malformed message: {why}"),
            WireError::Encode(why) => write!(f, "a message could not be encoded: {why}"),
            WireError::Io(e) => write!(f, "the wire failed: {e}"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WireError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}

/// The header of a frame whose payload is `len` bytes.
///
/// ```
/// assert_eq!(parallel::plumbing::wire::header(3).unwrap(), *b"PW\x01\x03\0\0\0");
/// ```
pub fn header(len: usize) -> Result<[u8; HEADER_LEN], WireError> {
    let len = u32::try_from(len).map_err(|_| WireError::TooLarge { len, max: u32::MAX as usize })?;
    let [a, b, c, d] = len.to_le_bytes();
    Ok([MAGIC[0], MAGIC[1], VERSION, a, b, c, d])
}

/// Checks a frame's header; returns its payload's length.
///
/// ```
/// let len = parallel::plumbing::wire::parse_header(&parallel::plumbing::wire::header(5).unwrap(), 1024).unwrap();
/// assert_eq!(len, 5);
/// ```
pub fn parse_header(bytes: &[u8; HEADER_LEN], max: usize) -> Result<usize, WireError> {
    if bytes[..2] != MAGIC {
        return Err(WireError::BadMagic([bytes[0], bytes[1]]));
    }
    if bytes[2] != VERSION {
        return Err(WireError::Version { found: bytes[2] });
    }
    let len = u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]) as usize;
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    Ok(len)
}

/// Writes one frame holding `payload`.
///
/// ```
/// let mut out = Vec::new();
/// parallel::plumbing::wire::write_frame(&mut out, b"hi").unwrap();
/// assert_eq!(out, b"PW\x01\x02\0\0\0hi");
/// ```
pub fn write_frame(writer: &mut impl Write, payload: &[u8]) -> Result<(), WireError> {
    writer.write_all(&header(payload.len())?)?;
    writer.write_all(payload)?;
    Ok(())
}

/// Reads one frame and returns its payload, of at most `max` bytes.
///
/// ```
/// let payload = parallel::plumbing::wire::read_frame(&mut &b"PW\x01\x02\0\0\0hi"[..], 16).unwrap();
/// assert_eq!(payload, b"hi");
/// ```
pub fn read_frame(reader: &mut impl Read, max: usize) -> Result<Vec<u8>, WireError> {
    let len = read_header(reader, max)?;
    read_payload(reader, len, Vec::new(), HEADER_LEN)
}

/// Reads the `len` bytes of a payload after `into`'s bytes (`before` bytes of the frame came
/// before them); `Truncated` if the stream ends first. The buffer grows with the bytes that
/// arrive: a frame that lies about its length costs nothing (and a large buffer grows by
/// remapping its pages, not by copying them).
pub(crate) fn read_payload(
    reader: &mut impl Read,
    len: usize,
    mut into: Vec<u8>,
    before: usize,
) -> Result<Vec<u8>, WireError> {
    let got = reader.take(len as u64).read_to_end(&mut into)?;
    if got < len {
        return Err(WireError::Truncated { expected: before.saturating_add(len), got: before + got });
    }
    Ok(into)
}

/// Reads a frame's header: its payload's length; `Closed` if the stream ends before it.
pub(crate) fn read_header(reader: &mut impl Read, max: usize) -> Result<usize, WireError> {
    let mut head = [0; HEADER_LEN];
    let got = read_full(reader, &mut head)?;
    if got == 0 {
        return Err(WireError::Closed);
    }
    if got < HEADER_LEN {
        return Err(WireError::Truncated { expected: HEADER_LEN, got });
    }
    parse_header(&head, max)
}

/// Reads until `buf` is full or the stream ends; returns how many bytes came.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, WireError> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// The first complete frame at the start of `bytes`: its payload and the bytes it takes, or
/// `None` if more bytes are needed. For readers that gather bytes themselves.
///
/// ```
/// use parallel::plumbing::wire;
/// let mut bytes = Vec::new();
/// wire::write_frame(&mut bytes, b"one").unwrap();
/// assert_eq!(wire::split_frame(&bytes[..5], 16).unwrap(), None);
/// assert_eq!(wire::split_frame(&bytes, 16).unwrap(), Some((&b"one"[..], 10)));
/// ```
pub fn split_frame(bytes: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, WireError> {
    let Some(head) = bytes.first_chunk::<HEADER_LEN>() else {
        // A bad start shows before the whole header is in.
        if bytes.len() >= 2 && bytes[..2] != MAGIC {
            return Err(WireError::BadMagic([bytes[0], bytes[1]]));
        }
        return Ok(None);
    };
    let len = parse_header(head, max)?;
    // Checked: with a `max` near `usize::MAX`, a 32-bit target could overflow here.
    let Some(end) = HEADER_LEN.checked_add(len) else { return Ok(None) };
    Ok(bytes.get(HEADER_LEN..end).map(|payload| (payload, end)))
}

/// Encodes a message with the wire's codec.
///
/// ```
/// let bytes = parallel::plumbing::wire::encode(&(1u8, "a")).unwrap();
/// assert_eq!(parallel::plumbing::wire::decode::<(u8, String)>(&bytes).unwrap(), (1, "a".to_owned()));
/// ```
pub fn encode<T: Serialize + ?Sized>(msg: &T) -> Result<Vec<u8>, WireError> {
    postcard::to_allocvec(msg).map_err(|e| WireError::Encode(e.to_string()))
}

/// Encodes a message with the wire's codec at the end of `out`, which keeps what it held:
/// many messages into one buffer, without a `Vec` each. On an error, `out` may hold part of
/// the message after its old bytes.
pub(crate) fn encode_into<T: Serialize + ?Sized>(msg: &T, out: &mut Vec<u8>) -> Result<(), WireError> {
    postcard::serialize_with_flavor(msg, Append(out)).map_err(|e| WireError::Encode(e.to_string()))
}

/// The codec's output at the end of a `Vec` that is borrowed, not consumed.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Decodes a message with the wire's codec; trailing bytes are an error. A message may borrow
/// from `bytes` (`&[u8]`, `&str` fields): nothing is copied for them.
///
/// ```
/// assert!(parallel::plumbing::wire::decode::<u8>(&[1, 2]).is_err());
/// ```
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
    match postcard::take_from_bytes(bytes) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(WireError::Decode(format!("{} bytes after the message", rest.len()))),
        Err(e) => Err(WireError::Decode(e.to_string())),
    }
}

/// Encodes `msg` and writes it as one frame.
///
/// ```
/// let mut out = Vec::new();
/// parallel::plumbing::wire::send(&mut out, &7u16).unwrap();
/// assert_eq!(out.len(), parallel::plumbing::wire::HEADER_LEN + 1);
/// ```
pub fn send<T: Serialize + ?Sized>(writer: &mut impl Write, msg: &T) -> Result<(), WireError> {
    write_frame(writer, &encode(msg)?)
}

/// Reads one frame of at most `max` bytes and decodes its message.
///
/// ```
/// let mut out = Vec::new();
/// parallel::plumbing::wire::send(&mut out, &vec![1u64, 2]).unwrap();
/// let v: Vec<u64> = parallel::plumbing::wire::recv(&mut out.as_slice(), 1024).unwrap();
/// assert_eq!(v, [1, 2]);
/// ```
pub fn recv<T: DeserializeOwned>(reader: &mut impl Read, max: usize) -> Result<T, WireError> {
    decode(&read_frame(reader, max)?)
}
