//! Calling a user function with one task's parameters: a tuple spreads into arguments.
//!
//! [`TaskFn`] is what lets `map(add, vec![(2, 3), (4, 5)])` call `add(2, 3)`: it is implemented
//! for every `Fn` of 0 to 8 arguments, and — when the call has [extras](crate::Thread::extras) —
//! for every `Fn` that takes those arguments followed by `&Extras`. The `Marker` parameter only
//! tells the implementations apart; it is always inferred.

/// A function that can run one task: called with the task's parameters and the call's extras.
///
/// You never implement this trait: it is implemented for closures and `fn` items of up to 8
/// arguments. How the parameters reach the function depends on its arity:
///
/// | function                    | one task's parameters | call                 |
/// |-----------------------------|-----------------------|----------------------|
/// | `fn(A) -> R`                | `A` (any type)        | `f(a)`               |
/// | `fn(A, B) -> R`             | `(A, B)`              | `f(a, b)`            |
/// | `fn() -> R`                 | `()`                  | `f()`                |
/// | `fn(A, &E) -> R` + extras   | `A`                   | `f(a, &extras)`      |
/// | `fn(A, B, &E) -> R` + extras| `(A, B)`              | `f(a, b, &extras)`   |
///
/// A one-argument function that takes a tuple receives the tuple whole.
///
/// ```
/// fn add(x: i32, y: i32) -> i32 { x + y }
/// fn area((w, h): (u32, u32)) -> u32 { w * h }
///
/// assert_eq!(parallel::map(add, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
/// assert_eq!(parallel::map(area, vec![(2, 3)]).unwrap(), vec![6]);
/// ```
///
/// A function that does not fit the parameters is an error that says how they reach it
/// ("`{closure}` cannot run this call's tasks, whose parameters are `&str`"):
///
/// ```compile_fail,E0277
/// let _ = parallel::map(|s: String| s.len(), vec!["a", "b"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run this call's tasks, whose parameters are `{Args}`",
    note = "a function of one argument takes each input whole; one of n arguments takes n-tuples (`(a, b)` calls `f(a, b)`), with `&E` last when the call has extras; a closure needs its parameters' types written (`|s: &str| s.len()`)",
    note = "the function is shared by the pool's threads: it must be `Send + Sync`"
)]
pub trait TaskFn<Args, Extras, Marker>: Send + Sync {
    /// What the function returns.
    type Output;
    /// Calls the function with one task's parameters and the call's extras.
    fn call(&self, args: Args, extras: &Extras) -> Self::Output;
}

/// Tells apart the implementations for functions that take no extras.
#[doc(hidden)]
pub struct Plain<F>(std::marker::PhantomData<F>);
/// Tells apart the implementations for functions that take `&Extras` last.
#[doc(hidden)]
pub struct WithExtras<F>(std::marker::PhantomData<F>);

// A one-argument function takes the parameters whole, whatever their type.
impl<F, A, R> TaskFn<A, (), Plain<fn(A) -> R>> for F
where
    F: Fn(A) -> R + Send + Sync,
{
    type Output = R;
    fn call(&self, args: A, _: &()) -> R {
        self(args)
    }
}

impl<F, A, E, R> TaskFn<A, E, WithExtras<fn(A, &E) -> R>> for F
where
    F: Fn(A, &E) -> R + Send + Sync,
{
    type Output = R;
    fn call(&self, args: A, extras: &E) -> R {
        self(args, extras)
    }
}

/// Implements `TaskFn` for a tuple of parameters spread into 0 or 2.. arguments.
macro_rules! spread {
    ($($arg:ident),*) => {
        impl<F, $($arg,)* R> TaskFn<($($arg,)*), (), Plain<fn($($arg),*) -> R>> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync,
        {
            type Output = R;
            #[allow(non_snake_case, clippy::unused_unit)]
            fn call(&self, ($($arg,)*): ($($arg,)*), _: &()) -> R {
                self($($arg),*)
            }
        }

        impl<F, $($arg,)* E, R> TaskFn<($($arg,)*), E, WithExtras<fn($($arg,)* &E) -> R>> for F
        where
            F: Fn($($arg,)* &E) -> R + Send + Sync,
        {
            type Output = R;
            #[allow(non_snake_case, clippy::unused_unit)]
            fn call(&self, ($($arg,)*): ($($arg,)*), extras: &E) -> R {
                self($($arg,)* extras)
            }
        }
    };
}

spread!();
spread!(A, B);
spread!(A, B, C);
spread!(A, B, C, D);
spread!(A, B, C, D, G);
spread!(A, B, C, D, G, H);
spread!(A, B, C, D, G, H, J);
spread!(A, B, C, D, G, H, J, K);
