#[test]
fn the_process_is_not_dumpable_after_harden() {
    assert!(super::harden().is_empty());
    assert!(!nix::sys::prctl::get_dumpable().unwrap());
    let (soft, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
    assert_eq!((soft, hard), (0, 0));
}
