use super::*;

#[test]
fn names_and_numbers() {
    assert_eq!(resolve_user("root").unwrap(), Uid::from_raw(0));
    assert_eq!(resolve_user("1234").unwrap(), Uid::from_raw(1234));
    assert_eq!(resolve_group("0").unwrap(), Gid::from_raw(0));
    assert!(resolve_user("no-such-user-vk")
        .unwrap_err()
        .contains("does not exist"));
}
