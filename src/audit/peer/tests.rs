//! Unit tests of peer.rs.

use super::*;
use std::net::TcpListener;

#[test]
fn proc_net_tcp_rows_parse() {
    let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000   992        0 4242 1 0 20 4 30 10 -1\n\
             1: 0100007F:A001 0100007F:1F90 06 00000000:00000000 03:00000000 00000000     0        0 0 3\n";
    let ours: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    assert_eq!(
        find_owner(t, ours, "127.0.0.1:40960".parse().unwrap()),
        Some(992)
    );
    assert_eq!(
        find_owner(t, ours, "127.0.0.1:40961".parse().unwrap()),
        None,
        "TIME_WAIT rows (no inode) prove nothing"
    );
    let v6 = "  sl  local_address                         remote_address                        st\n\
              0: 0000000000000000FFFF00000100007F:A002 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000 0 77 1\n";
    assert_eq!(
        find_owner(v6, ours, "[::ffff:127.0.0.1]:40962".parse().unwrap()),
        Some(1000)
    );
}

#[test]
fn unix_peers_by_uid_or_socket_group() {
    let mut p = PeerPolicy::resolve(&["992".into()], &[]).unwrap();
    assert!(p.check_unix(992, 5).is_ok());
    assert!(p.check_unix(1000, 5).is_err());
    p.socket_gid = Some(5);
    assert!(p.check_unix(1000, 5).is_ok());
    assert_eq!(
        p.check_unix(1000, 6).unwrap_err(),
        "uid 1000 (group 6) is neither an allowed peer user nor in audit.socketGroup"
    );
}

#[test]
fn our_own_loopback_connection_is_found_with_our_uid() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = l.local_addr().unwrap();
    let _c = std::net::TcpStream::connect(ours).unwrap();
    let (_s, peer) = l.accept().unwrap();
    let me = nix::unistd::geteuid().as_raw();
    assert_eq!(diag::owner(ours, peer).unwrap(), Some(me), "sock_diag");
    assert_eq!(
        proc_peer_uid(ours, peer).unwrap(),
        Some(me),
        "/proc/net/tcp"
    );
    assert_eq!(tcp_peer_uid(ours, peer).unwrap(), Some(me));
    let nobody: SocketAddr = "127.0.0.1:1".parse().unwrap();
    assert_eq!(diag::owner(ours, nobody).unwrap(), None);
    let p = PeerPolicy::resolve(&[], &[]).unwrap();
    assert!(p.check_tcp(ours, peer).is_ok());
    let strict = PeerPolicy::resolve(&["4242".into()], &[]).unwrap();
    assert_eq!(
        strict.check_tcp(ours, peer).unwrap_err(),
        format!("uid {me} is not an allowed peer user")
    );
    let remote: SocketAddr = "10.1.2.3:5555".parse().unwrap();
    assert!(p.check_tcp(ours, remote).is_err());
    let allow = PeerPolicy::resolve(&[], &[Cidr::parse("10.1.2.0/24").unwrap()]).unwrap();
    assert!(allow.check_tcp(ours, remote).is_ok());
    assert!(PeerPolicy::resolve(&["no-such-user-vk".into()], &[])
        .unwrap_err()
        .to_string()
        .contains("does not exist"));
}
