//! Error handling — the README's last section: strict mode (the default) and silent mode.
//!
//! A task fails when its function panics (`map`) or returns `Err` (`try_map`). By default the
//! call stops at the first failure in input order and returns it as `Err(parallel::Error)`.
//! `.silent()` keeps going and returns `Results`: every task's value or `FailedTask` in its
//! place, with `failures()`, `failed()`, `succeeded()` and `replace_failed(value)`.
//!
//! Python's `add(2, 3)`, `add('a', 5)`, `add('hello ', 'world')` mixes types at run time; Rust
//! does not, so the example uses a small dynamic `Value` and an `add` that returns `Err` on
//! mismatched types — the `TypeError` of the README.
//!
//! Run with `cargo run --release --example errors`.

use std::collections::HashMap;
use std::fmt;

use parallel::{FailureKind, Results};

/// A Python-like value: an int or a str.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(i64),
    Str(String),
}

use Value::{Int, Str};

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Int(_) => "int",
            Str(_) => "str",
        }
    }
}

/// Python's `TypeError`.
#[derive(Debug)]
struct TypeError(String);

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypeError: {}", self.0)
    }
}

fn add(x: Value, y: Value) -> Result<Value, TypeError> {
    match (x, y) {
        (Int(x), Int(y)) => Ok(Int(x + y)),
        (Str(x), Str(y)) => Ok(Str(x + &y)),
        (x, y) => {
            Err(TypeError(format!("unsupported operand type(s) for +: '{}' and '{}'", x.type_name(), y.type_name())))
        }
    }
}

fn s(text: &str) -> Value {
    Str(text.to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let inputs = vec![
        (Int(2), Int(3)),
        (s("a"), Int(5)), // will fail
        (s("hello "), s("world")),
    ];

    // --- Silent mode ---------------------------------------------------------------------------
    let results: Results<_, Value> = parallel::thread().silent().try_map(add, inputs.clone());
    println!("results.failures()      -> {}", results.failures());
    assert!(results.failures());

    // r1, r2, r3 = results
    let (r1, r2, r3) = (&results[0], &results[1], &results[2]);
    assert_eq!(r1, &Ok(Int(5)));
    assert_eq!(r3, &Ok(s("hello world")));

    // r2 is the FailedTask: which input, its parameters (Debug-formatted), how and why.
    let failed = r2.as_ref().unwrap_err();
    println!("r2                      -> {failed}");
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.params(), r#"(Str("a"), Int(5))"#);
    assert_eq!(*failed.kind(), FailureKind::Error);
    assert_eq!(failed.message(), "TypeError: unsupported operand type(s) for +: 'str' and 'int'");

    // failed() / succeeded(): the failed tasks and the values, in input order.
    println!("results.failed()        -> {} task, index {}", results.failed().len(), results.failed()[0].index());
    println!("results.succeeded()     -> {:?}", results.succeeded());
    assert_eq!(results.failed(), vec![failed]);
    assert_eq!(results.succeeded(), vec![&Int(5), &s("hello world")]);

    // Python's `replace_failed(None)`: Rust's values have one type, so the replacement is a
    // value of that type — or turn each outcome into an Option first.
    let as_options: Vec<Option<Value>> = results.iter().map(|r| r.as_ref().ok().cloned()).collect();
    assert_eq!(as_options, [Some(Int(5)), None, Some(s("hello world"))]);
    let replaced = results.replace_failed(Int(0));
    println!("replace_failed(Int(0))  -> {replaced:?}");
    assert_eq!(replaced, [Int(5), Int(0), s("hello world")]);

    // --- Strict mode (the default): the first failure is the call's error ---------------------
    let err = parallel::try_map(add, inputs).unwrap_err();
    println!("strict try_map          -> Err: {err}");
    assert_eq!(
        err.to_string(),
        r#"task 1 with parameters (Str("a"), Int(5)) returned an error: TypeError: unsupported operand type(s) for +: 'str' and 'int'"#
    );
    let parallel::Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.index(), 1);

    // Without a failure, try_map unwraps the Ok values.
    let sums = parallel::try_map(add, vec![(Int(1), Int(2)), (s("a"), s("b"))])?;
    assert_eq!(sums, [Int(3), s("ab")]);

    // --- Panics fail their task too (map) ------------------------------------------------------
    // Rust's default panic hook prints every panic to stderr, even a caught one; silence it
    // while tasks are meant to panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let divide = |x: i32, y: i32| x / y; // panics when y == 0
    let strict = parallel::map(divide, vec![(10, 2), (1, 0), (9, 3)]);
    let silent = parallel::thread().silent().map(divide, vec![(10, 2), (1, 0), (9, 3)]);
    let keyed = parallel::thread().silent().map(divide, HashMap::from([("half", (10, 2)), ("oops", (1, 0))]));
    let par = parallel::thread().silent().par((move || divide(8, 4), move || divide(1, 0), || "fine"));
    std::panic::set_hook(default_hook);

    let err = strict.unwrap_err();
    println!("strict map, a panic     -> Err: {err}");
    assert_eq!(err.to_string(), "task 1 with parameters (1, 0) panicked: attempt to divide by zero");
    assert_eq!(silent.replace_failed(-1), [5, -1, 3]);

    // Keyed input: the failure knows its key, and results are looked up by key.
    let oops = keyed.get(&"oops").unwrap().as_ref().unwrap_err();
    println!("silent map over a map   -> oops: {oops}");
    assert_eq!(oops.key(), Some(r#""oops""#)); // the key, Debug-formatted
    assert_eq!(*oops.kind(), FailureKind::Panicked);
    assert_eq!(keyed.get(&"half"), Some(&Ok(5)));

    // Silent par: a tuple of Results, each of its own type.
    let (a, b, c) = par;
    println!("silent par              -> ({a:?}, Err({}), {c:?})", b.as_ref().unwrap_err().kind());
    assert_eq!((a, c), (Ok(2), Ok("fine")));
    assert_eq!(*b.unwrap_err().kind(), FailureKind::Panicked);

    // parallel::Error is a std::error::Error: `?` works with Box<dyn Error>, anyhow, etc.
    let boxed: Box<dyn std::error::Error> = err.into();
    assert!(boxed.source().is_some()); // the FailedTask
    Ok(())
}
