use super::*;

#[test]
fn temporary_names_carry_our_pid() {
    let t = temp_tail();
    assert_eq!(pid_of(&t), Some(std::process::id() as i32));
    assert!(!is_dead(std::process::id() as i32));
    assert_eq!(pid_of("0123456789abcdef"), None);
    // A pid that cannot exist.
    assert!(is_dead(i32::MAX - 1));
}

#[test]
fn temporaries_of_dead_writers_are_removed_live_ones_kept() {
    let t = tempfile::tempdir().unwrap();
    let dir = crate::fs::open_dir_nofollow(t.path()).unwrap();
    let dead = format!(".x.json.tmp-{}-0123456789abcdef", i32::MAX - 1);
    let live = format!(".x.json.tmp-{}", temp_tail());
    for n in [&dead, &live, &"x.json".to_string()] {
        std::fs::write(t.path().join(n), "").unwrap();
    }
    let prefixes = [".x.json.tmp-".to_string()];
    assert_eq!(remove_temporaries(&dir, t.path(), &prefixes, false), 1);
    assert!(t.path().join(&live).exists() && !t.path().join(&dead).exists());
    assert_eq!(remove_temporaries(&dir, t.path(), &prefixes, true), 1);
    assert!(t.path().join("x.json").exists());
}
