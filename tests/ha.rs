//! A real 3-node OpenBao 2.7.2 raft cluster on loopback (tests/support/raft.rs):
//! the harness itself, and vaultkeeper against it.

mod support;

use serde_json::json;
use support::raft::Cluster;
use support::run::secret;

/// The harness does what the HA tests rely on: three nodes, one active and two
/// standbys that agree on the leader; a killed leader is replaced, the data
/// survives, and the old leader restarts and rejoins as a standby.
#[test]
fn raft_cluster_elects_a_new_leader_and_rejoins_a_restarted_node() {
    let c = Cluster::start(3);
    let leader = c.leader();
    let leader_addr = c.addr(leader);
    for i in 0..3 {
        assert_eq!(
            c.leader_address_seen_by(i).as_deref(),
            Some(leader_addr.as_str()),
            "node {i} does not see node {leader} as the leader"
        );
    }
    let standbys: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    for &i in &standbys {
        assert_eq!(
            support::raft::http_get(c.port(i), "/v1/sys/health").map(|r| r.0),
            Some(429),
            "node {i} should be a standby"
        );
    }
    let value = secret("raft");
    c.admin()
        .kv_put("hosts/ha/db", &json!({ "password": value }));

    c.kill(leader);
    let new = c.wait_leader_not(leader);
    assert!(standbys.contains(&new));
    let got = c
        .admin()
        .cli_json(&["kv", "get", "-mount=secret", "hosts/ha/db"]);
    assert_eq!(got["data"]["data"]["password"], value.as_str());

    c.restart(leader);
    c.wait_health(leader, &[429]);
    assert_eq!(c.leader(), new, "the restarted node must not take over");
    let want = c.addr(new);
    support::daemon::wait_for(
        "the restarted node to follow the new leader",
        std::time::Duration::from_secs(30),
        || (c.leader_address_seen_by(leader)? == want).then_some(()),
    );
}
