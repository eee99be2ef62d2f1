//! Unit tests of spill.rs.

use super::*;

fn area(dir: &Path, limit: u64) -> SpillArea {
    SpillArea {
        dir: dir.to_path_buf(),
        limit,
        used: AtomicU64::new(0),
    }
}

#[test]
fn the_area_refuses_beyond_its_limit_and_takes_back_what_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let a = area(dir.path(), 100);
    assert!(a.reserve(60).is_ok());
    let e = a.reserve(41).unwrap_err().to_string();
    assert_eq!(e, "the spill area is full (audit.spillBytes = 100)");
    assert_eq!(
        a.used.load(Ordering::Relaxed),
        60,
        "a refusal takes nothing"
    );
    a.release(60);
    assert!(a.reserve(100).is_ok());
}

#[test]
fn a_spill_file_gives_lines_back_in_order_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let a = area(dir.path(), 1 << 20);
    let mut f = a.open_file().unwrap();
    assert!(f.is_empty());
    for i in 0..1000 {
        f.push(&format!("line {i}")).unwrap();
    }
    for i in 0..1000 {
        assert_eq!(
            f.pop().unwrap().as_deref(),
            Some(format!("line {i}").as_str())
        );
    }
    assert!(f.is_empty());
    assert_eq!(f.pop().unwrap(), None);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the file is unlinked"
    );
}

#[test]
fn clearing_removes_only_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old"), "x").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    clear_spill_dir(dir.path()).unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("sub")]);
}
