//! Large buffers between a parent and its worker processes through shared memory, not the
//! pipe: a [`Payload`] is a task's encoded bytes plus the large buffers that travel beside
//! them (a Python worker's pickle-5 out-of-band buffers: arrays, large `bytes`).
//!
//! Each buffer crosses as its own memfd ([`Shared`]): the sender writes the buffer into it
//! (one copy, in the kernel), and the other side opens it through `/proc/<sender>/fd/<n>` and
//! maps it copy-on-write ([`Mapped`]): no copy, writable, and its memory is the receiver's
//! once the sender has closed its descriptor. A buffer's memory lives exactly as long as the
//! mapping that holds it — a NumPy array made over it, say — and nothing is ever reused under
//! it.
//!
//! - *Arguments*: the parent makes the memfds of a batch when it sends it and keeps them open
//!   until the batch's replies are in; the worker opens them before it runs each task.
//! - *Values*: the worker makes the memfds of a task's value, replies
//!   [`Reply::Shared`](crate::process::protocol::Reply::Shared), and waits until its parent
//!   has opened them (the *taken* word of the control page) before it closes them and runs its
//!   next task — so a worker that dies in its next task loses no value already replied.
//!
//! A worker uses shared memory only once it has checked, at its start, that it can open its
//! parent's descriptors (the *shared* word of the control page), and unless
//! `PARALLEL_SHARED_MEMORY=0` ([`SHARED_MEMORY_ENV`]) turns it off; otherwise buffers are
//! copied into the frames, as they are for worker programs that do not read the control page.

use std::fs::File;
use std::io;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::ptr::NonNull;

/// Buffers at least this large travel through shared memory; smaller ones inside the frames,
/// where a copy costs less than a memfd.
pub const SHARED_FROM: usize = 128 * 1024;

/// A task's encoded bytes and the large buffers that travel beside them, in order. A few
/// bytes without buffers — a tiny task's value — are held inline: nothing is allocated for
/// them, and a `Payload` takes no more room than a `Vec`.
///
/// ```
/// use parallel::plumbing::{Buffer, Payload};
///
/// let payload = Payload::new(b"the encoded part".to_vec()).with(Buffer::lent(vec![7u8; 1 << 20]));
/// assert_eq!((payload.bytes(), payload.buffers().len()), (&b"the encoded part"[..], 1));
/// assert_eq!(payload.len(), 16 + (1 << 20));
/// let tiny = Payload::from(&b"\x80\x05K\x07."[..]);
/// assert!(tiny.buffers().is_empty());
/// let (bytes, buffers) = tiny.into_parts();
/// assert_eq!((bytes, buffers.len()), (b"\x80\x05K\x07.".to_vec(), 0));
/// ```
#[derive(Default)]
pub struct Payload(Stored);

/// How many bytes a [`Payload`] holds without an allocation.
const INLINE: usize = 22;

enum Stored {
    Inline(u8, [u8; INLINE]),
    Boxed(Box<(Vec<u8>, Vec<Buffer>)>),
}

impl Default for Stored {
    fn default() -> Self {
        Stored::Inline(0, [0; INLINE])
    }
}

impl Payload {
    /// Encoded bytes without buffers.
    pub fn new(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            return Payload::from(&bytes[..]);
        }
        Payload(Stored::Boxed(Box::new((bytes, Vec::new()))))
    }

    /// Encoded bytes and the buffers beside them.
    pub fn with_buffers(bytes: Vec<u8>, buffers: Vec<Buffer>) -> Self {
        if buffers.is_empty() {
            return Payload::new(bytes);
        }
        Payload(Stored::Boxed(Box::new((bytes, buffers))))
    }

    /// The same, with `buffer` after its other buffers.
    pub fn with(self, buffer: Buffer) -> Self {
        let (bytes, mut buffers) = self.into_parts();
        buffers.push(buffer);
        Payload(Stored::Boxed(Box::new((bytes, buffers))))
    }

    /// The encoded part (for Python: the pickle, whose out-of-band buffers are
    /// [`buffers`](Self::buffers)).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Stored::Inline(len, bytes) => &bytes[..*len as usize],
            Stored::Boxed(held) => &held.0,
        }
    }

    /// The large buffers, in the order the encoded part refers to them.
    #[inline]
    pub fn buffers(&self) -> &[Buffer] {
        match &self.0 {
            Stored::Inline(..) => &[],
            Stored::Boxed(held) => &held.1,
        }
    }

    /// The encoded part and the buffers, taken apart.
    pub fn into_parts(self) -> (Vec<u8>, Vec<Buffer>) {
        match self.0 {
            Stored::Inline(..) => (self.bytes().to_vec(), Vec::new()),
            Stored::Boxed(held) => *held,
        }
    }

    /// All its bytes: the encoded part's and its buffers'.
    pub fn len(&self) -> usize {
        self.bytes().len() + self.buffers().iter().map(|b| b.len()).sum::<usize>()
    }

    /// `true` if it holds no byte at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&[u8]> for Payload {
    #[inline]
    fn from(bytes: &[u8]) -> Self {
        if bytes.len() > INLINE {
            return Payload(Stored::Boxed(Box::new((bytes.to_vec(), Vec::new()))));
        }
        let mut inline = [0; INLINE];
        inline[..bytes.len()].copy_from_slice(bytes);
        Payload(Stored::Inline(bytes.len() as u8, inline))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload::new(bytes)
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload").field("bytes", &self.bytes()).field("buffers", &self.buffers()).finish()
    }
}

/// One large buffer of a [`Payload`]: bytes its sender lends (kept alive, never written, until
/// they have crossed), or bytes that crossed, mapped from shared memory (writable,
/// copy-on-write) or copied out of a frame.
pub struct Buffer(Held);

enum Held {
    Lent(Box<dyn AsRef<[u8]> + Send + Sync>),
    Mapped(Mapped),
    Owned(Vec<u8>),
}

impl Buffer {
    /// Bytes lent for as long as the buffer lives.
    pub fn lent(bytes: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Buffer(Held::Lent(Box::new(bytes)))
    }

    /// A writable view of the bytes, if the buffer owns them (it crossed): `None` for lent ones.
    pub fn as_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.0 {
            Held::Lent(_) => None,
            Held::Mapped(m) => Some(m),
            Held::Owned(v) => Some(v),
        }
    }
}

impl From<Mapped> for Buffer {
    fn from(mapped: Mapped) -> Self {
        Buffer(Held::Mapped(mapped))
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(bytes: Vec<u8>) -> Self {
        Buffer(Held::Owned(bytes))
    }
}

impl Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Held::Lent(b) => (**b).as_ref(),
            Held::Mapped(m) => m,
            Held::Owned(v) => v,
        }
    }
}

impl PartialEq for Buffer {
    fn eq(&self, other: &Buffer) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<buffer of {} bytes>", self.len())
    }
}

/// A memfd holding one buffer, written once by the process that made it.
#[derive(Debug)]
pub struct Shared {
    file: File,
    len: usize,
}

impl Shared {
    /// A new memfd holding `bytes` (close-on-exec).
    pub fn write(bytes: &[u8]) -> io::Result<Shared> {
        // SAFETY: a plain system call with a NUL-terminated literal name; the descriptor is
        // owned as soon as it is made.
        let file = unsafe {
            let fd = libc::memfd_create(c"parallel-buffer".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            File::from(OwnedFd::from_raw_fd(fd))
        };
        file.set_len(bytes.len() as u64)?;
        file.write_all_at(bytes, 0)?;
        Ok(Shared { file, len: bytes.len() })
    }

    /// The memfd of `len` bytes that process `pid` holds as descriptor `fd`, opened here.
    pub fn open(pid: u32, fd: u32, len: usize) -> io::Result<Shared> {
        let file = File::open(format!("/proc/{pid}/fd/{fd}"))?;
        if (file.metadata()?.len() as usize) < len {
            return Err(io::Error::other(format!("a shared buffer of {len} bytes is shorter than that")));
        }
        Ok(Shared { file, len })
    }

    /// Its descriptor in this process.
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Its length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` for an empty buffer.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its bytes into `into` (exactly [`len`](Self::len) bytes long), read, not mapped.
    pub fn read_into(&self, into: &mut [u8]) -> io::Result<()> {
        if into.len() != self.len {
            return Err(io::Error::other("a shared buffer read into a buffer of another size"));
        }
        self.file.read_exact_at(into, 0)
    }

    /// Its bytes as a buffer of this process: mapped ([`map`](Self::map)), or read into
    /// memory of its own where the mapping fails (a process has a limited number of
    /// mappings: `vm.max_map_count`).
    pub fn take(self) -> io::Result<Buffer> {
        match self.mapping() {
            Ok(mapped) => Ok(Buffer::from(mapped)),
            Err(_) => {
                let mut bytes = vec![0; self.len];
                self.read_into(&mut bytes)?;
                Ok(Buffer::from(bytes))
            }
        }
    }

    /// Its bytes, mapped copy-on-write: writable, and what is written stays in this process.
    /// The descriptor is closed; the mapping keeps the memory.
    pub fn map(self) -> io::Result<Mapped> {
        self.mapping()
    }

    fn mapping(&self) -> io::Result<Mapped> {
        if self.len == 0 {
            return Ok(Mapped { ptr: NonNull::dangling(), len: 0 });
        }
        // SAFETY: maps `len` bytes of a memfd at least that long (checked when opened, or
        // sized when written), private, read-write; the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE,
                self.file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Mapped { ptr, len: self.len })
    }
}

/// Bytes mapped from a [`Shared`] buffer, copy-on-write; unmapped when dropped.
pub struct Mapped {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is private to this process and owned by this value alone; it is only
// reached through `&self` / `&mut self`.
unsafe impl Send for Mapped {}
// SAFETY: as above: shared references only read it.
unsafe impl Sync for Mapped {}

impl Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped at `ptr` for as long as `self` lives (or dangling and
        // empty).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for Mapped {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; the mapping is private and writable, and `&mut self` is the
        // only way to it.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmaps the mapping made in `Shared::map`; no borrow of it outlives `self`.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        }
    }
}

/// The environment variable that turns shared memory off: `PARALLEL_SHARED_MEMORY=0` (read
/// by each worker when it starts) makes large buffers cross inside the frames instead.
pub const SHARED_MEMORY_ENV: &str = "PARALLEL_SHARED_MEMORY";

/// `false` if [`SHARED_MEMORY_ENV`] turns shared memory off.
pub(crate) fn enabled() -> bool {
    std::env::var_os(SHARED_MEMORY_ENV).is_none_or(|v| v != "0")
}

/// Whether this process can open the descriptors of process `pid` (the same user, and nothing
/// that forbids it): `fd` is one it holds.
pub(crate) fn can_open(pid: u32, fd: RawFd) -> bool {
    File::open(format!("/proc/{pid}/fd/{fd}")).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_payload_is_inline_and_no_larger_than_a_vec() {
        assert_eq!(std::mem::size_of::<Payload>(), std::mem::size_of::<Vec<u8>>());
        for len in [0, 1, INLINE, INLINE + 1, 1000] {
            let v: Vec<u8> = (0..len as u32).map(|i| i as u8).collect();
            let (a, b) = (Payload::from(&v[..]), Payload::new(v.clone()));
            assert_eq!((a.bytes(), b.bytes()), (&v[..], &v[..]));
            assert_eq!(matches!(a.0, Stored::Inline(..)), len <= INLINE);
            assert_eq!(a.into_parts().0, v);
        }
        let with = Payload::from(&b"x"[..]).with(Buffer::from(vec![1u8; 3]));
        assert_eq!((with.bytes(), with.buffers().len(), with.len()), (&b"x"[..], 1, 4));
    }

    #[test]
    fn a_buffer_crosses_to_a_copy_on_write_mapping() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let shared = Shared::write(&bytes).unwrap();
        let opened = Shared::open(std::process::id(), shared.fd() as u32, bytes.len()).unwrap();
        let mut read = vec![0; bytes.len()];
        opened.read_into(&mut read).unwrap();
        assert_eq!(read, bytes);
        let mut mapped = opened.map().unwrap();
        assert_eq!(&mapped[..], &bytes[..]);
        mapped[0] = 255;
        let again = Shared::open(std::process::id(), shared.fd() as u32, bytes.len()).unwrap().map().unwrap();
        assert_eq!(again[0], 0, "a write to one mapping stays in it");
        drop(shared);
        assert_eq!(&again[1..], &bytes[1..], "the mapping outlives every descriptor");
    }

    #[test]
    fn a_buffer_longer_than_its_memfd_is_refused() {
        let shared = Shared::write(b"abc").unwrap();
        assert!(Shared::open(std::process::id(), shared.fd() as u32, 4).is_err());
        assert!(Shared::open(std::process::id(), shared.fd() as u32, 3).unwrap().map().is_ok());
        assert!(Shared::write(b"").unwrap().map().unwrap().is_empty());
    }
}
