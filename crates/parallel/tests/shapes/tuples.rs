//! Tuples spread into arguments for functions of 0 to 8 arguments (with or without extras);
//! a one-argument function that takes a tuple receives it whole.

use parallel::FailureKind;

fn zero() -> &'static str {
    "zero"
}
fn one(a: i32) -> i32 {
    -a
}
fn two(a: i32, b: i32) -> i32 {
    a + b
}
fn three(a: i32, b: &str, c: bool) -> String {
    format!("{a}{b}{c}")
}
fn four(a: u8, b: u16, c: u32, d: u64) -> u64 {
    u64::from(a) + u64::from(b) + u64::from(c) + d
}
fn five(a: char, b: char, c: char, d: char, e: char) -> String {
    [a, b, c, d, e].iter().collect()
}
fn six(a: i64, b: i64, c: i64, d: i64, e: i64, f: i64) -> i64 {
    a * b * c * d * e * f
}
fn seven(a: String, b: Vec<u8>, c: Option<i32>, d: f64, e: (i32, i32), f: usize, g: &'static str) -> String {
    format!("{a}|{b:?}|{c:?}|{d}|{e:?}|{f}|{g}")
}
#[allow(clippy::too_many_arguments)]
fn eight(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8) -> Vec<u8> {
    vec![a, b, c, d, e, f, g, h]
}

#[test]
fn zero_arguments_take_unit_inputs() {
    assert_eq!(parallel::map(zero, vec![(), (), ()]).unwrap(), vec!["zero"; 3]);
    assert_eq!(parallel::map(|| 7, [(); 4]).unwrap(), vec![7; 4]);
}

#[test]
fn one_argument() {
    assert_eq!(parallel::map(one, vec![1, 2, 3]).unwrap(), vec![-1, -2, -3]);
}

#[test]
fn two_arguments() {
    assert_eq!(parallel::map(two, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
    // Closures spread too.
    assert_eq!(parallel::map(|a: i32, b: i32| a * b, vec![(2, 3), (4, 5)]).unwrap(), vec![6, 20]);
}

#[test]
fn three_to_eight_arguments() {
    assert_eq!(parallel::map(three, vec![(1, "x", true), (2, "y", false)]).unwrap(), vec!["1xtrue", "2yfalse"]);
    assert_eq!(parallel::map(four, vec![(1, 2, 3, 4), (10, 20, 30, 40)]).unwrap(), vec![10, 100]);
    assert_eq!(parallel::map(five, vec![('h', 'e', 'l', 'l', 'o')]).unwrap(), vec!["hello"]);
    assert_eq!(parallel::map(six, vec![(1, 2, 3, 4, 5, 6), (1, 1, 1, 1, 1, -1)]).unwrap(), vec![720, -1]);
    let sevens = parallel::map(seven, vec![("s".to_owned(), vec![1, 2], Some(3), 0.5, (4, 5), 6, "g")]).unwrap();
    assert_eq!(sevens, vec!["s|[1, 2]|Some(3)|0.5|(4, 5)|6|g"]);
    assert_eq!(parallel::map(eight, vec![(1, 2, 3, 4, 5, 6, 7, 8)]).unwrap(), vec![vec![1, 2, 3, 4, 5, 6, 7, 8]]);
}

#[test]
fn a_one_argument_function_taking_a_tuple_receives_it_whole() {
    fn area((w, h): (u32, u32)) -> u32 {
        w * h
    }
    assert_eq!(parallel::map(area, vec![(2, 3), (4, 5)]).unwrap(), vec![6, 20]);
    let swap = |pair: (char, i32)| (pair.1, pair.0);
    assert_eq!(parallel::map(swap, vec![('a', 1), ('b', 2)]).unwrap(), vec![(1, 'a'), (2, 'b')]);
    let whole = |t: (u8, u8, u8, u8, u8, u8, u8, u8)| t.7;
    assert_eq!(parallel::map(whole, vec![(1, 2, 3, 4, 5, 6, 7, 8)]).unwrap(), vec![8]);
}

#[test]
fn nested_tuples_spread_one_level() {
    let f = |point: (i32, i32), scale: i32| (point.0 * scale, point.1 * scale);
    assert_eq!(parallel::map(f, vec![((1, 2), 3), ((4, 5), -1)]).unwrap(), vec![(3, 6), (-4, -5)]);
}

#[test]
fn zip_and_enumerate_make_argument_tuples() {
    let xs = vec![1, 2, 3];
    let ys = vec![10, 20, 30];
    assert_eq!(parallel::map(two, xs.into_iter().zip(ys)).unwrap(), vec![11, 22, 33]);
    let labelled = parallel::map(|i: usize, s: &str| format!("{i}:{s}"), ["a", "b"].into_iter().enumerate()).unwrap();
    assert_eq!(labelled, vec!["0:a", "1:b"]);
}

#[test]
fn every_arity_with_extras_last() {
    struct Base(i32);
    let t = parallel::thread().extras(Base(100));
    assert_eq!(t.map(|b: &Base| b.0, vec![(), ()]).unwrap(), vec![100, 100]);
    assert_eq!(t.map(|a: i32, b: &Base| a + b.0, vec![1]).unwrap(), vec![101]);
    assert_eq!(t.map(|a: i32, c: i32, b: &Base| a + c + b.0, vec![(1, 2)]).unwrap(), vec![103]);
    assert_eq!(t.map(|a: i32, c: i32, d: i32, b: &Base| a + c + d + b.0, vec![(1, 2, 3)]).unwrap(), vec![106]);
    let four = |a: i32, c: i32, d: i32, e: i32, b: &Base| a + c + d + e + b.0;
    assert_eq!(t.map(four, vec![(1, 2, 3, 4)]).unwrap(), vec![110]);
    let five = |a: i32, c: i32, d: i32, e: i32, f: i32, b: &Base| a + c + d + e + f + b.0;
    assert_eq!(t.map(five, vec![(1, 2, 3, 4, 5)]).unwrap(), vec![115]);
    let six = |a: i32, c: i32, d: i32, e: i32, f: i32, g: i32, b: &Base| a + c + d + e + f + g + b.0;
    assert_eq!(t.map(six, vec![(1, 2, 3, 4, 5, 6)]).unwrap(), vec![121]);
    let seven = |a: i32, c: i32, d: i32, e: i32, f: i32, g: i32, h: i32, b: &Base| a + c + d + e + f + g + h + b.0;
    assert_eq!(t.map(seven, vec![(1, 2, 3, 4, 5, 6, 7)]).unwrap(), vec![128]);
    let eight =
        |a: i32, c: i32, d: i32, e: i32, f: i32, g: i32, h: i32, i: i32, b: &Base| a + c + d + e + f + g + h + i + b.0;
    assert_eq!(t.map(eight, vec![(1, 2, 3, 4, 5, 6, 7, 8)]).unwrap(), vec![136]);
}

#[test]
fn a_failure_reports_the_whole_tuple() {
    fn divide(a: i32, b: i32) -> i32 {
        a / b
    }
    let err = parallel::map(divide, vec![(6, 3), (1, 0)]).unwrap_err();
    let parallel::Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.params(), "(1, 0)");
    assert_eq!(*failed.kind(), FailureKind::Panicked);

    let results = parallel::thread().silent().map(three, vec![(1, "a", true)]);
    assert_eq!(results[0], Ok("1atrue".to_owned()));
}

#[test]
fn try_map_spreads_tuples_too() {
    fn checked(a: u8, b: u8) -> Result<u8, String> {
        a.checked_add(b).ok_or_else(|| format!("{a} + {b} overflows"))
    }
    assert_eq!(parallel::try_map(checked, vec![(1, 2), (3, 4)]).unwrap(), vec![3, 7]);
    let err = parallel::try_map(checked, vec![(1, 2), (200, 100)]).unwrap_err();
    assert_eq!(err.to_string(), "task 1 with parameters (200, 100) returned an error: 200 + 100 overflows");
}
