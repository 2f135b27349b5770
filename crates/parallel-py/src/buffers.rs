//! Pickle protocol 5's out-of-band buffers on their way through shared memory
//! (`parallel::plumbing::Payload`): [`OutOfBand`] picks them out of a pickle as it is made,
//! [`lend`] turns them into the payload's buffers without a copy, and [`shared_list`] hands
//! the buffers that crossed to `pickle.loads` — a NumPy array made from them uses their
//! memory as it is.
//!
//! All of it within the stable ABI of CPython 3.9 (the extension is one `abi3` wheel), where
//! `Py_buffer` and the buffer protocol's functions are not (they are from 3.11):
//!
//! - the bytes of a Python buffer are read through a `memoryview` of it that is held as long as
//!   they are lent ([`Lent`]): the view's own export keeps them alive and in place, and
//!   `PyObject_AsReadBuffer` (stable ABI since 3.2) tells where they are;
//! - memory is handed to Python ([`lend_to_python`]) as a `memoryview` of a `ctypes` array
//!   made `from_address`, the array holding the Rust value that owns the memory: every view
//!   made from that view, by NumPy or anyone, holds the array, so the memory lives as long as
//!   the last of them. (A bare `PyMemoryView_FromMemory` has no owner: the views made from
//!   it would outlive the memory.)

use std::ffi::{c_int, c_void};
use std::sync::Mutex;

use parallel::plumbing::{Buffer, SHARED_FROM};
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyMemoryView};
use pyo3::{ffi, intern};

use crate::pickles::Unpickler;

/// Pickles this large that `pickle` must read are lent to it rather than copied into `bytes`.
pub(crate) const VIEW_FROM: usize = 4096;

/// CPython's `PyBUF_READ`: a read-only `PyMemoryView_FromMemory`.
pub(crate) const PYBUF_READ: c_int = 0x100;

extern "C" {
    /// CPython's `PyObject_AsReadBuffer` (in the stable ABI since 3.2): where the bytes of a
    /// single-segment, C-contiguous buffer are, and how many. The export it takes is released
    /// before it returns: the bytes stay in place only as long as something else holds one.
    fn PyObject_AsReadBuffer(obj: *mut ffi::PyObject, buffer: *mut *const c_void, len: *mut ffi::Py_ssize_t) -> c_int;
}

/// Bytes lent by a Python object, held (with the export it has of them) as long as they are
/// lent: a `memoryview`, or a `bytes`.
pub(crate) struct Lent {
    _holder: Py<PyAny>,
    data: *const u8,
    len: usize,
}

// SAFETY: `data` points into memory that `_holder` keeps alive and in place (see `Lent::of`);
// Rust only reads it, and dropping `_holder` without the GIL is deferred by PyO3 until a
// thread holds it.
unsafe impl Send for Lent {}
// SAFETY: as above: shared references only read it.
unsafe impl Sync for Lent {}

impl Lent {
    /// The bytes of `holder`: a `memoryview` held by nothing else (a `PickleBuffer`'s `raw()`,
    /// C-contiguous bytes), or a `bytes`.
    fn of(holder: &Bound<'_, PyAny>) -> PyResult<Lent> {
        if let Ok(bytes) = holder.cast::<PyBytes>() {
            let b = bytes.as_bytes();
            return Ok(Lent { _holder: holder.clone().unbind(), data: b.as_ptr(), len: b.len() });
        }
        let (mut data, mut len): (*const c_void, ffi::Py_ssize_t) = (std::ptr::null(), 0);
        // SAFETY: the GIL is held and `holder` is a live object; the two out-pointers are
        // valid. The answer is checked; what it points to is read only while `holder` lives.
        if unsafe { PyObject_AsReadBuffer(holder.as_ptr(), &mut data, &mut len) } != 0 {
            return Err(PyErr::fetch(holder.py()));
        }
        Ok(Lent { _holder: holder.clone().unbind(), data: data.cast(), len: len as usize })
    }
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `_holder` is a `bytes` (immutable, its bytes in place as long as it lives)
        // or a `memoryview` whose export of the exporter's memory keeps it alive and in place
        // until the view is released — never, while it is held here (nothing else has it);
        // `len` bytes from `data`, C-contiguous. Only reads happen here; the caller's objects
        // must not change while the call runs (as with any executor).
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

/// The `buffer_callback` of `pickle.dumps`: keeps the buffers of [`SHARED_FROM`] bytes or
/// more out of band (it returns `False` for them, and holds their bytes), and lets smaller
/// ones, and those that are not contiguous, go into the pickle (`True`).
#[pyclass(frozen, module = "parallel._parallel", name = "OutOfBand")]
pub(crate) struct OutOfBand {
    taken: Mutex<Vec<Lent>>,
}

#[pymethods]
impl OutOfBand {
    #[new]
    pub(crate) fn new() -> Self {
        OutOfBand { taken: Mutex::new(Vec::new()) }
    }

    fn __call__(&self, buffer: &Bound<'_, PyAny>) -> bool {
        // `raw()`: a new view of the buffer's bytes, contiguous ('B' items), or an error if
        // they are not.
        let Ok(raw) = buffer.call_method0(intern!(buffer.py(), "raw")) else { return true };
        match Lent::of(&raw) {
            Ok(lent) if lent.len >= SHARED_FROM => {
                self.taken.lock().unwrap_or_else(|e| e.into_inner()).push(lent);
                false
            }
            _ => true,
        }
    }
}

impl OutOfBand {
    /// The buffers kept out of band so far, in the pickle's order (taken).
    pub(crate) fn take(&self) -> Vec<Lent> {
        std::mem::take(&mut *self.taken.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `pickle.dumps(obj, protocol, buffer_callback=self)`, and the buffers it kept out.
    pub(crate) fn dumps<'py>(
        &self,
        dumps: &Bound<'py, PyAny>,
        obj: &Bound<'py, PyAny>,
        protocol: &Bound<'py, PyAny>,
        this: &Bound<'py, OutOfBand>,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<Lent>)> {
        let kwargs = PyDict::new(obj.py());
        kwargs.set_item("buffer_callback", this)?;
        let pickled = dumps.call((obj, protocol), Some(&kwargs));
        let taken = self.take();
        Ok((pickled?.cast_into::<PyBytes>()?, taken))
    }
}

/// The buffers of a payload, lent without a copy: the views [`OutOfBand`] kept, or the
/// `bytes` objects a lending [`Pickler`](crate::pickles::Pickler) wrote out of band.
pub(crate) fn lend(py: Python<'_>, views: Vec<Lent>, bytes: Vec<Py<PyBytes>>) -> PyResult<Vec<Buffer>> {
    if views.is_empty() && bytes.is_empty() {
        return Ok(Vec::new()); // most values: nothing out of band
    }
    let mut buffers: Vec<Buffer> = views.into_iter().map(Buffer::lent).collect();
    for b in bytes {
        buffers.push(Buffer::lent(Lent::of(b.bind(py).as_any())?));
    }
    Ok(buffers)
}

/// `ctypes.c_ubyte`, whose arrays made `from_address` lend memory to Python.
static C_UBYTE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A `memoryview` of the `len` bytes at `data` (format `B`, one dimension; read-only if
/// `readonly`), and of every view made from it, that keep `owner` alive as long as any of them
/// lives: a view of a `ctypes` array over the bytes, which holds `owner`. A read-only one is
/// seen through a `pickle.PickleBuffer` of a read-only view, so that its `obj` is that view
/// (the array itself would give writable views).
///
/// # Safety
/// `owner` keeps the bytes alive and in place as long as it lives, and nothing else writes
/// them (nor reads them, unless `readonly`) meanwhile.
unsafe fn lend_to_python<'py>(
    owner: Bound<'py, PyAny>,
    data: *mut u8,
    len: usize,
    readonly: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let py = owner.py();
    let c_ubyte = C_UBYTE.get_or_try_init(py, || py.import("ctypes")?.getattr("c_ubyte").map(Bound::unbind))?;
    let array = c_ubyte.bind(py).mul(len)?.call_method1(intern!(py, "from_address"), (data as usize,))?;
    array.setattr(intern!(py, "_owner"), owner)?;
    let view = PyMemoryView::from(&array)?.call_method1(intern!(py, "cast"), (intern!(py, "B"),))?;
    if !readonly {
        return Ok(view);
    }
    let read_only = view.call_method0(intern!(py, "toreadonly"))?;
    let through = py.import(intern!(py, "pickle"))?.getattr(intern!(py, "PickleBuffer"))?.call1((read_only,))?;
    Ok(PyMemoryView::from(&through)?.into_any())
}

/// A buffer that crossed, handed to `pickle.loads` as one of its `buffers` (in a writable
/// `memoryview`, see [`shared_list`]): it owns the bytes, used in place by what is made from
/// them (a NumPy array); freed (unmapped) when the last view of them is released.
#[pyclass(frozen, module = "parallel._parallel", name = "SharedBuffer")]
pub(crate) struct SharedBuffer {
    /// Owns the bytes; never touched again once `data` is taken from it.
    _buffer: Buffer,
    data: *mut u8,
    len: usize,
}

// SAFETY: `data` points into `_buffer`, which the value owns and which lives (in place: a
// mapping, or a `Vec` never resized) as long as it does; Rust never reads or writes through
// it — only Python, through views it takes with the GIL held.
unsafe impl Send for SharedBuffer {}
// SAFETY: as above.
unsafe impl Sync for SharedBuffer {}

impl SharedBuffer {
    /// A buffer that crossed (it owns its bytes: a lent one has nothing to hand over).
    pub(crate) fn new(mut buffer: Buffer) -> PyResult<Self> {
        let bytes = buffer.as_mut().ok_or_else(|| PyBufferError::new_err("a lent buffer has no bytes of its own"))?;
        let (data, len) = (bytes.as_mut_ptr(), bytes.len());
        Ok(SharedBuffer { _buffer: buffer, data, len })
    }
}

#[pymethods]
impl SharedBuffer {
    fn __len__(&self) -> usize {
        self.len
    }
}

/// `buffers` for `pickle.loads(..., buffers=...)`: each a writable `memoryview` of a
/// [`SharedBuffer`]'s bytes.
pub(crate) fn shared_list(py: Python<'_>, buffers: Vec<Buffer>) -> PyResult<Bound<'_, PyList>> {
    let objects = buffers
        .into_iter()
        .map(|b| {
            let owner = Bound::new(py, SharedBuffer::new(b)?)?;
            let (data, len) = (owner.get().data, owner.get().len);
            // SAFETY: `owner` owns the `len` bytes at `data` and keeps them in place as long as
            // it lives; nothing but Python's views of them reads or writes them.
            unsafe { lend_to_python(owner.into_any(), data, len, false) }
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

/// A value's pickle as the engine handed it over, lent to `loads` (see [`loads_pickled`]).
#[pyclass(frozen, module = "parallel._parallel", name = "Pickled")]
pub(crate) struct Pickled {
    /// Owns the bytes; never touched again once they are lent.
    _bytes: Vec<u8>,
}

/// `loads(pickle)`: the pickle of a value as the engine handed it over, copied into `bytes` if
/// small, else lent without a copy (a large value's pickle is not doubled) in a read-only
/// `memoryview` that keeps it alive as long as a view of it is kept.
pub(crate) fn loads_pickled<'py>(loads: &Bound<'py, PyAny>, mut pickle: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
    let py = loads.py();
    if pickle.len() < VIEW_FROM {
        return loads.call1((PyBytes::new(py, &pickle),));
    }
    let (data, len) = (pickle.as_mut_ptr(), pickle.len());
    // SAFETY: the `Vec` moves into `owner` (its heap bytes stay where they are) and is never
    // touched again; the view is read-only.
    let view = unsafe { lend_to_python(Bound::new(py, Pickled { _bytes: pickle })?.into_any(), data, len, true)? };
    loads.call1((view,))
}

/// The value a pickle with out-of-band `buffers` holds: read by `plain` if it is made of plain
/// values (its large `bytes` made from the buffers), else `pickle.loads(data, buffers=...)`
/// (`loads`), the buffers handed over as [`SharedBuffer`]s. For a worker's arguments and a
/// parent's values alike.
pub(crate) fn load<'py>(
    plain: &mut Unpickler<'py>,
    loads: &Bound<'py, PyAny>,
    data: &[u8],
    buffers: Vec<Buffer>,
) -> PyResult<Bound<'py, PyAny>> {
    let views: Vec<&[u8]> = buffers.iter().map(|b| &**b).collect();
    if let Some(value) = plain.load_with(data, &views) {
        return Ok(value);
    }
    let py = loads.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("buffers", shared_list(py, buffers)?)?;
    loads.call((PyBytes::new(py, data),), Some(&kwargs))
}
