//! Pickle protocol 5's out-of-band buffers on their way through shared memory
//! (`parallel::plumbing::Payload`): [`OutOfBand`] picks them out of a pickle as it is made,
//! [`lend`] turns them into the payload's buffers without a copy, and [`SharedBuffer`] hands a
//! buffer that crossed to `pickle.loads` — a NumPy array made from it uses its memory as it is.

use std::ffi::{c_int, c_void};
use std::sync::Mutex;

use parallel::plumbing::{Buffer, SHARED_FROM};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::{ffi, IntoPyObjectExt};

use crate::pickles::Unpickler;

/// The `buffer_callback` of `pickle.dumps`: keeps the buffers of [`SHARED_FROM`] bytes or
/// more out of band (it returns `False` for them, and holds their bytes), and lets smaller
/// ones, and those that are not contiguous, go into the pickle (`True`).
#[pyclass(frozen, module = "parallel._parallel", name = "OutOfBand")]
pub(crate) struct OutOfBand {
    taken: Mutex<Vec<PyBuffer<u8>>>,
}

#[pymethods]
impl OutOfBand {
    #[new]
    pub(crate) fn new() -> Self {
        OutOfBand { taken: Mutex::new(Vec::new()) }
    }

    fn __call__(&self, buffer: &Bound<'_, PyAny>) -> bool {
        // `raw()`: the buffer's bytes, contiguous ('B' items), or an error if they are not.
        let Ok(raw) = buffer.call_method0("raw") else { return true };
        match PyBuffer::<u8>::get(&raw) {
            Ok(bytes) if bytes.len_bytes() >= SHARED_FROM && bytes.is_c_contiguous() => {
                self.taken.lock().unwrap_or_else(|e| e.into_inner()).push(bytes);
                false
            }
            _ => true,
        }
    }
}

impl OutOfBand {
    /// The buffers kept out of band so far, in the pickle's order (taken).
    pub(crate) fn take(&self) -> Vec<PyBuffer<u8>> {
        std::mem::take(&mut *self.taken.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `pickle.dumps(obj, protocol, buffer_callback=self)`, and the buffers it kept out.
    pub(crate) fn dumps<'py>(
        &self,
        dumps: &Bound<'py, PyAny>,
        obj: &Bound<'py, PyAny>,
        protocol: &Bound<'py, PyAny>,
        this: &Bound<'py, OutOfBand>,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<PyBuffer<u8>>)> {
        let kwargs = PyDict::new(obj.py());
        kwargs.set_item("buffer_callback", this)?;
        let pickled = dumps.call((obj, protocol), Some(&kwargs));
        let taken = self.take();
        Ok((pickled?.cast_into::<PyBytes>()?, taken))
    }
}

/// Bytes lent by a Python object, as long as the view of them is held.
struct Lent(PyBuffer<u8>);

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the view keeps the exporter's memory alive and in place until it is
        // released (when `self` drops), and it is C-contiguous (checked when it was taken, or
        // a `bytes`): `len_bytes` bytes from `buf_ptr`. Only reads happen here; the caller's
        // objects must not change while the call runs (as with any executor).
        unsafe { std::slice::from_raw_parts(self.0.buf_ptr() as *const u8, self.0.len_bytes()) }
    }
}

/// The buffers of a payload, lent without a copy: the views [`OutOfBand`] kept, or the
/// `bytes` objects a lending [`Pickler`](crate::pickles::Pickler) wrote out of band.
pub(crate) fn lend(py: Python<'_>, views: Vec<PyBuffer<u8>>, bytes: Vec<Py<PyBytes>>) -> PyResult<Vec<Buffer>> {
    if views.is_empty() && bytes.is_empty() {
        return Ok(Vec::new()); // most values: nothing out of band
    }
    let mut buffers: Vec<Buffer> = views.into_iter().map(|v| Buffer::lent(Lent(v))).collect();
    for b in bytes {
        buffers.push(Buffer::lent(Lent(PyBuffer::get(b.bind(py).as_any())?)));
    }
    Ok(buffers)
}

/// A buffer that crossed, handed to `pickle.loads` as one of its `buffers`: writable, its
/// bytes used in place by what is made from it (a NumPy array); freed (unmapped) when the last
/// view of it is released.
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

    /// # Safety
    /// Called by Python with a `view` to fill.
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let (data, len) = (slf.get().data, slf.get().len);
        // SAFETY: `view` is the buffer Python asks to fill; the bytes live as long as `slf`,
        // of which the view takes a reference (`view.obj`), and they are this object's alone:
        // writable (readonly = 0).
        let filled = unsafe {
            ffi::PyBuffer_FillInfo(view, slf.as_ptr(), data as *mut c_void, len as ffi::Py_ssize_t, 0, flags)
        };
        if filled == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}

/// `buffers` for `pickle.loads(..., buffers=...)`: each as a [`SharedBuffer`].
pub(crate) fn shared_list(py: Python<'_>, buffers: Vec<Buffer>) -> PyResult<Bound<'_, PyList>> {
    let objects = buffers
        .into_iter()
        .map(|b| SharedBuffer::new(b).and_then(|b| b.into_bound_py_any(py)))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
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
