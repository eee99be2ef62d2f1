//! The health transitions ([`super::next_health`]), every one of them.

use super::{next_health, serving, Health, Seen};

const ALL: [Health; 5] = [
    Health::Pending,
    Health::Fresh,
    Health::BootCache,
    Health::FromCache,
    Health::Failed,
];

#[test]
fn vault_answering_makes_any_secret_fresh_or_failed() {
    for old in ALL {
        assert_eq!(next_health(old, Seen::Same), Health::Fresh, "{old:?}");
        assert_eq!(
            next_health(old, Seen::Fresh { boot_cache: false }),
            Health::Fresh
        );
        assert_eq!(next_health(old, Seen::Failed), Health::Failed);
        assert_eq!(next_health(old, Seen::FromCache), Health::FromCache);
    }
}

#[test]
fn an_outage_moves_only_what_was_serving_current_data_to_the_cache() {
    assert_eq!(
        next_health(Health::Fresh, Seen::Unreachable),
        Health::FromCache
    );
    assert_eq!(
        next_health(Health::BootCache, Seen::Unreachable),
        Health::FromCache
    );
    for old in [Health::Pending, Health::FromCache, Health::Failed] {
        assert_eq!(next_health(old, Seen::Unreachable), old, "{old:?}");
    }
}

#[test]
fn the_boot_cache_is_its_own_state_until_vault_confirms_it() {
    let adopted = next_health(Health::Pending, Seen::Fresh { boot_cache: true });
    assert_eq!(adopted, Health::BootCache);
    assert!(serving(adopted));
    assert_eq!(next_health(adopted, Seen::Same), Health::Fresh);
    assert!(serving(Health::Fresh));
    for h in [Health::Pending, Health::FromCache, Health::Failed] {
        assert!(!serving(h), "{h:?}");
    }
}
