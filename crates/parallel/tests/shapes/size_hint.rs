//! Inputs whose size hint is wrong still give every result in order: values written straight
//! into the output buffer (exact-size inputs of plain values) and values that overflow it are
//! put together correctly, also next to failures.

/// An iterator over `0..len` that claims to have `claimed` items.
struct Lying {
    next: u64,
    len: u64,
    claimed: usize,
}

impl Iterator for Lying {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        (self.next < self.len).then(|| {
            self.next += 1;
            self.next - 1
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

fn lying(len: u64, claimed: usize) -> parallel::traits::Iter<Lying> {
    parallel::iter(Lying { next: 0, len, claimed })
}

#[test]
fn more_items_than_claimed_are_all_returned_in_order() {
    for (len, claimed) in [(10_000, 10), (10_000, 5_000), (3, 1)] {
        let out = parallel::map(|x: u64| x * 3, lying(len, claimed)).unwrap();
        assert_eq!(out, (0..len).map(|x| x * 3).collect::<Vec<_>>(), "len {len}, claimed {claimed}");
    }
}

#[test]
fn fewer_items_than_claimed_give_a_shorter_output() {
    let out = parallel::map(|x: u64| x + 1, lying(1_000, 50_000)).unwrap();
    assert_eq!(out, (1..=1_000).collect::<Vec<_>>());
    assert!(parallel::map(|x: u64| x, lying(0, 10)).unwrap().is_empty());
}

#[test]
fn failures_next_to_buffered_and_overflowing_values_stay_in_place() {
    let fails = |x: u64| if x % 7 == 3 { panic!("seven") } else { x * 2 };
    for (len, claimed) in [(5_000, 5_000), (5_000, 100), (5_000, 20_000)] {
        let results = parallel::thread().silent().map(fails, lying(len, claimed));
        assert_eq!(results.len(), len as usize);
        for (i, outcome) in results.iter().enumerate() {
            let i = i as u64;
            match outcome {
                Ok(v) => assert_eq!(*v, i * 2),
                Err(failed) => {
                    assert_eq!(i % 7, 3, "only the panicking tasks fail");
                    assert_eq!(failed.index() as u64, i);
                    assert_eq!(failed.params(), i.to_string());
                }
            }
        }
        assert_eq!(results.failed().len() as u64, (0..len).filter(|x| x % 7 == 3).count() as u64);
    }
}

#[test]
fn values_with_drop_glue_take_the_copying_path() {
    let out = parallel::map(|x: u64| x.to_string(), 0..2_000u64).unwrap();
    assert_eq!(out[1_999], "1999");
    let results = parallel::thread().silent().map(|x: u64| if x == 5 { panic!() } else { vec![x] }, 0..10u64);
    assert_eq!(
        results.replace_failed(vec![]),
        (0..10).map(|x| if x == 5 { vec![] } else { vec![x] }).collect::<Vec<_>>()
    );
}
