//! Unit tests of builtin.rs: the rule table.

use super::RULES;
use crate::spec::audit::BUILTIN;

/// Every built-in rule of the spec is raised by exactly one function of the
/// table, except `audit-overload` (raised by the engine when lines are lost).
#[test]
fn the_table_covers_every_builtin_rule_once() {
    let mut raised: Vec<&str> = RULES
        .iter()
        .flat_map(|(ids, _)| ids.iter().copied())
        .collect();
    raised.sort_unstable();
    let mut want: Vec<&str> = BUILTIN
        .iter()
        .map(|b| b.0)
        .filter(|id| *id != "audit-overload")
        .collect();
    want.sort_unstable();
    assert_eq!(raised, want);
}
