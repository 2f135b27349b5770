//! Python interpreters as worker processes: [`PyProgram`] says how to start one, and
//! [`run_program`] runs pickled tasks in them on the engine's process executor.

use std::process::Command;

use parallel::plumbing::Program;
use pyo3::prelude::*;

use crate::call::{Call, Options};

/// A program that serves as a worker: `argv`, with `env` added to the environment and `cwd`
/// as working directory. Its live workers can be killed at once (Ctrl-C, interpreter exit).
#[pyclass(module = "parallel._parallel", name = "Program", frozen)]
pub(crate) struct PyProgram(Program);

#[pymethods]
impl PyProgram {
    #[new]
    #[pyo3(signature = (argv, env, cwd=None))]
    fn new(argv: Vec<String>, env: Vec<(String, String)>, cwd: Option<String>) -> PyResult<Self> {
        if argv.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err("a worker program needs at least its executable"));
        }
        Ok(PyProgram(Program::new(move || {
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]).envs(env.iter().map(|(k, v)| (k, v)));
            if let Some(dir) = &cwd {
                command.current_dir(dir);
            }
            command
        })))
    }

    /// Kills every live worker of this program; returns how many.
    fn kill_workers(&self) -> usize {
        self.0.kill_workers()
    }
}

/// Starts a call on the process executor: one task per element of `params` (each task's
/// pickled arguments), all calling the pickled `function` with the pickled `extras`, in
/// workers of `program`.
#[pyfunction]
#[pyo3(signature = (program, function, extras, params, max_workers=None, timeout=None, task_timeout=None, silent=false, memory_limit=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn run_program(
    program: &PyProgram,
    function: Vec<u8>,
    extras: Vec<u8>,
    params: Vec<Vec<u8>>,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    task_timeout: Option<f64>,
    silent: bool,
    memory_limit: Option<u64>,
) -> PyResult<Call> {
    let options = Options::new(max_workers, timeout, task_timeout, silent)?;
    let mut executor = options.apply(parallel::process());
    if let Some(bytes) = memory_limit {
        executor = executor.memory_limit(bytes);
    }
    let program = program.0.clone();
    Ok(if silent {
        let handle = executor.silent().async_run_program(&program, &function, &extras, params);
        Call::silent(handle, Some(program))
    } else {
        Call::strict(executor.async_run_program(&program, &function, &extras, params), Some(program))
    })
}
