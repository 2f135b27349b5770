//! Pickles of plain values, written and read without the `pickle` module: a task's arguments
//! on their way to a worker process, and its value on the way back.
//!
//! `pickle.dumps` and `pickle.loads` cost a few hundred nanoseconds per call before they pickle
//! anything (a pickler object, its memo, its output buffer), which is most of a tiny task's
//! cost in the parent. The values most tasks take and return — `None`, `bool`, `int` (64-bit),
//! `float`, `str`, `bytes`, and tuples, lists and dicts of them — are written here in the
//! opcodes `pickle` itself uses (protocol 5, unframed: frames are optional), and read back from
//! those opcodes. Anything else is left to `pickle`: [`dump`] returns `false` (the caller then
//! calls `pickle.dumps`), and [`load`] returns `None` (the caller then calls `pickle.loads`).
//!
//! Both keep `pickle`'s meaning exactly where they answer: a list or dict met twice in one
//! value is written once and referred to again (its memo entry), so the value read back shares
//! it as the original did; a tuple met again inside itself (through a list or dict) is left to
//! `pickle`, which has a special path for that. Only exact types count: a subclass of `int`
//! or `str` pickles through its class, by `pickle`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::c_char;
use std::sync::OnceLock;

use parallel::plumbing::SHARED_FROM;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

extern "C" {
    /// CPython's `PyUnicode_AsUTF8AndSize`, in the stable ABI from 3.10 (the extension's is
    /// 3.9's): called only where the interpreter is 3.10 or newer.
    fn PyUnicode_AsUTF8AndSize(unicode: *mut ffi::PyObject, size: *mut ffi::Py_ssize_t) -> *const c_char;
}

/// The UTF-8 of `s`, or `None` if it has none (lone surrogates). Borrowed from the string
/// where the interpreter keeps it (3.10 and newer, as `str.encode` is not called then), else
/// made by `PyUnicode_AsUTF8String`.
fn utf8<'a>(s: &'a Bound<'_, PyString>) -> Option<Cow<'a, [u8]>> {
    static LENDS_UTF8: OnceLock<bool> = OnceLock::new();
    if !*LENDS_UTF8.get_or_init(|| s.py().version_info() >= (3, 10)) {
        return s.to_cow().ok().map(|text| match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        });
    }
    let mut len: ffi::Py_ssize_t = 0;
    // SAFETY: the GIL is held and `s` is a live `str` (3.10 or newer: the function is in the
    // stable ABI). Its answer is null with an exception set (taken here), or the string's own
    // UTF-8, `len` bytes that live as long as the string, which `'a` borrows.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len);
        if data.is_null() {
            drop(PyErr::fetch(s.py()));
            return None;
        }
        Some(Cow::Borrowed(std::slice::from_raw_parts(data.cast::<u8>(), len as usize)))
    }
}

/// The value of `obj`, an exact `int`, if it fits in 64 bits (else `pickle` writes it). No type
/// check of its own: under the limited API, `extract::<i64>()` asks the type's flags through a
/// call, once per value.
fn int64(obj: &Bound<'_, PyAny>) -> Option<i64> {
    let mut overflow = 0;
    // SAFETY: the GIL is held and `obj` is a live `int` (exact, checked by the caller): the
    // function says in `overflow` that the value does not fit, and sets no exception for it.
    let n = unsafe { ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &mut overflow) };
    if n == -1 && PyErr::take(obj.py()).is_some() {
        return None; // not for an int: as `extract` would have failed
    }
    (overflow == 0).then_some(n)
}

// The opcodes of `pickle` (Lib/pickle.py) that plain values use.
const PROTO: u8 = 0x80;
const FRAME: u8 = 0x95;
const STOP: u8 = b'.';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT1: u8 = b'K';
const BININT2: u8 = b'M';
const BININT: u8 = b'J';
const LONG1: u8 = 0x8a;
const BINFLOAT: u8 = b'G';
const SHORT_BINUNICODE: u8 = 0x8c;
const BINUNICODE: u8 = b'X';
const BINUNICODE8: u8 = 0x8d;
const SHORT_BINBYTES: u8 = b'C';
const BINBYTES: u8 = b'B';
const BINBYTES8: u8 = 0x8e;
const MARK: u8 = b'(';
const EMPTY_TUPLE: u8 = b')';
const TUPLE1: u8 = 0x85;
const TUPLE2: u8 = 0x86;
const TUPLE3: u8 = 0x87;
const TUPLE: u8 = b't';
const EMPTY_LIST: u8 = b']';
const APPEND: u8 = b'a';
const APPENDS: u8 = b'e';
const EMPTY_DICT: u8 = b'}';
const SETITEM: u8 = b's';
const SETITEMS: u8 = b'u';
const MEMOIZE: u8 = 0x94;
const BINGET: u8 = b'h';
const LONG_BINGET: u8 = b'j';

/// A large `bytes` whose bytes travel out of band (through shared memory, see
/// `parallel::plumbing::Payload`): `bytes(next buffer)` — `builtins.bytes` by `STACK_GLOBAL`,
/// `NEXT_BUFFER`, a one-tuple, `REDUCE`. `pickle.loads` reads it too (given the buffers), and
/// makes a `bytes` as the original was; a bare `NEXT_BUFFER` stays pickle's own (the buffer
/// object itself).
const LENT_BYTES: &[u8] = b"\x8c\x08builtins\x8c\x05bytes\x93\x97\x85R";

/// The protocol the pickles written here declare.
const PROTOCOL: u8 = 5;

/// Deeper values are left to `pickle` (which has its own recursion limit and error).
const MAX_DEPTH: usize = 64;

/// Writes pickles, one value at a time: [`Pickler::start`], the value's opcodes
/// ([`Pickler::value`], …), then [`Pickler::finish`]. Its buffers are reused from one pickle
/// to the next.
pub(crate) struct Pickler {
    out: Vec<u8>,
    memo: Memo,
    /// Whether `bytes` of [`SHARED_FROM`] bytes or more are written out of band.
    lends: bool,
    /// The `bytes` written out of band in the current pickle, in order.
    lent: Vec<Py<PyBytes>>,
}

impl Pickler {
    pub(crate) fn new() -> Self {
        Pickler { out: Vec::new(), memo: Memo::default(), lends: false, lent: Vec::new() }
    }

    /// A pickler that writes large `bytes` out of band ([`LENT_BYTES`]): their objects are
    /// [`lent`](Self::lent) instead of copied into the pickle.
    pub(crate) fn lending() -> Self {
        Pickler { lends: true, ..Pickler::new() }
    }

    /// Starts a new pickle.
    pub(crate) fn start(&mut self) {
        self.out.clear();
        self.out.extend_from_slice(&[PROTO, PROTOCOL]);
        self.memo.clear();
        self.lent.clear();
    }

    /// The `bytes` objects the pickle refers to out of band, in order (taken).
    pub(crate) fn lent(&mut self) -> Vec<Py<PyBytes>> {
        if self.lent.is_empty() {
            return Vec::new(); // keeps the buffer it has
        }
        std::mem::take(&mut self.lent)
    }

    /// The pickle, once its value's opcodes are written.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        self.finished().to_vec()
    }

    /// The pickle, once its value's opcodes are written, in the pickler's buffer.
    pub(crate) fn finished(&mut self) -> &[u8] {
        self.out.push(STOP);
        &self.out
    }

    /// A tuple of the values just written (the last `n`, at most 3): how `pickle` closes one.
    pub(crate) fn tuple_of(&mut self, n: usize) {
        match n {
            0 => self.out.push(EMPTY_TUPLE),
            1..=3 => self.out.push(TUPLE1 + (n as u8 - 1)),
            _ => unreachable!("a tuple of more than 3 values starts with a mark"),
        }
    }

    pub(crate) fn none(&mut self) {
        self.out.push(NONE);
    }

    /// The opcodes of `obj`; `false` if it holds anything but the plain values (what was
    /// written is then garbage: start again).
    pub(crate) fn value(&mut self, obj: &Bound<'_, PyAny>) -> bool {
        self.write(obj, 0)
    }

    fn write(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> bool {
        if obj.is_none() {
            self.out.push(NONE);
        } else if obj.is_exact_instance_of::<PyInt>() {
            let Some(n) = int64(obj) else { return false };
            self.int(n);
        } else if let Ok(s) = obj.cast_exact::<PyString>() {
            // Strings with lone surrogates have no UTF-8: pickle writes them "surrogatepass".
            let Some(text) = utf8(s) else { return false };
            self.sized(&text, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8);
        } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
            self.out.push(BINFLOAT);
            self.out.extend_from_slice(&f.value().to_be_bytes());
        } else if let Ok(b) = obj.cast_exact::<PyBool>() {
            self.out.push(if b.is_true() { NEWTRUE } else { NEWFALSE });
        } else if let Ok(b) = obj.cast_exact::<PyBytes>() {
            if self.lends && b.as_bytes().len() >= SHARED_FROM {
                self.out.extend_from_slice(LENT_BYTES);
                self.lent.push(b.clone().unbind());
            } else {
                self.sized(b.as_bytes(), SHORT_BINBYTES, BINBYTES, BINBYTES8);
            }
        } else if depth >= MAX_DEPTH {
            return false;
        } else if let Ok(t) = obj.cast_exact::<PyTuple>() {
            return self.tuple(t, depth);
        } else if let Ok(l) = obj.cast_exact::<PyList>() {
            if self.memo_get(obj) {
                return true;
            }
            self.out.push(EMPTY_LIST);
            self.memo_put(obj);
            let n = l.len();
            if n > 1 {
                self.out.push(MARK);
            }
            for i in 0..n {
                // The list cannot change meanwhile: nothing here runs Python code.
                let Ok(item) = l.get_item(i) else { return false };
                if !self.write(&item, depth + 1) {
                    return false;
                }
            }
            match n {
                0 => {}
                1 => self.out.push(APPEND),
                _ => self.out.push(APPENDS),
            }
        } else if let Ok(d) = obj.cast_exact::<PyDict>() {
            if self.memo_get(obj) {
                return true;
            }
            self.out.push(EMPTY_DICT);
            self.memo_put(obj);
            let n = d.len();
            if n > 1 {
                self.out.push(MARK);
            }
            for (k, v) in d.iter() {
                if !self.write(&k, depth + 1) || !self.write(&v, depth + 1) {
                    return false;
                }
            }
            match n {
                0 => {}
                1 => self.out.push(SETITEM),
                _ => self.out.push(SETITEMS),
            }
        } else {
            return false;
        }
        true
    }

    fn tuple(&mut self, t: &Bound<'_, PyTuple>, depth: usize) -> bool {
        let n = t.len();
        if n == 0 {
            self.out.push(EMPTY_TUPLE);
            return true;
        }
        let key = t.as_ptr() as usize;
        match self.memo.get(key) {
            Some(WRITING) => return false, // inside itself, through a list or dict
            Some(index) => {
                self.get(index);
                return true;
            }
            None => {}
        }
        self.memo.insert(key, WRITING);
        if n > 3 {
            self.out.push(MARK);
        }
        for item in t.iter() {
            if !self.write(&item, depth + 1) {
                return false;
            }
        }
        if n > 3 {
            self.out.push(TUPLE);
        } else {
            self.tuple_of(n);
        }
        self.out.push(MEMOIZE);
        let index = self.memo.next();
        self.memo.insert(key, index);
        true
    }

    /// Refers to `obj` if it was written before (its memo entry).
    fn memo_get(&mut self, obj: &Bound<'_, PyAny>) -> bool {
        match self.memo.get(obj.as_ptr() as usize) {
            Some(index) => {
                self.get(index);
                true
            }
            None => false,
        }
    }

    fn memo_put(&mut self, obj: &Bound<'_, PyAny>) {
        self.out.push(MEMOIZE);
        let index = self.memo.next();
        self.memo.insert(obj.as_ptr() as usize, index);
    }

    fn get(&mut self, index: u32) {
        if let Ok(i) = u8::try_from(index) {
            self.out.extend_from_slice(&[BINGET, i]);
        } else {
            self.out.push(LONG_BINGET);
            self.out.extend_from_slice(&index.to_le_bytes());
        }
    }

    fn int(&mut self, n: i64) {
        if let Ok(b) = u8::try_from(n) {
            self.out.extend_from_slice(&[BININT1, b]);
        } else if let Ok(w) = u16::try_from(n) {
            self.out.push(BININT2);
            self.out.extend_from_slice(&w.to_le_bytes());
        } else if let Ok(i) = i32::try_from(n) {
            self.out.push(BININT);
            self.out.extend_from_slice(&i.to_le_bytes());
        } else {
            // Two's complement, little-endian, in as few bytes as keep the sign (5 to 8 here).
            let bytes = n.to_le_bytes();
            let mut len = 8;
            while len > 1 && redundant(bytes[len - 1], bytes[len - 2]) {
                len -= 1;
            }
            self.out.extend_from_slice(&[LONG1, len as u8]);
            self.out.extend_from_slice(&bytes[..len]);
        }
    }

    fn sized(&mut self, data: &[u8], short: u8, long: u8, huge: u8) {
        if let Ok(n) = u8::try_from(data.len()) {
            self.out.extend_from_slice(&[short, n]);
        } else if let Ok(n) = u32::try_from(data.len()) {
            self.out.push(long);
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.out.push(huge);
            self.out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        }
        self.out.extend_from_slice(data);
    }
}

/// Whether the top byte of a two's complement number only repeats the sign of the one below.
fn redundant(top: u8, below: u8) -> bool {
    (top == 0 && below < 0x80) || (top == 0xff && below >= 0x80)
}

/// The memo index of a tuple being written (met again then, it is inside itself).
const WRITING: u32 = u32::MAX;

/// The containers a pickle has written, by address, and their memo indices: a short list
/// searched in order (a parameter holds few), a hash map past [`Memo::SHORT`] entries.
#[derive(Default)]
struct Memo {
    short: Vec<(usize, u32)>,
    long: HashMap<usize, u32>,
    count: u32,
}

impl Memo {
    const SHORT: usize = 16;

    fn clear(&mut self) {
        self.short.clear();
        if !self.long.is_empty() {
            self.long = HashMap::new();
        }
        self.count = 0;
    }

    fn get(&self, key: usize) -> Option<u32> {
        if self.long.is_empty() {
            self.short.iter().find(|(k, _)| *k == key).map(|(_, i)| *i)
        } else {
            self.long.get(&key).copied()
        }
    }

    fn insert(&mut self, key: usize, index: u32) {
        if self.long.is_empty() {
            if let Some(entry) = self.short.iter_mut().find(|(k, _)| *k == key) {
                entry.1 = index;
                return;
            }
            if self.short.len() < Self::SHORT {
                self.short.push((key, index));
                return;
            }
            self.long.extend(self.short.drain(..));
        }
        self.long.insert(key, index);
    }

    /// The index the next MEMOIZE gives.
    fn next(&mut self) -> u32 {
        self.count += 1;
        self.count - 1
    }
}

/// The pickled `obj` if it holds only plain values, else `None` (pickle it with `pickle`).
pub(crate) fn dump(obj: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    let mut pickler = Pickler::new();
    pickler.start();
    pickler.value(obj).then(|| pickler.finish())
}

/// What a pickle reads into, in its stack.
enum Item<'py> {
    Mark,
    Value(Bound<'py, PyAny>),
}

/// Reads pickles of plain values, one at a time; its buffers are reused from one to the next.
pub(crate) struct Unpickler<'py> {
    py: Python<'py>,
    stack: Vec<Item<'py>>,
    memo: Vec<Bound<'py, PyAny>>,
}

impl<'py> Unpickler<'py> {
    pub(crate) fn new(py: Python<'py>) -> Self {
        Unpickler { py, stack: Vec::new(), memo: Vec::new() }
    }

    /// The value `data` pickles, if it is made only of the opcodes of plain values; `None` for
    /// anything else (read it with `pickle.loads`, which also gives the error of a bad pickle).
    pub(crate) fn load(&mut self, data: &[u8]) -> Option<Bound<'py, PyAny>> {
        self.load_with(data, &[])
    }

    /// The same for a pickle with out-of-band buffers: its lent `bytes` ([`LENT_BYTES`]) are
    /// made from `buffers`, in order.
    pub(crate) fn load_with(&mut self, data: &[u8], buffers: &[&[u8]]) -> Option<Bound<'py, PyAny>> {
        if let Some(value) = self.scalar(data) {
            return Some(value);
        }
        let loaded = self.read(data, buffers);
        self.stack.clear();
        self.memo.clear();
        loaded
    }

    /// The pickle of one scalar — `None`, a bool, an int of up to 32 bits or a float, after a
    /// `PROTO` or not — read at once, without the stack: most tiny tasks' arguments and values.
    fn scalar(&self, data: &[u8]) -> Option<Bound<'py, PyAny>> {
        let py = self.py;
        let body = match data {
            [PROTO, protocol, rest @ ..] if *protocol <= PROTOCOL => rest,
            _ => data,
        };
        Some(match *body {
            [BININT1, b, STOP] => b.into_pyobject(py).ok()?.into_any(),
            [BININT2, a, b, STOP] => u16::from_le_bytes([a, b]).into_pyobject(py).ok()?.into_any(),
            [BININT, a, b, c, d, STOP] => i32::from_le_bytes([a, b, c, d]).into_pyobject(py).ok()?.into_any(),
            [NONE, STOP] => py.None().into_bound(py),
            [NEWTRUE, STOP] => PyBool::new(py, true).to_owned().into_any(),
            [NEWFALSE, STOP] => PyBool::new(py, false).to_owned().into_any(),
            [BINFLOAT, a, b, c, d, e, f, g, h, STOP] => {
                PyFloat::new(py, f64::from_be_bytes([a, b, c, d, e, f, g, h])).into_any()
            }
            _ => return None,
        })
    }

    fn read(&mut self, data: &[u8], buffers: &[&[u8]]) -> Option<Bound<'py, PyAny>> {
        let py = self.py;
        let stack = &mut self.stack;
        let memo = &mut self.memo;
        let mut reader = Reader { data, at: 0 };
        let mut buffers = buffers.iter();
        loop {
            if data[reader.at..].starts_with(LENT_BYTES) {
                reader.at += LENT_BYTES.len();
                stack.push(Item::Value(PyBytes::new(py, buffers.next()?).into_any()));
                continue;
            }
            let op = reader.byte()?;
            let value: Bound<'py, PyAny> = match op {
                PROTO => {
                    if reader.byte()? > PROTOCOL {
                        return None; // pickle says it does not know it
                    }
                    continue;
                }
                FRAME => {
                    // A frame holds the rest, or some of it: longer is pickle's "truncated".
                    let size = u64::from_le_bytes(reader.array()?);
                    if size > (data.len() - reader.at) as u64 {
                        return None;
                    }
                    continue;
                }
                STOP => {
                    return match (stack.pop(), stack.is_empty(), reader.at == data.len()) {
                        (Some(Item::Value(v)), true, true) => Some(v),
                        _ => None,
                    };
                }
                MEMOIZE => {
                    let Some(Item::Value(top)) = stack.last() else { return None };
                    memo.push(top.clone());
                    continue;
                }
                BINGET => memo.get(reader.byte()? as usize)?.clone(),
                LONG_BINGET => memo.get(reader.u32()? as usize)?.clone(),
                MARK => {
                    stack.push(Item::Mark);
                    continue;
                }
                NONE => py.None().into_bound(py),
                NEWTRUE => PyBool::new(py, true).to_owned().into_any(),
                NEWFALSE => PyBool::new(py, false).to_owned().into_any(),
                BININT1 => reader.byte()?.into_pyobject(py).ok()?.into_any(),
                BININT2 => u16::from_le_bytes(reader.array()?).into_pyobject(py).ok()?.into_any(),
                BININT => i32::from_le_bytes(reader.array()?).into_pyobject(py).ok()?.into_any(),
                LONG1 => {
                    let n = reader.byte()? as usize;
                    if n > 8 {
                        return None;
                    }
                    let bytes = reader.take(n)?;
                    let mut full = [if bytes.last().is_some_and(|b| b & 0x80 != 0) { 0xff } else { 0 }; 8];
                    full[..n].copy_from_slice(bytes);
                    i64::from_le_bytes(full).into_pyobject(py).ok()?.into_any()
                }
                BINFLOAT => PyFloat::new(py, f64::from_be_bytes(reader.array()?)).into_any(),
                SHORT_BINUNICODE | BINUNICODE | BINUNICODE8 => {
                    let n = reader.size(op, SHORT_BINUNICODE, BINUNICODE)?;
                    // Not UTF-8 (lone surrogates, "surrogatepass"): pickle's own reader decodes it.
                    PyString::new(py, std::str::from_utf8(reader.take(n)?).ok()?).into_any()
                }
                SHORT_BINBYTES | BINBYTES | BINBYTES8 => {
                    let n = reader.size(op, SHORT_BINBYTES, BINBYTES)?;
                    PyBytes::new(py, reader.take(n)?).into_any()
                }
                EMPTY_TUPLE => PyTuple::empty(py).into_any(),
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let n = (op - TUPLE1 + 1) as usize;
                    let items = top(stack, n)?;
                    PyTuple::new(py, items).ok()?.into_any()
                }
                TUPLE => {
                    let items = marked(stack)?;
                    PyTuple::new(py, items).ok()?.into_any()
                }
                EMPTY_LIST => PyList::empty(py).into_any(),
                EMPTY_DICT => PyDict::new(py).into_any(),
                APPEND | APPENDS => {
                    let items = if op == APPEND { top(stack, 1)? } else { marked(stack)? };
                    let Some(Item::Value(list)) = stack.last() else { return None };
                    let list = list.cast_exact::<PyList>().ok()?;
                    for item in items {
                        list.append(item).ok()?;
                    }
                    continue;
                }
                SETITEM | SETITEMS => {
                    let items = if op == SETITEM { top(stack, 2)? } else { marked(stack)? };
                    if items.len() % 2 != 0 {
                        return None;
                    }
                    let Some(Item::Value(dict)) = stack.last() else { return None };
                    let dict = dict.cast_exact::<PyDict>().ok()?;
                    let mut items = items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        // An unhashable key fails here as in pickle: pickle.loads then says so.
                        dict.set_item(k, v).ok()?;
                    }
                    continue;
                }
                _ => return None,
            };
            stack.push(Item::Value(value));
        }
    }
}

/// The `n` values on top of `stack`, taken off it (`None` if a mark is among them).
fn top<'py>(stack: &mut Vec<Item<'py>>, n: usize) -> Option<Vec<Bound<'py, PyAny>>> {
    let from = stack.len().checked_sub(n)?;
    stack.drain(from..).map(|item| if let Item::Value(v) = item { Some(v) } else { None }).collect()
}

/// The values above the topmost mark, taken off the stack with the mark.
fn marked<'py>(stack: &mut Vec<Item<'py>>) -> Option<Vec<Bound<'py, PyAny>>> {
    let mark = stack.iter().rposition(|item| matches!(item, Item::Mark))?;
    let items = top(stack, stack.len() - mark - 1)?;
    stack.pop();
    Some(items)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let bytes = self.data.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }
    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }
    /// The length after a sized opcode: one byte (`short`), four (`long`) or eight.
    fn size(&mut self, op: u8, short: u8, long: u8) -> Option<usize> {
        if op == short {
            Some(self.byte()? as usize)
        } else if op == long {
            Some(self.u32()? as usize)
        } else {
            usize::try_from(u64::from_le_bytes(self.array()?)).ok()
        }
    }
}

/// `_parallel.plain_dumps(obj)`: the pickle [`dump`] writes, or `None` (for tests).
#[pyfunction]
#[pyo3(name = "plain_dumps")]
pub(crate) fn dumps<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
    dump(obj).map(|data| PyBytes::new(py, &data))
}

/// `_parallel.plain_loads(data)`: `(True, value)` as [`load`] reads it, or `(False, None)`
/// for a pickle it leaves to `pickle.loads` (for tests).
#[pyfunction]
#[pyo3(name = "plain_loads")]
pub(crate) fn loads<'py>(py: Python<'py>, data: &[u8]) -> (bool, Bound<'py, PyAny>) {
    match Unpickler::new(py).load(data) {
        Some(value) => (true, value),
        None => (false, py.None().into_bound(py)),
    }
}
