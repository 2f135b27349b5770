//! Maps in, maps out: a `HashMap` or `BTreeMap` of parameters gives the same kind of map back,
//! with the same keys; failures name their key; silent results are looked up by key.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::thread::sleep;
use std::time::Duration;

use parallel::FailureKind;

fn download_and_store(url: &str, expected_code: u16) -> String {
    format!("{url}: {expected_code}")
}

#[test]
fn hash_map_gives_a_hash_map_with_the_same_keys() {
    let sites = HashMap::from([("python", ("python.org", 204)), ("rmotr", ("rmotr.com", 201))]);
    let results: HashMap<&str, String> = parallel::map(download_and_store, sites).unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results["python"], "python.org: 204");
    assert_eq!(results["rmotr"], "rmotr.com: 201");
}

#[test]
fn btree_map_gives_a_btree_map_with_the_same_keys() {
    let inputs: BTreeMap<String, u64> = (0..50).map(|i| (format!("key{i:02}"), i)).collect();
    let results: BTreeMap<String, u64> = parallel::map(|x: u64| x * x, inputs.clone()).unwrap();
    assert_eq!(results.keys().collect::<Vec<_>>(), inputs.keys().collect::<Vec<_>>());
    for (key, x) in &inputs {
        assert_eq!(results[key], x * x, "wrong value under {key}");
    }
}

#[test]
fn each_key_gets_its_own_value_when_tasks_finish_out_of_order() {
    // Later keys finish first.
    let inputs: HashMap<u32, u32> = (0..20).map(|k| (k, 100 + k)).collect();
    let slow_first = |v: u32| {
        sleep(Duration::from_millis(u64::from(120 - v) * 2));
        v * 3
    };
    let results = parallel::thread().max_workers(20).map(slow_first, inputs).unwrap();
    assert_eq!(results.len(), 20);
    for k in 0..20 {
        assert_eq!(results[&k], (100 + k) * 3, "wrong value under {k}");
    }
}

#[test]
fn many_keys() {
    let inputs: HashMap<String, usize> = (0..20_000).map(|i| (i.to_string(), i)).collect();
    let results = parallel::map(|x: usize| x + 1, inputs).unwrap();
    assert_eq!(results.len(), 20_000);
    for i in 0..20_000 {
        assert_eq!(results[&i.to_string()], i + 1);
    }
}

#[test]
fn hash_map_with_another_hasher_keeps_its_type() {
    type Fixed = BuildHasherDefault<DefaultHasher>;
    let mut inputs: HashMap<&str, i32, Fixed> = HashMap::default();
    inputs.insert("a", 1);
    inputs.insert("b", 2);
    let results: HashMap<&str, i32, Fixed> = parallel::map(|x: i32| -x, inputs).unwrap();
    assert_eq!(results["a"], -1);
    assert_eq!(results["b"], -2);
}

#[test]
fn a_strict_failure_names_its_key() {
    let inputs = HashMap::from([("good", 4), ("bad", 0), ("fine", 2)]);
    let err = parallel::map(|x: i32| 100 / x, inputs).unwrap_err();
    let parallel::Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.key(), Some("\"bad\""));
    assert_eq!(failed.params(), "0");
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    let text = err.to_string();
    assert!(text.starts_with("task \"bad\" with parameters 0 panicked"), "{text}");
}

#[test]
fn a_btree_failure_has_the_key_and_the_sorted_index() {
    let inputs = BTreeMap::from([("c", "3"), ("a", "1"), ("b", "x")]);
    let err = parallel::try_map(|s: &str| s.parse::<i32>(), inputs).unwrap_err();
    let parallel::Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.key(), Some("\"b\""));
    assert_eq!(failed.index(), 1, "b is the second key in order");
    assert_eq!(failed.params(), "\"x\"");
    assert_eq!(*failed.kind(), FailureKind::Error);
    assert_eq!(failed.message(), "invalid digit found in string");
}

#[test]
fn silent_results_are_looked_up_by_key() {
    let inputs = HashMap::from([("ten", 10), ("zero", 0), ("five", 5)]);
    let results = parallel::thread().silent().map(|x: i32| 100 / x, inputs);
    assert_eq!(results.len(), 3);
    assert_eq!(results.get(&"ten"), Some(&Ok(10)));
    assert_eq!(results.get(&"five"), Some(&Ok(20)));
    let failed = results.get(&"zero").unwrap().as_ref().unwrap_err();
    assert_eq!(failed.key(), Some("\"zero\""));
    assert_eq!(failed.params(), "0");
    assert_eq!(results.get(&"missing"), None);
    assert_eq!(results.failed().len(), 1);

    let filled: HashMap<&str, i32> = results.replace_failed(-1);
    assert_eq!(filled, HashMap::from([("ten", 10), ("zero", -1), ("five", 20)]));
}

#[test]
fn silent_btree_results_convert_back_to_a_map() {
    let inputs = BTreeMap::from([(1, 'a'), (2, 'b'), (3, 'c')]);
    let results = parallel::thread().silent().map(|c: char| c.to_ascii_uppercase(), inputs);
    assert!(!results.failures());
    assert_eq!(results.get(&2), Some(&Ok('B')));
    let map: BTreeMap<i32, char> = results.into_result().unwrap();
    assert_eq!(map, BTreeMap::from([(1, 'A'), (2, 'B'), (3, 'C')]));
}

#[test]
fn into_result_of_a_keyed_call_gives_the_failure() {
    let inputs = BTreeMap::from([("a", 1u8), ("b", 0u8)]);
    let results = parallel::thread().silent().map(|x: u8| 10 / x, inputs);
    let err = results.into_result().unwrap_err();
    let parallel::Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.key(), Some("\"b\""));
}
